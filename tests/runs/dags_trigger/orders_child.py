"""Rebuilds one region's order summary; another DAG triggers it with the region in its conf."""

from datetime import datetime

from airflow.sdk import dag, get_current_context, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def orders_child():
    @task
    def summarize() -> str:
        context = get_current_context()
        conf = context["dag_run"].conf
        line = f"{conf['region']}:{conf['limit']}:{conf['day']}:{','.join(conf['regions'])}:{context['ds']}"
        print(line)
        return line

    summarize()


orders_child()
