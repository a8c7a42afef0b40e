"""KFP v2 pipeline for the Airflow DAG inventory_reorder_classic, converted by af2kfp.

Airflow source: samples/dags/inventory_reorder_classic.py:81
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def count_stock(warehouses: list, thresholds: str, skip: str = None) -> NamedTuple(
    "Outputs",
    [
        ("low", str),
        ("return_value", str),
    ],
):
    import json

    STOCK = {
        "berlin": {"sku-1": 4, "sku-2": 40, "sku-3": 0},
        "lyon": {"sku-1": 12, "sku-2": 3, "sku-3": None},
    }

    # Values that travel as JSON text, decoded back to what Airflow passes
    thresholds = json.loads(thresholds)

    # multiple_outputs: Airflow pushes each key read downstream as its own XCom, and the whole dict
    def multiple_outputs(value):
        return json.dumps(value.get("low")), json.dumps(value)

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
    return multiple_outputs({"levels": levels, "low": low, "missing": missing or None})


@dsl.component(base_image="python:3.11")
def plan_orders(low: str, pack_sizes: str, max_packs: int) -> str:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    low = json.loads(low)
    pack_sizes = json.loads(pack_sizes)

    plan = [
        {
            "sku": sku,
            "packs": min(max_packs, pack_sizes[sku] // 2 + 1),
            "unit": pack_sizes[sku],
        }
        for sku in low
    ]
    return json.dumps(plan)


@dsl.component(base_image="python:3.11")
def notify_supplier(supplier: str, packs: str, rush: str) -> str:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    packs = json.loads(packs)
    rush = json.loads(rush)

    message = f"{supplier}: {packs} packs" + (" (rush)" if rush else "")
    print(message)
    return json.dumps(packs * (2 if rush else 1))


@dsl.component(base_image="python:3.11")
def audit(notified: list, count_stock_output: str) -> str:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    notified = [json.loads(item) for item in notified]
    count_stock_output = json.loads(count_stock_output)

    stock = count_stock_output
    total = sum(notified)
    print(f"{total} packs ordered; missing counts: {stock['missing']}")
    return json.dumps(
        {
            "packs": total,
            "levels": stock["levels"],
            "warehouses": len(stock["levels"]),
        }
    )


@dsl.pipeline(
    name="inventory-reorder-classic",
    description="Converted from Airflow DAG inventory_reorder_classic (samples/dags/inventory_reorder_classic.py:81).",
)
def inventory_reorder_classic():
    # Airflow: samples/dags/inventory_reorder_classic.py:89 count_stock (PythonOperator)
    count_stock_task = (
        count_stock(
            warehouses=["berlin", "lyon"],
            thresholds='{"sku-1": 20, "sku-2": 45, "sku-3": 1}',
        )
        .set_display_name("count_stock")
        .set_caching_options(False)
    )
    count_stock_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    # Airflow: samples/dags/inventory_reorder_classic.py:99 plan_orders (PythonOperator)
    plan_orders_task = (
        plan_orders(
            low=count_stock_task.outputs["low"],
            pack_sizes='{"sku-1": 6, "sku-2": 12, "sku-3": 1}',
            max_packs=4,
        )
        .set_display_name("plan_orders")
        .set_caching_options(False)
    )
    plan_orders_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    with dsl.ParallelFor(
        items=[
            {"op_args_0": "acme", "op_args_1": "3", "op_args_2": "false"},
            {"op_args_0": "globex", "op_args_1": "2", "op_args_2": "true"},
        ]
    ) as op_args_item:
        # Airflow: samples/dags/inventory_reorder_classic.py:108 notify_supplier (PythonOperator)
        notify_supplier_task = (
            notify_supplier(
                supplier=op_args_item.op_args_0,
                packs=op_args_item.op_args_1,
                rush=op_args_item.op_args_2,
            )
            .set_display_name("notify_supplier")
            .set_caching_options(False)
        )
        notify_supplier_task.after(plan_orders_task)
        notify_supplier_task.set_retry(
            num_retries=1, backoff_duration="120s", backoff_factor=1.0
        )
    # Airflow: samples/dags/inventory_reorder_classic.py:111 audit (PythonOperator)
    audit_task = (
        audit(
            notified=dsl.Collected(notify_supplier_task.output),
            count_stock_output=count_stock_task.outputs["return_value"],
        )
        .set_display_name("audit")
        .set_caching_options(False)
    )
    audit_task.set_retry(num_retries=1, backoff_duration="120s", backoff_factor=1.0)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=inventory_reorder_classic,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
