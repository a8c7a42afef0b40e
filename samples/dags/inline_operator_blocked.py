"""A custom operator defined in the DAG file itself: the one thing af2kfp cannot convert.

Many repositories grow small operators next to their DAGs. ``execute`` is arbitrary
Python on an Airflow ``BaseOperator``, and the class is not in any Airflow image the
fallback could run it in, so the task becomes a failing placeholder (finding M201) and
the DAG is *blocked* in the reports until someone maps the class
(``[tool.af2kfp.operators]``, see ``docs/custom-operators.md``) or rewrites it.
"""

from datetime import datetime

from airflow.models.baseoperator import BaseOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG


class WarehouseSnapshotOperator(BaseOperator):
    """Copy a warehouse table to the snapshot bucket through the team's client library."""

    template_fields = ("table",)

    def __init__(self, table: str, bucket: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.table = table
        self.bucket = bucket

    def execute(self, context):
        from acme_warehouse import snapshot  # the team's internal client

        return snapshot(self.table, f"gs://{self.bucket}/{context['ds']}/")


with DAG(
    dag_id="inline_operator_blocked",
    schedule="@weekly",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["warehouse"],
) as dag:
    snapshot_orders = WarehouseSnapshotOperator(
        task_id="snapshot_orders",
        table="sales.orders",
        bucket="acme-warehouse-snapshots",
    )
    verify = BashOperator(task_id="verify_snapshot", bash_command="gsutil ls gs://acme-warehouse-snapshots/")
    snapshot_orders >> verify
