"""Inventory reorder with PythonOperators, the way many Airflow 2 DAGs are still written.

``op_kwargs`` hold dicts and lists with ints, floats and ``None``; the stock count pushes
each key of its result (``multiple_outputs=True``) and the planner reads one of them
through ``.output["low"]``; a callable pulls a whole dict with ``ti.xcom_pull``; one
operator is mapped over literal arguments and its results are reduced downstream.
A second DAG imports a module of this repository inside its callable (``common``), which
a KFP component does not carry: it converts, for review.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

STOCK = {
    "berlin": {"sku-1": 4, "sku-2": 40, "sku-3": 0},
    "lyon": {"sku-1": 12, "sku-2": 3, "sku-3": None},
}


def count_stock(warehouses, thresholds, skip=None):
    levels = {
        sku: sum(STOCK[w][sku] or 0 for w in warehouses)
        for sku in thresholds
        if sku != skip
    }
    missing = sorted(
        {sku for w in warehouses for sku, qty in STOCK[w].items() if qty is None}
    )
    low = [sku for sku, qty in sorted(levels.items()) if qty < thresholds[sku]]
    print(f"levels {levels}")
    return {"levels": levels, "low": low, "missing": missing or None}


def plan_orders(low, pack_sizes, max_packs):
    plan = [
        {
            "sku": sku,
            "packs": min(max_packs, pack_sizes[sku] // 2 + 1),
            "unit": pack_sizes[sku],
        }
        for sku in low
    ]
    return plan


def notify_supplier(supplier, packs, rush):
    message = f"{supplier}: {packs} packs" + (" (rush)" if rush else "")
    print(message)
    return packs * (2 if rush else 1)


def audit(notified, ti=None):
    stock = ti.xcom_pull(task_ids="count_stock")
    total = sum(notified)
    print(f"{total} packs ordered; missing counts: {stock['missing']}")
    return {
        "packs": total,
        "levels": stock["levels"],
        "warehouses": len(stock["levels"]),
    }


def supplier_contacts(supplier):
    from common.suppliers import (
        SUPPLIER_EMAILS,
    )  # the repository's module: af2kfp copies what the task reads into the component

    return SUPPLIER_EMAILS.get(supplier)


default_args = {
    "owner": "supply-chain",
    "retries": 1,
    "retry_delay": timedelta(minutes=2),
}

with DAG(
    dag_id="inventory_reorder_classic",
    schedule="0 6 * * 1-5",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args=default_args,
    tags=["inventory"],
):
    counted = PythonOperator(
        task_id="count_stock",
        python_callable=count_stock,
        op_kwargs={
            "warehouses": ["berlin", "lyon"],
            "thresholds": {"sku-1": 20, "sku-2": 45, "sku-3": 1},
            "skip": None,
        },
        multiple_outputs=True,
    )
    planned = PythonOperator(
        task_id="plan_orders",
        python_callable=plan_orders,
        op_kwargs={
            "low": counted.output["low"],
            "pack_sizes": {"sku-1": 6, "sku-2": 12, "sku-3": 1},
            "max_packs": 4,
        },
    )
    notified = PythonOperator.partial(
        task_id="notify_supplier", python_callable=notify_supplier
    ).expand(op_args=[["acme", 3, False], ["globex", 2, True]])
    audited = PythonOperator(
        task_id="audit",
        python_callable=audit,
        op_kwargs={"notified": notified.output},
    )
    planned >> notified

with DAG(
    dag_id="inventory_supplier_contacts",
    schedule="@weekly",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["inventory"],
):
    PythonOperator(
        task_id="supplier_contacts", python_callable=supplier_contacts, op_args=["acme"]
    )
