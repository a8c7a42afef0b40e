"""Nightly store sales: a store that sent nothing is skipped, a broken export fails the run.

Shows Airflow's exceptions in Python tasks: ``AirflowSkipException`` raised by a validation
task when a store has no new export (the load after it is skipped, the ``all_done`` audit and
the ``none_failed`` publish still run and see ``None`` for the skipped store),
``AirflowFailException`` for an export that must not be retried, both imported from
``airflow.exceptions`` at module level and used by TaskFlow and PythonOperator tasks.
"""

from datetime import timedelta

import pendulum
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.operators.python import PythonOperator
from airflow.sdk import DAG, task

# What each store exported last night (a real DAG lists a bucket prefix).
EXPORTS = {
    "store_101": [
        {"sku": "A-1", "qty": 3, "cents": 450},
        {"sku": "B-7", "qty": 1, "cents": 1299},
    ],
    "store_205": [],
}


def validate_export(store: str) -> list:
    rows = EXPORTS.get(store)
    if rows is None:
        raise AirflowFailException(f"{store}: no export folder")
    if not rows:
        raise AirflowSkipException(f"{store} sent no new sales")
    print(f"{store}: {len(rows)} rows")
    return rows


def audit_exports(first, second):
    exports = {"store_101": first, "store_205": second}
    skipped = [name for name, rows in exports.items() if rows is None]
    print("skipped stores:", skipped)
    return skipped


with DAG(
    dag_id="store_sales_skip_checks",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2024, 6, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
):

    @task
    def load_sales(rows: list) -> int:
        total = sum(row["qty"] * row["cents"] for row in rows)
        print(f"loaded {len(rows)} rows, {total} cents")
        return total

    @task(trigger_rule="none_failed")
    def publish():
        print("sales published")

    check_101 = PythonOperator(
        task_id="validate_store_101",
        python_callable=validate_export,
        op_kwargs={"store": "store_101"},
    )
    check_205 = PythonOperator(
        task_id="validate_store_205",
        python_callable=validate_export,
        op_kwargs={"store": "store_205"},
    )
    audit = PythonOperator(
        task_id="audit_exports",
        python_callable=audit_exports,
        op_args=[check_101.output, check_205.output],
        trigger_rule="all_done",
    )
    loads = [
        load_sales.override(task_id="load_store_101")(check_101.output),
        load_sales.override(task_id="load_store_205")(check_205.output),
    ]
    loads >> publish()
    [check_101, check_205] >> audit
