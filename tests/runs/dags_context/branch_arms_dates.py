"""A branch on the logical date whose arms (a sub-pipeline each in KFP) and join read the run's dates."""

from datetime import datetime

from airflow.sdk import DAG, task

with DAG("branch_arms_dates", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):

    @task.branch
    def pick(**context):
        return ["daily", "weekly"] if context["logical_date"].weekday() == 0 else ["daily"]

    @task
    def daily(ds=None) -> str:
        print("daily", ds)
        return ds

    @task
    def weekly(**context) -> str:
        print("weekly", context["ts"])
        return context["ts"]

    @task(trigger_rule="none_failed_min_one_success")
    def publish(ds=None):
        print("publish", ds)

    arms = [daily(), weekly()]
    pick() >> arms
    arms >> publish()
