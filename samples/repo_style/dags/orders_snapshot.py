"""Orders snapshot: new orders of each store, written to the lake snapshot the settings name.

The deployment's settings (include/acme_airflow/settings.py) are read as a module object, and
the freshness guard skips a store with no new rows; the audit runs whatever happened.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from include.acme_airflow import settings
from include.acme_airflow.freshness import rows_loaded_after


@dag(schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False, tags=["orders", "lake"])
def orders_snapshot():
    @task
    def extract() -> dict:
        return {
            "berlin": [
                {"order": "B-1", "loaded_at": "2024-05-31", "total": 12.5},
                {"order": "B-2", "loaded_at": "2024-06-02", "total": 40.0},
            ],
            "lyon": [{"order": "L-7", "loaded_at": "2024-05-30", "total": 8.0}],
        }

    @task
    def new_orders(orders: dict, store: str) -> list[dict]:
        fresh = rows_loaded_after(orders[store], "2024-06-01")
        print(f"{store}: {len(fresh)} new order(s)")
        return fresh

    @task
    def write_snapshot(rows: list[dict]) -> dict:
        target = f"{settings.ORDERS_SNAPSHOT.uri}/env={settings.DEPLOYMENT_ENV}"
        print(f"writing {len(rows)} row(s) to {target}, kept {settings.SNAPSHOT_RETENTION_DAYS} days")
        return {"target": target, "rows": len(rows), "name": settings.ORDERS_SNAPSHOT.name}

    @task(trigger_rule="all_done")
    def audit(berlin: list[dict] | None, lyon: list[dict] | None) -> dict:
        counts = {"berlin": None if berlin is None else len(berlin), "lyon": None if lyon is None else len(lyon)}
        print(f"audit in {settings.DEPLOYMENT_ENV}: {counts}")
        return counts

    orders = extract()
    berlin = new_orders.override(task_id="new_orders_berlin")(orders, "berlin")
    lyon = new_orders.override(task_id="new_orders_lyon")(orders, "lyon")
    write_snapshot.override(task_id="write_berlin")(berlin)
    write_snapshot.override(task_id="write_lyon")(lyon)
    audit(berlin, lyon)


orders_snapshot()
