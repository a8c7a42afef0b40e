"""Batch scoring with the team's own KubernetesPodOperator subclass.

Shows a user operator (``common.operators.TeamPodOperator``) that af2kfp only knows
through ``[tool.af2kfp.operators]`` in ``samples/pyproject.toml``; the subclass
fills in namespace, service account and labels itself.
"""

from datetime import datetime, timedelta

from airflow.sdk import DAG
from common.operators import TeamPodOperator
from kubernetes.client import models as k8s

SCORER = "registry.example.com/ml/fraud-scorer:1.12.0"

with DAG(
    dag_id="team_operator_scoring",
    schedule="*/30 * * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=25),
    tags=["ml", "fraud", "custom-operator"],
) as dag:
    fetch = TeamPodOperator(
        task_id="fetch_transactions",
        name="fraud-fetch",
        image=SCORER,
        cmds=["fraud", "fetch"],
        arguments=["--window", "30m"],
        env_vars={"KAFKA_TOPIC": "payments.transactions"},
    )
    score = TeamPodOperator(
        task_id="score_transactions",
        name="fraud-score",
        image=SCORER,
        cmds=["fraud", "score"],
        arguments=["--model", "gbt-2024-06", "--threshold", "0.87"],
        labels={"model": "gbt"},
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "2", "memory": "4Gi"},
            limits={"cpu": "2", "memory": "4Gi"},
        ),
        retries=2,
        retry_delay=timedelta(minutes=1),
        execution_timeout=timedelta(minutes=15),
    )
    flag = TeamPodOperator(
        task_id="flag_suspicious",
        name="fraud-flag",
        image=SCORER,
        cmds=["fraud", "flag"],
    )
    fetch >> score >> flag
