"""KFP v2 pipeline for the Airflow DAG events_daily_compaction, converted by af2kfp.

Airflow source: samples/dags/two_dags_ingest_compact.py:36
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def compact_partitions():
    return dsl.ContainerSpec(
        image="registry.example.com/lake/tools:4.1.0",
        command=["lakectl"],
        args=["compact", "s3://acme-lake/events/raw/", "--target-size", "512MB"],
    )


@dsl.container_component
def expire_snapshots():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["lakectl expire s3://acme-lake/events --older-than 7d"],
    )


@dsl.pipeline(
    name="events-daily-compaction",
    description="Converted from Airflow DAG events_daily_compaction (samples/dags/two_dags_ingest_compact.py:36).",
)
def events_daily_compaction():
    # Airflow: samples/dags/two_dags_ingest_compact.py:43 compact_partitions (DockerOperator)
    compact_partitions_task = (
        compact_partitions()
        .set_display_name("compact_partitions")
        .set_caching_options(False)
    )
    compact_partitions_task.set_cpu_limit("4.0")
    compact_partitions_task.set_memory_limit("8Gi")
    kubernetes.set_timeout(compact_partitions_task, seconds=7200)
    # Airflow: samples/dags/two_dags_ingest_compact.py:52 expire_snapshots (BashOperator)
    expire_snapshots_task = (
        expire_snapshots()
        .set_display_name("expire_snapshots")
        .set_caching_options(False)
    )
    expire_snapshots_task.after(compact_partitions_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=events_daily_compaction,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
