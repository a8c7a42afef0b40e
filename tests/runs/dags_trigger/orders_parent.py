"""Picks the regions to refresh, then triggers the summary DAG and waits for it; archiving is
another team's DAG, triggered without waiting."""

from datetime import datetime

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

with DAG("orders_parent", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):

    @task
    def pick_regions() -> list:
        return ["eu", "us"]

    refresh = TriggerDagRunOperator(
        task_id="refresh_summary",
        trigger_dag_id="orders_child",
        conf={"region": "eu", "limit": 5, "day": "{{ ds }}", "regions": pick_regions()},
        logical_date="{{ logical_date }}",
        wait_for_completion=True,
        poke_interval=1,
    )
    archive = TriggerDagRunOperator(task_id="archive", trigger_dag_id="orders_archive", conf={"keep_days": 30})
    refresh >> archive
