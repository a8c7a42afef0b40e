"""Per-source loads whose commands read the task's own params, as teams loop over a list of sources."""

from datetime import datetime

from airflow.sdk import DAG, Param, TaskGroup, Variable
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator

SOURCES = ["parks", "libraries"]


def check_counts(**context):
    p = context["params"]
    print(f"checking {p['source']} in {p['db']} as {p['loader']} (limit {p['limit']}, region {p['region']})")
    return f"{p['source']}:{p['db']}"


with DAG(
    "facility_loads",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    params={"db": "warehouse", "limit": 100},
    default_args={"params": {"region": "eu"}},
):
    for source in SOURCES:
        params = {"source": source, "db": "staging", "loader": Variable.get("loader_user"), "mode": Param("full")}
        fetch = BashOperator(
            task_id=f"fetch_{source}",
            bash_command="echo fetch {{ params.source }} --db={{ params.db }} --user={{ params.loader }} "
            "--region={{ params.region }} --mode={{ params.mode }}",
            params=params,
        )
        check = PythonOperator(task_id=f"check_{source}", python_callable=check_counts, params=params)
        fetch >> check
    with TaskGroup("archive", default_args={"params": {"db": "archive"}}):
        BashOperator(task_id="copy", bash_command="echo copy into {{ params.db }} limit {{ params.limit }} "
                     "raw '{{ params.raw }}'", params={"limit": 7, "raw": "{{ ds }}"})
