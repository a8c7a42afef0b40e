"""Nightly model scoring with ``default_args`` and TaskGroups.

Shows ``default_args`` carrying owner, retries, retry_delay, execution_timeout and an
operator-specific key (``image_pull_policy``, which only KubernetesPodOperator takes),
a task overriding one of them, and TaskGroups whose task ids get the group prefix
(``ingest.pull_orders``, ``score.europe.score``), one nested, one with
``prefix_group_id=False``.
"""

from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup

SCORING_IMAGE = "registry.example.com/ml/churn-scoring:5.0.2"
REGIONS = ["europe", "americas"]

default_args = {
    "owner": "ml-platform",
    "retries": 3,
    "retry_delay": timedelta(minutes=4),
    "execution_timeout": timedelta(minutes=90),
    "image_pull_policy": "Always",
    "depends_on_past": False,
}

with DAG(
    dag_id="default_args_taskgroups",
    schedule="0 3 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args=default_args,
    tags=["ml", "scoring", "taskgroup"],
) as dag:
    with TaskGroup(group_id="ingest") as ingest:
        pull_orders = KubernetesPodOperator(
            task_id="pull_orders",
            name="pull-orders",
            namespace="ml-scoring",
            image=SCORING_IMAGE,
            cmds=["python", "-m", "churn.ingest"],
            arguments=["--entity", "orders"],
        )
        pull_tickets = KubernetesPodOperator(
            task_id="pull_tickets",
            name="pull-tickets",
            namespace="ml-scoring",
            image=SCORING_IMAGE,
            cmds=["python", "-m", "churn.ingest"],
            arguments=["--entity", "support_tickets"],
            retries=0,
        )

    with TaskGroup(group_id="score") as score:
        for region in REGIONS:
            with TaskGroup(group_id=region):
                features = KubernetesPodOperator(
                    task_id="features",
                    name=f"features-{region}",
                    namespace="ml-scoring",
                    image=SCORING_IMAGE,
                    cmds=["python", "-m", "churn.features"],
                    arguments=["--region", region],
                )
                predict = KubernetesPodOperator(
                    task_id="score",
                    name=f"score-{region}",
                    namespace="ml-scoring",
                    image=SCORING_IMAGE,
                    cmds=["python", "-m", "churn.score"],
                    arguments=["--region", region, "--model", "churn-v5"],
                    execution_timeout=timedelta(hours=3),
                )
                features >> predict

    with TaskGroup(group_id="publish", prefix_group_id=False) as publish:
        to_crm = BashOperator(task_id="push_scores_to_crm", bash_command="crm-sync --dataset churn_scores")
        to_dashboard = BashOperator(task_id="refresh_dashboard", bash_command="dash refresh churn")

    finished = EmptyOperator(task_id="finished", trigger_rule="all_done")

    ingest >> score >> publish >> finished
