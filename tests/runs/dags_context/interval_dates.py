"""One task printing every date of its run: the interval semantics check."""

from datetime import datetime

from airflow.sdk import DAG, task


@task
def show_dates(ds=None, logical_date=None, data_interval_start=None, data_interval_end=None) -> str:
    print(f"ds={ds} logical={logical_date} start={data_interval_start} end={data_interval_end}")
    return ds


with DAG("interval_dates", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    show_dates()
