"""The DAG of the compare tests: a folded start, a task that succeeds on its second try, a chain."""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def extract() -> str:
    import os
    import pathlib

    marker = pathlib.Path(os.environ.get("COMPARE_DEMO_MARKER", "/tmp/compare-demo-marker"))
    if not marker.exists():
        marker.write_text("first try")
        raise RuntimeError("first try fails on purpose")
    return "rows"


def transform() -> str:
    return "clean rows"


def load() -> str:
    return "loaded"


with DAG(
    "compare_demo",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    schedule=None,
    catchup=False,
) as dag:
    start = EmptyOperator(task_id="start")
    extract_task = PythonOperator(
        task_id="extract", python_callable=extract, retries=1, retry_delay=pendulum.duration(seconds=0)
    )
    transform_task = PythonOperator(task_id="transform", python_callable=transform)
    load_task = PythonOperator(task_id="load", python_callable=load)
    start >> extract_task >> transform_task >> load_task
