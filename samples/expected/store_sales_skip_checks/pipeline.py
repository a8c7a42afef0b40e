"""KFP v2 pipeline for the Airflow DAG store_sales_skip_checks, converted by af2kfp.

Airflow source: samples/dags/store_sales_skip_checks.py:44
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def validate_store_101(store: str) -> NamedTuple(
    "Outputs",
    [
        ("return_value", str),
        ("not_skipped", bool),
    ],
):
    import json

    class AirflowException(Exception):
        """Airflow's exception classes the task uses: the component's image has no Airflow."""

    class AirflowFailException(AirflowException):
        pass

    class AirflowSkipException(AirflowException):
        pass

    EXPORTS = {
        "store_101": [
            {"sku": "A-1", "qty": 3, "cents": 450},
            {"sku": "B-7", "qty": 1, "cents": 1299},
        ],
        "store_205": [],
    }

    def validate_export(store):
        rows = EXPORTS.get(store)
        if rows is None:
            raise AirflowFailException(f"{store}: no export folder")
        if not rows:
            raise AirflowSkipException(f"{store} sent no new sales")
        print(f"{store}: {len(rows)} rows")
        return json.dumps(rows)

    # AirflowSkipException: Airflow marks the task skipped; report it, do not fail
    try:
        result = validate_export(store)
    except AirflowSkipException as skip:
        print(f"AirflowSkipException: {skip}")
        return "null", False
    return result, True


@dsl.component(base_image="python:3.11")
def audit_exports(first: str = "null", second: str = "null") -> str:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    first = json.loads(first)
    second = json.loads(second)

    exports = {"store_101": first, "store_205": second}
    skipped = [name for name, rows in exports.items() if rows is None]
    print("skipped stores:", skipped)
    return json.dumps(skipped)


@dsl.component(base_image="python:3.11")
def load_store_101(rows: str) -> int:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    rows = json.loads(rows)

    total = sum(row["qty"] * row["cents"] for row in rows)
    print(f"loaded {len(rows)} rows, {total} cents")
    return total


@dsl.component(base_image="python:3.11")
def publish():
    print("sales published")


@dsl.pipeline(
    name="after-validate-store-101",
    description="The tasks Airflow runs when validate_store_101 was not skipped, as one unit a join waits for.",
)
def after_validate_store_101(
    validate_store_101_return_value: str, validate_store_101_not_skipped: bool
):
    with dsl.If(validate_store_101_not_skipped == True):
        # Airflow: samples/dags/store_sales_skip_checks.py:79 load_store_101 (@task)
        load_store_101_task = (
            load_store_101(rows=validate_store_101_return_value)
            .set_display_name("load_store_101")
            .set_caching_options(False)
        )
        load_store_101_task.set_retry(
            num_retries=2, backoff_duration="600s", backoff_factor=1.0
        )


@dsl.pipeline(
    name="after-validate-store-205",
    description="The tasks Airflow runs when validate_store_205 was not skipped, as one unit a join waits for.",
)
def after_validate_store_205(
    validate_store_205_return_value: str, validate_store_205_not_skipped: bool
):
    with dsl.If(validate_store_205_not_skipped == True):
        # Airflow: samples/dags/store_sales_skip_checks.py:80 load_store_205 (@task)
        load_store_205_task = (
            load_store_101(rows=validate_store_205_return_value)
            .set_display_name("load_store_205")
            .set_caching_options(False)
        )
        load_store_205_task.set_retry(
            num_retries=2, backoff_duration="600s", backoff_factor=1.0
        )


@dsl.pipeline(
    name="store-sales-skip-checks",
    description="Converted from Airflow DAG store_sales_skip_checks (samples/dags/store_sales_skip_checks.py:44).",
)
def store_sales_skip_checks():
    # Airflow: samples/dags/store_sales_skip_checks.py:62 validate_store_101 (PythonOperator)
    validate_store_101_task = (
        validate_store_101(store="store_101")
        .set_display_name("validate_store_101")
        .set_caching_options(False)
    )
    validate_store_101_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    # Airflow: samples/dags/store_sales_skip_checks.py:67 validate_store_205 (PythonOperator)
    validate_store_205_task = (
        validate_store_101(store="store_205")
        .set_display_name("validate_store_205")
        .set_caching_options(False)
    )
    validate_store_205_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    # Airflow: samples/dags/store_sales_skip_checks.py:72 audit_exports (PythonOperator)
    audit_exports_task = (
        audit_exports(
            first=validate_store_101_task.outputs["return_value"],
            second=validate_store_205_task.outputs["return_value"],
        )
        .set_display_name("audit_exports")
        .set_caching_options(False)
    )
    audit_exports_task.ignore_upstream_failure()
    audit_exports_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    after_validate_store_101_task = (
        after_validate_store_101(
            validate_store_101_return_value=validate_store_101_task.outputs[
                "return_value"
            ],
            validate_store_101_not_skipped=validate_store_101_task.outputs[
                "not_skipped"
            ],
        )
        .set_display_name("after validate_store_101")
        .set_caching_options(False)
    )
    after_validate_store_205_task = (
        after_validate_store_205(
            validate_store_205_return_value=validate_store_205_task.outputs[
                "return_value"
            ],
            validate_store_205_not_skipped=validate_store_205_task.outputs[
                "not_skipped"
            ],
        )
        .set_display_name("after validate_store_205")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/store_sales_skip_checks.py:82 publish (@task)
    publish_task = publish().set_display_name("publish").set_caching_options(False)
    publish_task.after(after_validate_store_101_task, after_validate_store_205_task)
    publish_task.set_retry(num_retries=2, backoff_duration="600s", backoff_factor=1.0)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=store_sales_skip_checks,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
