"""KFP v2 pipeline for the Airflow DAG customer_ltv, converted by af2kfp.

Airflow source: samples/repo_style/dags/customer_ltv.py:13
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def ltv_features(template_1: str):
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/spark-submit:3.5.1",
        command=["/opt/spark/bin/spark-submit"],
        args=[
            "--class",
            "com.acme.ltv.BuildFeatures",
            "--conf",
            "spark.executor.memory=4g",
            "gs://acme-artifacts/jars/ltv-assembly-2.4.0.jar",
            "--week",
            template_1,
        ],
    )


@dsl.container_component
def ltv_scores(template_1: str):
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/spark-submit:3.5.1",
        command=["/opt/spark/bin/spark-submit"],
        args=[
            "--class",
            "com.acme.ltv.ScoreCustomers",
            "--conf",
            "spark.executor.memory=8g",
            "gs://acme-artifacts/jars/ltv-assembly-2.4.0.jar",
            "--week",
            template_1,
            "--model",
            "gbt-v7",
        ],
    )


@dsl.container_component
def dbt_fct_customer_ltv():
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/dbt-runner:1.8.3",
        command=["dbt"],
        args=[
            "build",
            "--target",
            "prod",
            "--project-dir",
            "/dbt",
            "--select",
            "fct_customer_ltv",
        ],
    )


@dsl.pipeline(
    name="customer-ltv",
    description="Converted from Airflow DAG customer_ltv (samples/repo_style/dags/customer_ltv.py:13).",
)
def customer_ltv(ds: str):
    # Airflow: samples/repo_style/dags/customer_ltv.py:20 ltv_features (SparkJobOperator)
    ltv_features_task = (
        ltv_features(template_1=ds)
        .set_display_name("ltv_features")
        .set_caching_options(False)
    )
    ltv_features_task.set_env_variable(name="SPARK_ENV", value="prod")
    ltv_features_task.set_env_variable(name="GCP_PROJECT", value="acme-analytics")
    ltv_features_task.set_env_variable(
        name="SPARK_EVENT_LOG_DIR", value="gs://acme-spark-history/events"
    )
    kubernetes.add_pod_label(ltv_features_task, label_key="team", label_value="data")
    kubernetes.add_pod_label(
        ltv_features_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(ltv_features_task, policy="IfNotPresent")
    # Airflow: samples/repo_style/dags/customer_ltv.py:27 ltv_scores (SparkJobOperator)
    ltv_scores_task = (
        ltv_scores(template_1=ds)
        .set_display_name("ltv_scores")
        .set_caching_options(False)
    )
    ltv_scores_task.after(ltv_features_task)
    ltv_scores_task.set_env_variable(name="SPARK_ENV", value="prod")
    ltv_scores_task.set_env_variable(name="GCP_PROJECT", value="acme-analytics")
    ltv_scores_task.set_env_variable(
        name="SPARK_EVENT_LOG_DIR", value="gs://acme-spark-history/events"
    )
    kubernetes.add_pod_label(ltv_scores_task, label_key="team", label_value="data")
    kubernetes.add_pod_label(
        ltv_scores_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(ltv_scores_task, policy="IfNotPresent")
    # Airflow: samples/repo_style/include/acme_airflow/builders.py:19 dbt_fct_customer_ltv (DbtOperator)
    dbt_fct_customer_ltv_task = (
        dbt_fct_customer_ltv()
        .set_display_name("dbt_fct_customer_ltv")
        .set_caching_options(False)
    )
    dbt_fct_customer_ltv_task.after(ltv_scores_task)
    dbt_fct_customer_ltv_task.set_env_variable(
        name="DBT_PROFILES_DIR", value="/dbt/profiles"
    )
    dbt_fct_customer_ltv_task.set_env_variable(
        name="GCP_PROJECT", value="acme-analytics"
    )
    dbt_fct_customer_ltv_task.set_env_variable(name="BQ_DATASET", value="marts")
    dbt_fct_customer_ltv_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        dbt_fct_customer_ltv_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        dbt_fct_customer_ltv_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(dbt_fct_customer_ltv_task, policy="IfNotPresent")


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=customer_ltv,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
