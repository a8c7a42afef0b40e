"""Evaluate a candidate model and promote it only if it beats production.

Shows one BranchPythonOperator choosing between two task ids, a join with the
``none_failed_min_one_success`` trigger rule, and PythonOperators with ``op_kwargs``.
"""

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG

MIN_AUC_GAIN = 0.002


def compare_models(candidate_auc: float, production_auc: float) -> dict:
    """Return both scores; the real job reads them from the model registry."""
    return {"candidate": candidate_auc, "production": production_auc}


def choose_path(ti=None) -> str:
    scores = ti.xcom_pull(task_ids="compare_models")
    if scores["candidate"] - scores["production"] >= MIN_AUC_GAIN:
        return "promote_candidate"
    return "keep_production"


def promote(model_name: str, stage: str) -> None:
    print(f"moving {model_name} to {stage}")


with DAG(
    dag_id="model_promotion_branch",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["ml", "branch"],
) as dag:
    compare = PythonOperator(
        task_id="compare_models",
        python_callable=compare_models,
        op_kwargs={"candidate_auc": 0.913, "production_auc": 0.907},
    )
    decide = BranchPythonOperator(task_id="decide", python_callable=choose_path)
    promote_candidate = PythonOperator(
        task_id="promote_candidate",
        python_callable=promote,
        op_kwargs={"model_name": "churn", "stage": "production"},
    )
    keep_production = EmptyOperator(task_id="keep_production")
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")

    compare >> decide >> [promote_candidate, keep_production] >> done
