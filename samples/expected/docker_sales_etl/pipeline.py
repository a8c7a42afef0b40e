"""KFP v2 pipeline for the Airflow DAG docker_sales_etl, converted by af2kfp.

Airflow source: samples/dags/docker_sales_etl.py:19
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def extract_orders():
    return dsl.ContainerSpec(
        image="registry.example.com/sales/etl:1.8.0",
        args=[
            "python",
            "-m",
            "sales_etl.extract",
            "--source",
            "/data/raw",
            "--out",
            "/scratch/orders.parquet",
        ],
    )


@dsl.container_component
def transform_orders():
    return dsl.ContainerSpec(
        image="registry.example.com/sales/etl:1.8.0",
        command=["python", "-m", "sales_etl.transform"],
        args=[
            "--in",
            "/scratch/orders.parquet",
            "--out",
            "/scratch/orders_clean.parquet",
            "--dedupe",
        ],
    )


@dsl.container_component
def load_warehouse():
    return dsl.ContainerSpec(
        image="registry.example.com/sales/loader:0.9.3",
        args=[
            "load",
            "--table",
            "sales.orders",
            "--file",
            "/scratch/orders_clean.parquet",
            "--mode",
            "merge",
        ],
    )


@dsl.container_component
def cleanup_scratch():
    return dsl.ContainerSpec(
        image="alpine:3.20", args=["sh", "-c", "rm -rf /scratch/*"]
    )


@dsl.pipeline(
    name="docker-sales-etl", description="Nightly sales ETL run as Docker containers"
)
def docker_sales_etl():
    # Airflow: samples/dags/docker_sales_etl.py:27 extract_orders (DockerOperator)
    extract_orders_task = (
        extract_orders().set_display_name("extract_orders").set_caching_options(False)
    )
    extract_orders_task.set_env_variable(name="LOG_LEVEL", value="INFO")
    extract_orders_task.set_env_variable(name="REGION", value="eu-west-1")
    extract_orders_task.set_cpu_limit("1.0")
    extract_orders_task.set_memory_limit("2Gi")
    extract_orders_task.set_retry(
        num_retries=3,
        backoff_duration="120s",
        backoff_factor=2.0,
        backoff_max_duration="1800s",
    )
    kubernetes.set_timeout(extract_orders_task, seconds=2700)
    # Airflow: samples/dags/docker_sales_etl.py:42 transform_orders (DockerOperator)
    transform_orders_task = (
        transform_orders()
        .set_display_name("transform_orders")
        .set_caching_options(False)
    )
    transform_orders_task.after(extract_orders_task)
    transform_orders_task.set_env_variable(name="LOG_LEVEL", value="INFO")
    transform_orders_task.set_env_variable(name="CURRENCY", value="EUR")
    transform_orders_task.set_cpu_limit("2.0")
    transform_orders_task.set_memory_limit("4Gi")
    transform_orders_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.set_timeout(transform_orders_task, seconds=3600)
    # Airflow: samples/dags/docker_sales_etl.py:56 load_warehouse (DockerOperator)
    load_warehouse_task = (
        load_warehouse().set_display_name("load_warehouse").set_caching_options(False)
    )
    load_warehouse_task.after(transform_orders_task)
    load_warehouse_task.set_env_variable(
        name="WAREHOUSE_HOST", value="warehouse.internal"
    )
    load_warehouse_task.set_env_variable(name="WAREHOUSE_DB", value="analytics")
    load_warehouse_task.set_cpu_limit("0.5")
    load_warehouse_task.set_memory_limit("1073741824")
    load_warehouse_task.set_retry(
        num_retries=5, backoff_duration="30s", backoff_factor=2.0
    )
    kubernetes.use_secret_as_env(
        load_warehouse_task,
        secret_name="docker-sales-etl-load-warehouse-env",
        secret_key_to_env={"WAREHOUSE_PASSWORD": "WAREHOUSE_PASSWORD"},
    )
    kubernetes.set_timeout(load_warehouse_task, seconds=1200)
    # Airflow: samples/dags/docker_sales_etl.py:71 cleanup_scratch (DockerOperator)
    cleanup_scratch_task = (
        cleanup_scratch().set_display_name("cleanup_scratch").set_caching_options(False)
    )
    cleanup_scratch_task.after(load_warehouse_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=docker_sales_etl,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
