"""Nightly order metrics, TaskFlow style.

Store settings come from a YAML document (PyYAML, a third-party import), each store's
orders are fetched by a mapped task (``.expand()`` over another task's list of store ids)
and reduced by one summary task whose ``multiple_outputs`` keys feed the publishing task.
The XComs are what such a DAG really passes: lists of dicts holding ints, floats, strings
and ``None``.
"""

from __future__ import annotations

import pendulum
import yaml

from airflow.sdk import dag, task

STORES_YAML = """
stores:
  - id: 101
    region: north
  - id: 102
    region: south
  - id: 205
    region: north
"""
DISCOUNT_PERCENT = {"SPRING10": 10, "VIP25": 25}


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2024, 3, 1, tz="UTC"),
    catchup=False,
    tags=["orders", "taskflow"],
)
def order_metrics_taskflow():
    @task
    def load_store_config() -> dict:
        """Store ids and regions (Airflow pushes each key of the returned dict: -> dict)."""
        config = yaml.safe_load(STORES_YAML)
        return {
            "stores": [store["id"] for store in config["stores"]],
            "regions": sorted({store["region"] for store in config["stores"]}),
        }

    @task
    def store_ids(config: dict) -> list[int]:
        return config["stores"]

    @task
    def fetch_orders(store_id: int) -> list[dict]:
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
        return rows

    @task(multiple_outputs=True)
    def summarize(batches: list) -> dict:
        orders = [order for batch in batches for order in batch]
        gross = sum(order["qty"] * order["unit_cents"] for order in orders)
        discount = sum(
            order["qty"]
            * order["unit_cents"]
            * DISCOUNT_PERCENT.get(order["coupon"], 0)
            // 100
            for order in orders
        )
        return {
            "order_count": len(orders),
            "net_cents": gross - discount,
            "coupons": sorted({order["coupon"] for order in orders if order["coupon"]}),
            "largest": max(
                orders, key=lambda order: order["qty"] * order["unit_cents"]
            ),
        }

    @task
    def publish(order_count: int, net_cents: int, coupons: list, regions: list) -> str:
        line = f"{order_count} orders, {net_cents / 100:.2f} net, coupons {coupons}, regions {regions}"
        print(line)
        return line

    config = load_store_config()
    batches = fetch_orders.expand(store_id=store_ids(config))
    summary = summarize(batches)
    publish(
        summary["order_count"],
        summary["net_cents"],
        summary["coupons"],
        config["regions"],
    )


order_metrics_taskflow()
