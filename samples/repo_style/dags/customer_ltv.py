"""Weekly customer lifetime value: Spark builds the features and scores customers, dbt builds the mart."""

from __future__ import annotations

from datetime import datetime

from include.acme_airflow.builders import dbt_model
from include.acme_airflow.operators import SparkJobOperator
from airflow.sdk import DAG

LTV_JAR = "gs://acme-artifacts/jars/ltv-assembly-2.4.0.jar"

with DAG(
    dag_id="customer_ltv",
    schedule="0 6 * * 1",
    start_date=datetime(2024, 3, 4),
    catchup=False,
    tags=["spark", "dbt", "marketing"],
):
    features = SparkJobOperator(
        task_id="ltv_features",
        name="ltv-features",
        main_class="com.acme.ltv.BuildFeatures",
        jar=LTV_JAR,
        app_args=["--week", "{{ ds }}"],
    )
    scores = SparkJobOperator(
        task_id="ltv_scores",
        name="ltv-scores",
        main_class="com.acme.ltv.ScoreCustomers",
        jar=LTV_JAR,
        app_args=["--week", "{{ ds }}", "--model", "gbt-v7"],
        executor_memory="8g",
    )
    features >> scores >> dbt_model("fct_customer_ltv")
