"""KFP v2 pipeline for the Airflow DAG warehouse_table_loads, converted by af2kfp.

Airflow source: samples/dags/warehouse_table_loads.py:16
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def stage_customers():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["gsutil -m cp gs://acme-staging/customers/*.csv /tmp/customers/"],
    )


@dsl.container_component
def stage_inventory():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["gsutil -m cp gs://acme-staging/inventory/*.csv /tmp/inventory/"],
    )


@dsl.container_component
def stage_order_items():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["gsutil -m cp gs://acme-staging/order_items/*.csv /tmp/order_items/"],
    )


@dsl.container_component
def stage_orders():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["gsutil -m cp gs://acme-staging/orders/*.csv /tmp/orders/"],
    )


@dsl.container_component
def stage_products():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["gsutil -m cp gs://acme-staging/products/*.csv /tmp/products/"],
    )


@dsl.container_component
def load_customers():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["bq load --replace analytics.customers /tmp/customers/*.csv"],
    )


@dsl.container_component
def load_inventory():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["bq load --replace analytics.inventory /tmp/inventory/*.csv"],
    )


@dsl.container_component
def load_order_items():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["bq load --replace analytics.order_items /tmp/order_items/*.csv"],
    )


@dsl.container_component
def load_orders():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["bq load --replace analytics.orders /tmp/orders/*.csv"],
    )


@dsl.container_component
def load_products():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["bq load --replace analytics.products /tmp/products/*.csv"],
    )


@dsl.container_component
def check_customers_not_empty():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            "test $(bq query --format=csv 'select count(*) from analytics.customers' | tail -1) -gt 0"
        ],
    )


@dsl.container_component
def check_order_items_not_empty():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            "test $(bq query --format=csv 'select count(*) from analytics.order_items' | tail -1) -gt 0"
        ],
    )


@dsl.container_component
def check_orders_not_empty():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            "test $(bq query --format=csv 'select count(*) from analytics.orders' | tail -1) -gt 0"
        ],
    )


@dsl.container_component
def check_products_not_empty():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            "test $(bq query --format=csv 'select count(*) from analytics.products' | tail -1) -gt 0"
        ],
    )


@dsl.container_component
def send_load_report():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo 'all tables loaded'"]
    )


@dsl.pipeline(
    name="warehouse-table-loads",
    description="Converted from Airflow DAG warehouse_table_loads (samples/dags/warehouse_table_loads.py:16).",
)
def warehouse_table_loads():
    # Airflow: samples/dags/warehouse_table_loads.py:28 stage_customers (BashOperator)
    stage_customers_task = (
        stage_customers().set_display_name("stage_customers").set_caching_options(False)
    )
    stage_customers_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:28 stage_inventory (BashOperator)
    stage_inventory_task = (
        stage_inventory().set_display_name("stage_inventory").set_caching_options(False)
    )
    stage_inventory_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:28 stage_order_items (BashOperator)
    stage_order_items_task = (
        stage_order_items()
        .set_display_name("stage_order_items")
        .set_caching_options(False)
    )
    stage_order_items_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:28 stage_orders (BashOperator)
    stage_orders_task = (
        stage_orders().set_display_name("stage_orders").set_caching_options(False)
    )
    stage_orders_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:28 stage_products (BashOperator)
    stage_products_task = (
        stage_products().set_display_name("stage_products").set_caching_options(False)
    )
    stage_products_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:32 load_customers (BashOperator)
    load_customers_task = (
        load_customers().set_display_name("load_customers").set_caching_options(False)
    )
    load_customers_task.after(stage_customers_task)
    load_customers_task.set_env_variable(name="TABLE", value="customers")
    load_customers_task.set_env_variable(name="DATASET", value="analytics")
    load_customers_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:32 load_inventory (BashOperator)
    load_inventory_task = (
        load_inventory().set_display_name("load_inventory").set_caching_options(False)
    )
    load_inventory_task.after(stage_inventory_task)
    load_inventory_task.set_env_variable(name="TABLE", value="inventory")
    load_inventory_task.set_env_variable(name="DATASET", value="analytics")
    load_inventory_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:32 load_order_items (BashOperator)
    load_order_items_task = (
        load_order_items()
        .set_display_name("load_order_items")
        .set_caching_options(False)
    )
    load_order_items_task.after(stage_order_items_task)
    load_order_items_task.set_env_variable(name="TABLE", value="order_items")
    load_order_items_task.set_env_variable(name="DATASET", value="analytics")
    load_order_items_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:32 load_orders (BashOperator)
    load_orders_task = (
        load_orders().set_display_name("load_orders").set_caching_options(False)
    )
    load_orders_task.after(stage_orders_task)
    load_orders_task.set_env_variable(name="TABLE", value="orders")
    load_orders_task.set_env_variable(name="DATASET", value="analytics")
    load_orders_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:32 load_products (BashOperator)
    load_products_task = (
        load_products().set_display_name("load_products").set_caching_options(False)
    )
    load_products_task.after(stage_products_task)
    load_products_task.set_env_variable(name="TABLE", value="products")
    load_products_task.set_env_variable(name="DATASET", value="analytics")
    load_products_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:40 check_customers_not_empty (BashOperator)
    check_customers_not_empty_task = (
        check_customers_not_empty()
        .set_display_name("check_customers_not_empty")
        .set_caching_options(False)
    )
    check_customers_not_empty_task.after(
        load_customers_task,
        load_inventory_task,
        load_order_items_task,
        load_orders_task,
        load_products_task,
    )
    check_customers_not_empty_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:40 check_order_items_not_empty (BashOperator)
    check_order_items_not_empty_task = (
        check_order_items_not_empty()
        .set_display_name("check_order_items_not_empty")
        .set_caching_options(False)
    )
    check_order_items_not_empty_task.after(
        load_customers_task,
        load_inventory_task,
        load_order_items_task,
        load_orders_task,
        load_products_task,
    )
    check_order_items_not_empty_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:40 check_orders_not_empty (BashOperator)
    check_orders_not_empty_task = (
        check_orders_not_empty()
        .set_display_name("check_orders_not_empty")
        .set_caching_options(False)
    )
    check_orders_not_empty_task.after(
        load_customers_task,
        load_inventory_task,
        load_order_items_task,
        load_orders_task,
        load_products_task,
    )
    check_orders_not_empty_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:40 check_products_not_empty (BashOperator)
    check_products_not_empty_task = (
        check_products_not_empty()
        .set_display_name("check_products_not_empty")
        .set_caching_options(False)
    )
    check_products_not_empty_task.after(
        load_customers_task,
        load_inventory_task,
        load_order_items_task,
        load_orders_task,
        load_products_task,
    )
    check_products_not_empty_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )
    # Airflow: samples/dags/warehouse_table_loads.py:47 send_load_report (BashOperator)
    send_load_report_task = (
        send_load_report()
        .set_display_name("send_load_report")
        .set_caching_options(False)
    )
    send_load_report_task.after(
        check_customers_not_empty_task,
        check_order_items_not_empty_task,
        check_orders_not_empty_task,
        check_products_not_empty_task,
    )
    send_load_report_task.set_retry(
        num_retries=1, backoff_duration="180s", backoff_factor=1.0
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=warehouse_table_loads,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
