"""Rebuild yesterday's partitions once the upstream export is done, region by region.

Shows an ``ExternalTaskSensor`` (run as the original sensor through the fallback),
``@task.short_circuit``, ``KubernetesPodOperator.partial().expand(arguments=...)`` with
``max_active_tis_per_dagrun`` (``dsl.ParallelFor`` with ``parallelism``: the arguments
that vary per item become loop fields), ``BashOperator.partial().expand_kwargs(...)``,
and a report task with ``trigger_rule="all_done"`` (``.ignore_upstream_failure()``).
"""

from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
from airflow.sdk import DAG, task

BACKFILL_IMAGE = "registry.example.com/data/partition-tools:1.14.0"

with DAG(
    dag_id="nightly_partition_backfill",
    schedule="15 2 * * *",
    start_date=datetime(2024, 2, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["warehouse", "mapping"],
) as dag:
    export_done = ExternalTaskSensor(
        task_id="wait_for_export",
        external_dag_id="events_daily_compaction",
        external_task_id="compact",
        timeout=2 * 60 * 60,
        mode="reschedule",
    )

    @task.short_circuit
    def backfill_enabled(flag: str) -> bool:
        return flag.lower() == "on"

    rebuild = KubernetesPodOperator.partial(
        task_id="rebuild_partition",
        image=BACKFILL_IMAGE,
        cmds=["partition-tools"],
        max_active_tis_per_dagrun=2,
    ).expand(
        arguments=[
            ["rebuild", "--table", "events", "--region", "emea"],
            ["rebuild", "--table", "events", "--region", "amer"],
            ["rebuild", "--table", "events", "--region", "apac"],
        ]
    )

    analyze = BashOperator.partial(task_id="analyze_table").expand_kwargs(
        [
            {"bash_command": "partition-tools analyze events"},
            {"bash_command": "partition-tools analyze sessions"},
        ]
    )

    report = BashOperator(
        task_id="post_report",
        bash_command="partition-tools report --channel '#warehouse'",
        trigger_rule="all_done",
    )

    export_done >> backfill_enabled("on") >> rebuild >> analyze >> report
