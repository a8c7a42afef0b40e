"""Wait for a partner's file drop, check it, then process it (Airflow 2 style).

Shows ``dag = DAG(...)`` with ``dag=dag`` on each operator instead of a context
manager, a FileSensor in reschedule mode, a ShortCircuitOperator that stops the run
on an empty file, a PythonOperator with ``op_args``, and a TimeDeltaSensor.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator, ShortCircuitOperator
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor

DROP_FILE = "/mnt/partner-drops/acme/feed.csv"


def file_has_rows(path: str) -> bool:
    import os

    return os.path.getsize(path) > 0


def count_rows(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


dag = DAG(
    dag_id="partner_feed_sensor",
    schedule="0 5 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "integrations", "retries": 1},
    tags=["partners", "sensor"],
)

settle = TimeDeltaSensor(task_id="let_upload_settle", delta=timedelta(minutes=10), mode="reschedule", dag=dag)
wait = FileSensor(
    task_id="wait_for_drop",
    filepath=DROP_FILE,
    poke_interval=300,
    timeout=6 * 60 * 60,
    mode="reschedule",
    dag=dag,
)
non_empty = ShortCircuitOperator(
    task_id="drop_not_empty",
    python_callable=file_has_rows,
    op_args=[DROP_FILE],
    dag=dag,
)
rows = PythonOperator(task_id="count_rows", python_callable=count_rows, op_args=[DROP_FILE], dag=dag)
process = BashOperator(
    task_id="process_drop",
    bash_command=f"partner-feed process {DROP_FILE} --archive /mnt/partner-drops/acme/archive/",
    dag=dag,
)

settle >> wait >> non_empty >> rows >> process
