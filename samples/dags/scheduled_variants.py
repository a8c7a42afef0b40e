"""One small DAG per kind of schedule, to show what becomes a KFP recurring run.

Shows a weekday cron with ``catchup=True`` and ``max_active_runs``, a ``timedelta``
interval with an ``end_date``, a ``CronTriggerTimetable`` in a non-UTC timezone, an
Asset-triggered DAG (no KFP equivalent: a finding) and ``@once``. Each DAG's
``schedule.json`` is described in ``docs/schedules.md``.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset
from airflow.timetables.trigger import CronTriggerTimetable

DAILY_ORDERS = Asset("s3://lake/orders/daily")
START = datetime(2024, 6, 1)

with DAG(
    dag_id="schedule_weekday_cron",
    schedule="30 6 * * 1-5",
    start_date=START,
    catchup=True,
    max_active_runs=3,
):
    BashOperator(task_id="refresh_dashboards", bash_command="echo refresh")

with DAG(
    dag_id="schedule_every_six_hours",
    schedule=timedelta(hours=6),
    start_date=START,
    end_date=datetime(2025, 6, 1),
):
    BashOperator(task_id="sync_inventory", bash_command="echo sync", outlets=[DAILY_ORDERS])

with DAG(
    dag_id="schedule_paris_timetable",
    schedule=CronTriggerTimetable("0 7 * * *", timezone="Europe/Paris"),
    start_date=START,
    catchup=False,
):
    BashOperator(task_id="morning_digest", bash_command="echo digest")

with DAG(dag_id="schedule_on_asset", schedule=[DAILY_ORDERS], start_date=START):
    BashOperator(task_id="rebuild_aggregates", bash_command="echo aggregates")

with DAG(dag_id="schedule_once", schedule="@once", start_date=START):
    BashOperator(task_id="backfill_history", bash_command="echo backfill")
