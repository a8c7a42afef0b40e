"""A DAG as written for Airflow 1.10, never migrated.

Shows the 1.10 import paths (``airflow.operators.bash_operator``,
``airflow.operators.dummy_operator``, ``airflow.operators.python_operator``,
``airflow.contrib.operators.kubernetes_pod_operator``), ``schedule_interval``,
``provide_context``, ``dag=dag`` instead of a context manager, ``days_ago`` and
``set_upstream``. Valid on Airflow 1.10; on Airflow 3 these modules are gone, so
DagBag reports an import error for this file (expected).
"""

from datetime import timedelta

from airflow import DAG
from airflow.contrib.operators.kubernetes_pod_operator import KubernetesPodOperator
from airflow.operators.bash_operator import BashOperator
from airflow.operators.dummy_operator import DummyOperator
from airflow.operators.python_operator import PythonOperator
from airflow.utils.dates import days_ago

default_args = {
    "owner": "bi-team",
    "depends_on_past": False,
    "email": ["bi-alerts@example.com"],
    "email_on_failure": True,
    "retries": 1,
    "retry_delay": timedelta(minutes=5),
    "start_date": days_ago(1),
}

dag = DAG(
    "legacy_weekly_reporting",
    default_args=default_args,
    schedule_interval="0 7 * * 1",
    catchup=False,
)


def pick_report_week(**context):
    execution_date = context["execution_date"]
    return execution_date.strftime("%Y-W%W")


start = DummyOperator(task_id="start", dag=dag)

week = PythonOperator(
    task_id="pick_report_week",
    python_callable=pick_report_week,
    provide_context=True,
    dag=dag,
)

build_report = KubernetesPodOperator(
    task_id="build_report",
    name="weekly-report",
    namespace="bi",
    image="registry.example.com/bi/reports:2019.11",
    cmds=["python", "build_report.py"],
    arguments=["--week", "{{ ti.xcom_pull(task_ids='pick_report_week') }}"],
    env_vars={"REPORT_KIND": "weekly"},
    is_delete_operator_pod=True,
    in_cluster=True,
    get_logs=True,
    dag=dag,
)

email_report = BashOperator(
    task_id="email_report",
    bash_command="python send_report.py --to bi-readers@example.com",
    dag=dag,
)

end = DummyOperator(task_id="end", dag=dag)

week.set_upstream(start)
build_report.set_upstream(week)
email_report.set_upstream(build_report)
end.set_upstream(email_report)
