"""Daily metrics with TaskFlow (Airflow 3 imports): sources that were not refreshed skip
their part of the day (AirflowSkipException, raised in a shared helper too), a report with
``all_done`` and a notification with ``none_failed`` after them; and a quality gate that
fails its run with AirflowFailException, which Airflow does not retry.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

SOURCES = {"orders": {"refreshed": True, "rows": [3, 5, 8]}, "refunds": {"refreshed": False, "rows": []}}


def ensure_fresh(name):
    if not SOURCES[name]["refreshed"]:
        raise AirflowSkipException(f"{name} was not refreshed today")


@dag(start_date=pendulum.datetime(2024, 6, 1, tz="UTC"), schedule="@daily", catchup=False)
def daily_metrics_taskflow():
    @task
    def extract_orders() -> list:
        ensure_fresh("orders")
        return SOURCES["orders"]["rows"]

    @task
    def extract_refunds():
        import airflow.exceptions

        ensure_fresh("refunds")
        rows = SOURCES["refunds"]["rows"]
        if rows is None:
            raise airflow.exceptions.AirflowNotFoundException("refunds table is gone")
        return rows

    @task
    def check_freshness():
        from airflow.exceptions import AirflowSkipException as Skip

        late = [name for name, source in SOURCES.items() if not source["refreshed"]]
        print("late sources:", late)
        if late:
            raise Skip(f"late: {', '.join(late)}")

    @task
    def total(rows: list) -> int:
        return sum(rows)

    @task(trigger_rule="all_done")
    def report(orders, refunds):
        print("orders", orders, "refunds", refunds)
        return {"orders": orders, "refunds": refunds}

    @task
    def publish(value):
        print("publishing", value)

    @task(trigger_rule="none_failed")
    def notify():
        print("done")

    orders, refunds = extract_orders(), extract_refunds()
    order_total = total(orders)
    refund_total = total.override(task_id="refund_total")(refunds)
    notified = notify()
    report(orders, refunds) >> notified
    check_freshness() >> [publish(order_total), notified]
    refund_total >> notified


daily_metrics_taskflow()


@dag(start_date=pendulum.datetime(2024, 6, 1, tz="UTC"), schedule=None, catchup=False)
def quality_gate_fails():
    @task
    def load_batch():
        return {"rows": 120, "nulls": 30}

    @task(retries=2, retry_delay=timedelta(seconds=1))
    def quality_gate(batch: dict):
        import os

        from airflow.exceptions import AirflowException, AirflowFailException

        with open(os.environ["CF_MARKERS"], "a") as markers:  # the test counts the attempts
            markers.write("quality_gate attempt\n")
        share = batch["nulls"] / batch["rows"]
        print(f"null share {share:.2f}")
        try:
            if share > 0.2:
                raise AirflowFailException("too many nulls: do not retry, fix the source")
        except AirflowException:
            print("gate tripped")
            raise
        return share

    @task
    def publish(share):
        print("published", share)

    publish(quality_gate(load_batch()))


quality_gate_fails()
