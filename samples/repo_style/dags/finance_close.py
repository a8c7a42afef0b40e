"""Month-end finance close: dbt snapshots, then the close marts, rebuilt in full."""

from __future__ import annotations

from datetime import datetime

from include.acme_airflow.builders import dbt_model
from include.acme_airflow.operators import DbtOperator
from airflow.sdk import DAG

with DAG(
    dag_id="finance_close",
    schedule="0 3 1 * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["finance", "dbt"],
):
    snapshots = DbtOperator(task_id="dbt_snapshots", command="snapshot")
    close = dbt_model("fct_month_close", full_refresh=True)
    ledger = dbt_model("fct_ledger_balances")
    snapshots >> [close, ledger]
