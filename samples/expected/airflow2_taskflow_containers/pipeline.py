"""KFP v2 pipeline for the Airflow DAG airflow2_taskflow_containers, converted by af2kfp.

Airflow source: samples/dags/airflow2_taskflow_containers.py:64
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def find_latest_snapshot(xcom: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            'set -o pipefail\n{ lakectl latest s3://acme-lake/marketing/ | tail -1\n} | tee /tmp/af2kfp-stdout || exit $?\nmkdir -p "$(dirname "$0")" && tail -n 1 /tmp/af2kfp-stdout | tr -d "\\n" > "$0"',
            xcom,
        ],
    )


@dsl.component(base_image="python:3.11-slim")
def profile(snapshot: str) -> str:
    """Runs inside python:3.11-slim: row count and columns of the snapshot."""
    import json

    return json.dumps(
        {"snapshot": snapshot, "rows": 52000, "columns": ["id", "campaign", "spend"]}
    )


@dsl.component(base_image="python:3.11")
def quality_null_rate(stats: str) -> float:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    stats = json.loads(stats)

    return 0.0 if stats["rows"] else 1.0


@dsl.component(base_image="python:3.11")
def quality_row_count_ok(stats: str) -> bool:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    stats = json.loads(stats)

    return stats["rows"] > 1000


@dsl.component(base_image="registry.example.com/analytics/attribution:0.7.0")
def attribute(snapshot: str):
    """Runs in a pod: multi-touch attribution over the snapshot."""
    print(f"attributing spend in {snapshot}")


@dsl.pipeline(
    name="airflow2-taskflow-containers",
    description="Converted from Airflow DAG airflow2_taskflow_containers (samples/dags/airflow2_taskflow_containers.py:64).",
)
def airflow2_taskflow_containers():
    # Airflow: samples/dags/airflow2_taskflow_containers.py:25 find_latest_snapshot (BashOperator)
    find_latest_snapshot_task = (
        find_latest_snapshot()
        .set_display_name("find_latest_snapshot")
        .set_caching_options(False)
    )
    find_latest_snapshot_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    # Airflow: samples/dags/airflow2_taskflow_containers.py:59 profile (@task.docker)
    profile_task = (
        profile(snapshot=find_latest_snapshot_task.output)
        .set_display_name("profile")
        .set_caching_options(False)
    )
    profile_task.set_memory_limit("1Gi")
    profile_task.set_retry(num_retries=1, backoff_duration="120s", backoff_factor=1.0)
    # Airflow: samples/dags/airflow2_taskflow_containers.py:46 quality.null_rate (@task)
    quality_null_rate_task = (
        quality_null_rate(stats=profile_task.output)
        .set_display_name("quality.null_rate")
        .set_caching_options(False)
    )
    quality_null_rate_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    # Airflow: samples/dags/airflow2_taskflow_containers.py:46 quality.row_count_ok (@task)
    quality_row_count_ok_task = (
        quality_row_count_ok(stats=profile_task.output)
        .set_display_name("quality.row_count_ok")
        .set_caching_options(False)
    )
    quality_row_count_ok_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    # Airflow: samples/dags/airflow2_taskflow_containers.py:61 attribute (@task.kubernetes)
    attribute_task = (
        attribute(snapshot=find_latest_snapshot_task.output)
        .set_display_name("attribute")
        .set_caching_options(False)
    )
    attribute_task.after(quality_null_rate_task, quality_row_count_ok_task)
    attribute_task.set_retry(num_retries=1, backoff_duration="120s", backoff_factor=1.0)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=airflow2_taskflow_containers,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
