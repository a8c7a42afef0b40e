"""Two DAGs in one file: hourly ingestion and the daily compaction of what it wrote.

Shows two ``with DAG`` blocks in one module (DAG ids ``events_hourly_ingest`` and
``events_daily_compaction``), sharing a module constant and an image.
"""

from datetime import datetime, timedelta

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

LAKE_IMAGE = "registry.example.com/lake/tools:4.1.0"
LAKE_PATH = "s3://acme-lake/events"

with DAG(
    dag_id="events_hourly_ingest",
    schedule="@hourly",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["lake", "ingest"],
) as hourly:
    pull = DockerOperator(
        task_id="pull_events",
        image=LAKE_IMAGE,
        command=["ingest", "--from", "kafka://events", "--to", f"{LAKE_PATH}/raw/"],
        retries=3,
        retry_delay=timedelta(minutes=1),
    )
    register = BashOperator(
        task_id="register_partition",
        bash_command=f"lakectl register {LAKE_PATH}/raw/",
    )
    pull >> register

with DAG(
    dag_id="events_daily_compaction",
    schedule="15 0 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["lake", "maintenance"],
) as daily:
    compact = DockerOperator(
        task_id="compact_partitions",
        image=LAKE_IMAGE,
        entrypoint="lakectl",
        command=f"compact {LAKE_PATH}/raw/ --target-size 512MB",
        mem_limit="8g",
        cpus=4.0,
        execution_timeout=timedelta(hours=2),
    )
    expire = BashOperator(
        task_id="expire_snapshots",
        bash_command=f"lakectl expire {LAKE_PATH} --older-than 7d",
    )
    compact >> expire
