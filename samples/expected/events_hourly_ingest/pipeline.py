"""KFP v2 pipeline for the Airflow DAG events_hourly_ingest, converted by af2kfp.

Airflow source: samples/dags/two_dags_ingest_compact.py:16
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def pull_events():
    return dsl.ContainerSpec(
        image="registry.example.com/lake/tools:4.1.0",
        args=[
            "ingest",
            "--from",
            "kafka://events",
            "--to",
            "s3://acme-lake/events/raw/",
        ],
    )


@dsl.container_component
def register_partition():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["lakectl register s3://acme-lake/events/raw/"],
    )


@dsl.pipeline(
    name="events-hourly-ingest",
    description="Converted from Airflow DAG events_hourly_ingest (samples/dags/two_dags_ingest_compact.py:16).",
)
def events_hourly_ingest():
    # Airflow: samples/dags/two_dags_ingest_compact.py:23 pull_events (DockerOperator)
    pull_events_task = (
        pull_events().set_display_name("pull_events").set_caching_options(False)
    )
    pull_events_task.set_retry(
        num_retries=3, backoff_duration="60s", backoff_factor=1.0
    )
    # Airflow: samples/dags/two_dags_ingest_compact.py:30 register_partition (BashOperator)
    register_partition_task = (
        register_partition()
        .set_display_name("register_partition")
        .set_caching_options(False)
    )
    register_partition_task.after(pull_events_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=events_hourly_ingest,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
