"""Table exports built by a helper in the local ``common`` package.

Shows a DAG file importing ``build_export_task`` from ``common/factories.py`` (the DAG
folder is on ``sys.path`` in Airflow) and calling it in a loop with per-table options.
"""

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from common.factories import build_export_task

EXPORTS = {
    "customers": {"partition_column": None, "memory": "2Gi"},
    "orders": {"partition_column": "order_date", "memory": "4Gi"},
    "clickstream": {"partition_column": "event_date", "memory": "8Gi"},
}

with DAG(
    dag_id="exports_via_factory",
    schedule="0 6 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["exports", "factory"],
) as dag:
    done = EmptyOperator(task_id="exports_done")
    for table, options in EXPORTS.items():
        build_export_task(table, **options) >> done

    build_export_task("products", file_format="csv") >> done
