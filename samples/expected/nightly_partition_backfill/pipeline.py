"""KFP v2 pipeline for the Airflow DAG nightly_partition_backfill, converted by af2kfp.

Airflow source: samples/dags/nightly_partition_backfill.py:19
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl

# airflow_operator_runner.py: written by af2kfp beside this file; pipeline.yaml carries its text.
AIRFLOW_OPERATOR_RUNNER = (
    Path(__file__).with_name("airflow_operator_runner.py").read_text(encoding="utf-8")
)


@dsl.container_component
def wait_for_export():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.standard.sensors.external_task.ExternalTaskSensor",
            "--dag-id",
            "nightly_partition_backfill",
            "--task-id",
            "wait_for_export",
            "--kwargs",
            '{"external_dag_id": "events_daily_compaction", "external_task_id": "compact", "mode": "reschedule", "timeout": 7200}',
        ],
    )


@dsl.component(base_image="python:3.11")
def backfill_enabled(flag: str) -> bool:
    return bool(flag.lower() == "on")


@dsl.container_component
def rebuild_partition(input_1: str):
    return dsl.ContainerSpec(
        image="registry.example.com/data/partition-tools:1.14.0",
        command=["partition-tools"],
        args=["rebuild", "--table", "events", "--region", input_1],
    )


@dsl.container_component
def analyze_table(input_1: str):
    return dsl.ContainerSpec(image="bash:5.2", command=["bash", "-c"], args=[input_1])


@dsl.container_component
def post_report():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["partition-tools report --channel '#warehouse'"],
    )


@dsl.pipeline(
    name="nightly-partition-backfill",
    description="Converted from Airflow DAG nightly_partition_backfill (samples/dags/nightly_partition_backfill.py:19).",
)
def nightly_partition_backfill():
    # Airflow: samples/dags/nightly_partition_backfill.py:27 wait_for_export (ExternalTaskSensor)
    wait_for_export_task = (
        wait_for_export().set_display_name("wait_for_export").set_caching_options(False)
    )
    wait_for_export_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/nightly_partition_backfill.py:65 backfill_enabled (@task.short_circuit)
    backfill_enabled_task = (
        backfill_enabled(flag="on")
        .set_display_name("backfill_enabled")
        .set_caching_options(False)
    )
    backfill_enabled_task.after(wait_for_export_task)
    backfill_enabled_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    with dsl.If(backfill_enabled_task.output == True):
        with dsl.ParallelFor(
            items=[
                {"arguments_4": "emea"},
                {"arguments_4": "amer"},
                {"arguments_4": "apac"},
            ],
            parallelism=2,
        ) as arguments_item:
            # Airflow: samples/dags/nightly_partition_backfill.py:39 rebuild_partition (KubernetesPodOperator)
            rebuild_partition_task = (
                rebuild_partition(input_1=arguments_item.arguments_4)
                .set_display_name("rebuild_partition")
                .set_caching_options(False)
            )
            rebuild_partition_task.set_retry(
                num_retries=2, backoff_duration="300s", backoff_factor=1.0
            )
        with dsl.ParallelFor(
            items=[
                {"bash_command": "partition-tools analyze events"},
                {"bash_command": "partition-tools analyze sessions"},
            ]
        ) as kwargs_item:
            # Airflow: samples/dags/nightly_partition_backfill.py:52 analyze_table (BashOperator)
            analyze_table_task = (
                analyze_table(input_1=kwargs_item.bash_command)
                .set_display_name("analyze_table")
                .set_caching_options(False)
            )
            analyze_table_task.after(rebuild_partition_task)
            analyze_table_task.set_retry(
                num_retries=2, backoff_duration="300s", backoff_factor=1.0
            )
        # Airflow: samples/dags/nightly_partition_backfill.py:59 post_report (BashOperator)
        post_report_task = (
            post_report().set_display_name("post_report").set_caching_options(False)
        )
        post_report_task.after(analyze_table_task)
        post_report_task.ignore_upstream_failure()
        post_report_task.set_retry(
            num_retries=2, backoff_duration="300s", backoff_factor=1.0
        )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=nightly_partition_backfill,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
