"""KFP v2 pipeline for the Airflow DAG exports_via_factory, converted by af2kfp.

Airflow source: samples/dags/exports_via_factory.py:19
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def export_clickstream():
    return dsl.ContainerSpec(
        image="registry.example.com/data/exporter:2.4.1",
        command=["python", "-m", "exporter"],
        args=[
            "--table",
            "clickstream",
            "--format",
            "parquet",
            "--destination",
            "s3://acme-exports/clickstream/",
            "--partition-by",
            "event_date",
        ],
    )


@dsl.container_component
def export_customers():
    return dsl.ContainerSpec(
        image="registry.example.com/data/exporter:2.4.1",
        command=["python", "-m", "exporter"],
        args=[
            "--table",
            "customers",
            "--format",
            "parquet",
            "--destination",
            "s3://acme-exports/customers/",
        ],
    )


@dsl.container_component
def export_orders():
    return dsl.ContainerSpec(
        image="registry.example.com/data/exporter:2.4.1",
        command=["python", "-m", "exporter"],
        args=[
            "--table",
            "orders",
            "--format",
            "parquet",
            "--destination",
            "s3://acme-exports/orders/",
            "--partition-by",
            "order_date",
        ],
    )


@dsl.container_component
def export_products():
    return dsl.ContainerSpec(
        image="registry.example.com/data/exporter:2.4.1",
        command=["python", "-m", "exporter"],
        args=[
            "--table",
            "products",
            "--format",
            "csv",
            "--destination",
            "s3://acme-exports/products/",
        ],
    )


@dsl.pipeline(
    name="exports-via-factory",
    description="Converted from Airflow DAG exports_via_factory (samples/dags/exports_via_factory.py:19).",
)
def exports_via_factory():
    # Airflow: samples/dags/common/factories.py:46 export_clickstream (KubernetesPodOperator)
    export_clickstream_task = (
        export_clickstream()
        .set_display_name("export_clickstream")
        .set_caching_options(False)
    )
    export_clickstream_task.set_env_variable(
        name="WAREHOUSE_HOST", value="warehouse.internal"
    )
    export_clickstream_task.set_env_variable(name="EXPORT_TABLE", value="clickstream")
    export_clickstream_task.set_cpu_request("500m")
    export_clickstream_task.set_cpu_limit("1")
    export_clickstream_task.set_memory_request("8Gi")
    export_clickstream_task.set_memory_limit("8Gi")
    export_clickstream_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        export_clickstream_task,
        secret_name="warehouse-credentials",
        secret_key_to_env={"password": "WAREHOUSE_PASSWORD"},
    )
    kubernetes.set_timeout(export_clickstream_task, seconds=3600)
    # Airflow: samples/dags/common/factories.py:46 export_customers (KubernetesPodOperator)
    export_customers_task = (
        export_customers()
        .set_display_name("export_customers")
        .set_caching_options(False)
    )
    export_customers_task.set_env_variable(
        name="WAREHOUSE_HOST", value="warehouse.internal"
    )
    export_customers_task.set_env_variable(name="EXPORT_TABLE", value="customers")
    export_customers_task.set_cpu_request("500m")
    export_customers_task.set_cpu_limit("1")
    export_customers_task.set_memory_request("2Gi")
    export_customers_task.set_memory_limit("2Gi")
    export_customers_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        export_customers_task,
        secret_name="warehouse-credentials",
        secret_key_to_env={"password": "WAREHOUSE_PASSWORD"},
    )
    kubernetes.set_timeout(export_customers_task, seconds=3600)
    # Airflow: samples/dags/common/factories.py:46 export_orders (KubernetesPodOperator)
    export_orders_task = (
        export_orders().set_display_name("export_orders").set_caching_options(False)
    )
    export_orders_task.set_env_variable(
        name="WAREHOUSE_HOST", value="warehouse.internal"
    )
    export_orders_task.set_env_variable(name="EXPORT_TABLE", value="orders")
    export_orders_task.set_cpu_request("500m")
    export_orders_task.set_cpu_limit("1")
    export_orders_task.set_memory_request("4Gi")
    export_orders_task.set_memory_limit("4Gi")
    export_orders_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        export_orders_task,
        secret_name="warehouse-credentials",
        secret_key_to_env={"password": "WAREHOUSE_PASSWORD"},
    )
    kubernetes.set_timeout(export_orders_task, seconds=3600)
    # Airflow: samples/dags/common/factories.py:46 export_products (KubernetesPodOperator)
    export_products_task = (
        export_products().set_display_name("export_products").set_caching_options(False)
    )
    export_products_task.set_env_variable(
        name="WAREHOUSE_HOST", value="warehouse.internal"
    )
    export_products_task.set_env_variable(name="EXPORT_TABLE", value="products")
    export_products_task.set_cpu_request("500m")
    export_products_task.set_cpu_limit("1")
    export_products_task.set_memory_request("2Gi")
    export_products_task.set_memory_limit("2Gi")
    export_products_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        export_products_task,
        secret_name="warehouse-credentials",
        secret_key_to_env={"password": "WAREHOUSE_PASSWORD"},
    )
    kubernetes.set_timeout(export_products_task, seconds=3600)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=exports_via_factory,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
