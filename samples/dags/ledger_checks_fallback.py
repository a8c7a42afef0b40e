"""Nightly ledger checks built from operators af2kfp has no native rule for.

Shows the fallback: FileSensor (a connection of type ``fs``), BashSensor and
SQLExecuteQueryOperator (a SQLite connection) run as the original operators in an
Airflow image, each connection from a Kubernetes Secret; Jinja in ``filepath`` and
``sql`` is rendered at run time; ``pool`` and ``on_failure_callback`` are dropped with
an ``info`` finding.
"""

from datetime import datetime, timedelta

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.bash import BashSensor
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import DAG


def page_on_call(context):
    print(f"ledger check failed: {context['task_instance'].task_id}")


with DAG(
    dag_id="ledger_checks_fallback",
    schedule="30 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2), "on_failure_callback": page_on_call},
    tags=["finance", "fallback"],
) as dag:
    wait = FileSensor(
        task_id="wait_for_ledger",
        fs_conn_id="ledger_drop",
        filepath="ledger_{{ ds_nodash }}.csv",
        poke_interval=2,
        timeout=600,
        mode="reschedule",
    )
    not_empty = BashSensor(
        task_id="ledger_not_empty",
        bash_command="test -s /mnt/ledger/ledger_{{ ds_nodash }}.csv",
        poke_interval=2,
        timeout=60,
    )
    record = SQLExecuteQueryOperator(
        task_id="record_run",
        conn_id="ledger_db",
        sql="insert into ledger_runs(day) values ('{{ ds }}')",
        autocommit=True,
        pool="ledger_db",
    )
    count = SQLExecuteQueryOperator(
        task_id="count_runs",
        conn_id="ledger_db",
        sql="select count(*) from ledger_runs",
    )
    announce = BashOperator(task_id="announce", bash_command="echo ledger checked for {{ ds }}")
    wait >> not_empty >> record >> count >> announce
