"""An Airflow 2.x-style TaskFlow DAG running its Python tasks in containers.

Shows the 2.x import paths that Airflow 3 still accepts (``airflow.decorators``,
``airflow.operators.bash``, ``airflow.models.baseoperator.chain``), ``@task.docker``
and ``@task.kubernetes`` (the function body runs inside the given image), a
``@task_group`` whose task ids get the group prefix (``quality.null_rate``), and a
classic operator's ``.output`` (an XComArg) passed into a TaskFlow task.
"""

from datetime import datetime, timedelta

from airflow.decorators import dag, task, task_group
from airflow.models.baseoperator import chain
from airflow.operators.bash import BashOperator


@dag(
    schedule="0 9 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "analytics", "retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["taskflow", "docker", "kubernetes"],
)
def airflow2_taskflow_containers():
    latest = BashOperator(
        task_id="find_latest_snapshot",
        bash_command="lakectl latest s3://acme-lake/marketing/ | tail -1",
        do_xcom_push=True,
    )

    @task.docker(image="python:3.11-slim", mem_limit="1g")
    def profile(snapshot: str) -> dict:
        """Runs inside python:3.11-slim: row count and columns of the snapshot."""
        return {"snapshot": snapshot, "rows": 52000, "columns": ["id", "campaign", "spend"]}

    @task_group
    def quality(stats: dict):
        @task
        def null_rate(stats: dict) -> float:
            return 0.0 if stats["rows"] else 1.0

        @task
        def row_count_ok(stats: dict) -> bool:
            return stats["rows"] > 1000

        return [null_rate(stats), row_count_ok(stats)]

    @task.kubernetes(
        image="registry.example.com/analytics/attribution:0.7.0",
        namespace="analytics",
        name="attribution",
        in_cluster=True,
        get_logs=True,
    )
    def attribute(snapshot: str) -> None:
        """Runs in a pod: multi-touch attribution over the snapshot."""
        print(f"attributing spend in {snapshot}")

    stats = profile(latest.output)
    checks = quality(stats)
    chain(checks, attribute(latest.output))


airflow2_taskflow_containers()
