"""KFP v2 pipeline for the Airflow DAG order_metrics_taskflow, converted by af2kfp.

Airflow source: samples/dags/order_metrics_taskflow.py:115
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11", packages_to_install=["pyyaml"])
def load_store_config() -> NamedTuple(
    "Outputs",
    [
        ("regions", str),
        ("return_value", str),
    ],
):
    """Store ids and regions (Airflow pushes each key of the returned dict: -> dict)."""
    import json
    import yaml

    STORES_YAML = """
stores:
  - id: 101
    region: north
  - id: 102
    region: south
  - id: 205
    region: north
"""

    # multiple_outputs: Airflow pushes each key read downstream as its own XCom, and the whole dict
    def multiple_outputs(value):
        return json.dumps(value.get("regions")), json.dumps(value)

    config = yaml.safe_load(STORES_YAML)
    return multiple_outputs(
        {
            "stores": [store["id"] for store in config["stores"]],
            "regions": sorted({store["region"] for store in config["stores"]}),
        }
    )


@dsl.component(base_image="python:3.11")
def store_ids(config: str) -> list:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    config = json.loads(config)

    return [json.dumps(item) for item in config["stores"]]


@dsl.component(base_image="python:3.11")
def fetch_orders(store_id: str) -> str:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    store_id = json.loads(store_id)
    # A real DAG queries the store's database; the rows keep their types.
    rows = [
        {
            "order_id": store_id * 1000 + 1,
            "qty": 2,
            "unit_cents": 1250,
            "coupon": None,
        },
        {
            "order_id": store_id * 1000 + 2,
            "qty": 1,
            "unit_cents": 899,
            "coupon": "SPRING10",
        },
    ]
    if store_id % 2:
        rows.append(
            {
                "order_id": store_id * 1000 + 3,
                "qty": 5,
                "unit_cents": 300,
                "coupon": "VIP25",
            }
        )
    print(f"store {store_id}: {len(rows)} orders")
    return json.dumps(rows)


@dsl.component(base_image="python:3.11")
def summarize(batches: list) -> NamedTuple(
    "Outputs",
    [
        ("coupons", str),
        ("net_cents", str),
        ("order_count", int),
        ("return_value", str),
    ],
):
    import json

    DISCOUNT_PERCENT = {"SPRING10": 10, "VIP25": 25}

    # Values that travel as JSON text, decoded back to what Airflow passes
    batches = [json.loads(item) for item in batches]

    # multiple_outputs: Airflow pushes each key read downstream as its own XCom, and the whole dict
    def multiple_outputs(value):
        return (
            json.dumps(value.get("coupons")),
            json.dumps(value.get("net_cents")),
            value["order_count"],
            json.dumps(value),
        )

    orders = [order for batch in batches for order in batch]
    gross = sum(order["qty"] * order["unit_cents"] for order in orders)
    discount = sum(
        order["qty"]
        * order["unit_cents"]
        * DISCOUNT_PERCENT.get(order["coupon"], 0)
        // 100
        for order in orders
    )
    return multiple_outputs(
        {
            "order_count": len(orders),
            "net_cents": gross - discount,
            "coupons": sorted({order["coupon"] for order in orders if order["coupon"]}),
            "largest": max(
                orders, key=lambda order: order["qty"] * order["unit_cents"]
            ),
        }
    )


@dsl.component(base_image="python:3.11")
def publish(order_count: int, net_cents: str, coupons: str, regions: str) -> str:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    net_cents = json.loads(net_cents)
    coupons = json.loads(coupons)
    regions = json.loads(regions)

    line = f"{order_count} orders, {net_cents / 100:.2f} net, coupons {coupons}, regions {regions}"
    print(line)
    return line


@dsl.pipeline(
    name="order-metrics-taskflow",
    description="Converted from Airflow DAG order_metrics_taskflow (samples/dags/order_metrics_taskflow.py:115).",
)
def order_metrics_taskflow():
    # Airflow: samples/dags/order_metrics_taskflow.py:104 load_store_config (@task)
    load_store_config_task = (
        load_store_config()
        .set_display_name("load_store_config")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/order_metrics_taskflow.py:105 store_ids (@task)
    store_ids_task = (
        store_ids(config=load_store_config_task.outputs["return_value"])
        .set_display_name("store_ids")
        .set_caching_options(False)
    )
    with dsl.ParallelFor(items=store_ids_task.output) as store_id_item:
        # Airflow: samples/dags/order_metrics_taskflow.py:105 fetch_orders (@task)
        fetch_orders_task = (
            fetch_orders(store_id=store_id_item)
            .set_display_name("fetch_orders")
            .set_caching_options(False)
        )
    # Airflow: samples/dags/order_metrics_taskflow.py:106 summarize (@task)
    summarize_task = (
        summarize(batches=dsl.Collected(fetch_orders_task.output))
        .set_display_name("summarize")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/order_metrics_taskflow.py:107 publish (@task)
    publish_task = (
        publish(
            order_count=summarize_task.outputs["order_count"],
            net_cents=summarize_task.outputs["net_cents"],
            coupons=summarize_task.outputs["coupons"],
            regions=load_store_config_task.outputs["regions"],
        )
        .set_display_name("publish")
        .set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=order_metrics_taskflow,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
