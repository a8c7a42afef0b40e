"""Nightly sales rollups built from two SubDAG sections (Airflow 2.x; Airflow 3 removed SubDagOperator).

Shows ``SubDagOperator`` (``airflow.operators.subdag``) running DAGs built by factories:
``common/subdags.py::region_rollup_subdag`` (a loop over regions, then a merge) and
``publish_subdag`` in this file (a ``with DAG(...)`` block inside a function). The
rollup section gets its own ``default_args`` (more retries), the publish section the
parent's. af2kfp flattens both sections into task groups ``regional_rollups.*`` and
``publish.*`` (finding A117); Airflow 3 reports this file as an import error.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.operators.subdag import SubDagOperator

from common.subdags import ROLLUP_START, region_rollup_subdag

DAG_ID = "subdag_sections"
REGIONS = ["emea", "amer", "apac"]

default_args = {
    "owner": "sales-analytics",
    "retries": 1,
    "retry_delay": timedelta(minutes=5),
}


def check_totals(min_rows: int) -> None:
    """Fail the run when the merged rollup looks truncated."""
    import json
    import pathlib

    rows = json.loads(pathlib.Path("/data/rollups/summary.json").read_text())["rows"]
    if rows < min_rows:
        raise ValueError(f"the rollup has {rows} rows, expected {min_rows} or more")


def publish_subdag(parent_dag_id: str, task_id: str, args: dict) -> DAG:
    """Export the rollup to the finance share, then tell finance it is there."""
    with DAG(
        dag_id=f"{parent_dag_id}.{task_id}",
        default_args=args,
        schedule="@daily",
        start_date=ROLLUP_START,
        catchup=False,
    ) as subdag:
        export = BashOperator(
            task_id="export_parquet",
            bash_command="rollup-export --format parquet --date {{ ds }} --to /mnt/finance/rollups",
        )
        notify = BashOperator(
            task_id="notify_finance",
            bash_command="notify --channel finance-data --text 'Sales rollup {{ ds }} published'",
        )
        export >> notify
    return subdag


with DAG(
    dag_id=DAG_ID,
    default_args=default_args,
    schedule="@daily",
    start_date=ROLLUP_START,
    catchup=False,
    tags=["sales", "airflow2"],
) as dag:
    start = EmptyOperator(task_id="start")

    extract = BashOperator(
        task_id="extract_orders",
        bash_command="extract-orders --date {{ ds }} --out /data/orders",
    )

    rollups = SubDagOperator(
        task_id="regional_rollups",
        subdag=region_rollup_subdag(DAG_ID, "regional_rollups", REGIONS, {**default_args, "retries": 3}),
    )

    check = PythonOperator(
        task_id="check_totals",
        python_callable=check_totals,
        op_kwargs={"min_rows": 1000},
    )

    publish = SubDagOperator(
        task_id="publish",
        subdag=publish_subdag(DAG_ID, "publish", dag.default_args),
    )

    start >> extract >> rollups >> check >> publish
