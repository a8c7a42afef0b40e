"""KFP v2 pipeline for the Airflow DAG customer_ltv, converted by af2kfp.

Airflow source: samples/repo_style/dags/customer_ltv.py:13
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.component(base_image="python:3.11")
def run_context(
    logical_date_override: str,
    schedule_time: str,
    create_time: str,
    ds: dsl.OutputPath(str),
):
    """Airflow's dates for this run, from one source (added by af2kfp, see docs/templating.md).

    The logical date is the logical_date parameter when given, else the recurring run's
    scheduled time, else the run's creation time (Airflow 3's trigger timetables).
    """
    from datetime import datetime, timezone

    paths = {"ds": ds}  # the output files, by name

    def when(text):
        """A time KFP gave; "" (KFP before 2.17) or a placeholder left as is (kfp.local) is None."""
        if not text or text.startswith("{{"):
            return None
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    run_time = when(schedule_time) or when(create_time) or datetime.now(timezone.utc)
    given = when(logical_date_override)
    logical_date = given or run_time
    ds = logical_date.strftime("%Y-%m-%d")

    values = {"ds": ds}
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.container_component
def ltv_features(ds: str):
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
            ds,
        ],
    )


@dsl.container_component
def ltv_scores(ds: str):
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
            ds,
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
def customer_ltv(logical_date: str = ""):
    # Added by af2kfp: the run's Airflow dates, read by the tasks below
    run_context_task = (
        run_context(
            logical_date_override=logical_date,
            schedule_time=dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
            create_time=dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
        )
        .set_display_name("run context (added by af2kfp)")
        .set_caching_options(False)
    )
    # Airflow: samples/repo_style/dags/customer_ltv.py:20 ltv_features (SparkJobOperator)
    ltv_features_task = (
        ltv_features(ds=run_context_task.outputs["ds"])
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
        ltv_scores(ds=run_context_task.outputs["ds"])
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
