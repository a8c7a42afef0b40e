"""Warehouse loads generated from a list of tables.

Shows a ``for`` loop over a module constant creating tasks with f-string ids, a list
comprehension creating the quality checks, and ``chain`` joining everything.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, chain

TABLES = ["customers", "orders", "order_items", "products", "inventory"]
STAGING_BUCKET = "gs://acme-staging"

with DAG(
    dag_id="warehouse_table_loads",
    schedule="30 1 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=3)},
    tags=["warehouse", "loops"],
) as dag:
    start = EmptyOperator(task_id="start")
    loaded = EmptyOperator(task_id="all_tables_loaded")

    for table in TABLES:
        stage = BashOperator(
            task_id=f"stage_{table}",
            bash_command=f"gsutil -m cp {STAGING_BUCKET}/{table}/*.csv /tmp/{table}/",
        )
        load = BashOperator(
            task_id=f"load_{table}",
            bash_command=f"bq load --replace analytics.{table} /tmp/{table}/*.csv",
            env={"TABLE": table, "DATASET": "analytics"},
        )
        start >> stage >> load >> loaded

    checks = [
        BashOperator(
            task_id=f"check_{table}_not_empty",
            bash_command=f"test $(bq query --format=csv 'select count(*) from analytics.{table}' | tail -1) -gt 0",
        )
        for table in TABLES
        if table != "inventory"
    ]
    report = BashOperator(task_id="send_load_report", bash_command="echo 'all tables loaded'")

    chain(loaded, checks, report)
