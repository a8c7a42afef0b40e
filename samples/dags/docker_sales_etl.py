"""Docker-heavy nightly ETL: extract, transform and load sales data in containers.

Shows DockerOperator with a string ``command`` (shell-split by docker-py) and a list
``command``, an ``entrypoint``, ``environment`` and ``private_environment``, ``mounts``
with a bind mount and a named volume, ``mem_limit``, ``cpus``, retries with
exponential backoff, and ``execution_timeout``. Plain ``>>`` dependencies.
"""

from datetime import datetime, timedelta

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk import DAG
from docker.types import Mount

ETL_IMAGE = "registry.example.com/sales/etl:1.8.0"
RAW_DATA = Mount(source="/srv/landing/sales", target="/data/raw", type="bind", read_only=True)
SCRATCH = Mount(source="sales-etl-scratch", target="/scratch", type="volume")

with DAG(
    dag_id="docker_sales_etl",
    description="Nightly sales ETL run as Docker containers",
    schedule="0 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["etl", "docker", "sales"],
) as dag:
    extract = DockerOperator(
        task_id="extract_orders",
        image=ETL_IMAGE,
        command="python -m sales_etl.extract --source /data/raw --out /scratch/orders.parquet",
        environment={"LOG_LEVEL": "INFO", "REGION": "eu-west-1"},
        mounts=[RAW_DATA, SCRATCH],
        mem_limit="2g",
        cpus=1.0,
        retries=3,
        retry_delay=timedelta(minutes=2),
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(minutes=30),
        execution_timeout=timedelta(minutes=45),
    )

    transform = DockerOperator(
        task_id="transform_orders",
        image=ETL_IMAGE,
        entrypoint=["python", "-m", "sales_etl.transform"],
        command=["--in", "/scratch/orders.parquet", "--out", "/scratch/orders_clean.parquet", "--dedupe"],
        environment={"LOG_LEVEL": "INFO", "CURRENCY": "EUR"},
        mounts=[SCRATCH],
        mem_limit="4g",
        cpus=2.0,
        retries=2,
        retry_delay=timedelta(minutes=5),
        execution_timeout=timedelta(hours=1),
    )

    load = DockerOperator(
        task_id="load_warehouse",
        image="registry.example.com/sales/loader:0.9.3",
        command="load --table sales.orders --file /scratch/orders_clean.parquet --mode merge",
        environment={"WAREHOUSE_HOST": "warehouse.internal", "WAREHOUSE_DB": "analytics"},
        private_environment={"WAREHOUSE_PASSWORD": "{{ conn.warehouse.password }}"},
        mounts=[SCRATCH],
        mem_limit=1073741824,
        cpus=0.5,
        retries=5,
        retry_delay=timedelta(seconds=30),
        retry_exponential_backoff=True,
        execution_timeout=timedelta(minutes=20),
    )

    cleanup = DockerOperator(
        task_id="cleanup_scratch",
        image="alpine:3.20",
        command=["sh", "-c", "rm -rf /scratch/*"],
        mounts=[SCRATCH],
        auto_remove="success",
    )

    extract >> transform >> load >> cleanup
