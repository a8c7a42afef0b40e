"""KFP v2 pipeline for the Airflow DAG marketing_attribution, converted by af2kfp.

Airflow source: samples/repo_style/dags/marketing_attribution.py:28
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
def dbt_stg_ad_spend():
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
            "stg_ad_spend",
        ],
    )


@dsl.container_component
def dbt_stg_orders():
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
            "stg_orders",
        ],
    )


@dsl.container_component
def dbt_stg_sessions():
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
            "stg_sessions",
        ],
    )


@dsl.container_component
def score_touchpoints_0(ds: str):
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/touchpoint-scoring:1.8.3",
        command=["python", "-m", "scoring.touchpoints"],
        args=["--shard", "0", "--shards", "3", "--day", ds],
    )


@dsl.container_component
def score_touchpoints_1(ds: str):
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/touchpoint-scoring:1.8.3",
        command=["python", "-m", "scoring.touchpoints"],
        args=["--shard", "1", "--shards", "3", "--day", ds],
    )


@dsl.container_component
def score_touchpoints_2(ds: str):
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/touchpoint-scoring:1.8.3",
        command=["python", "-m", "scoring.touchpoints"],
        args=["--shard", "2", "--shards", "3", "--day", ds],
    )


@dsl.container_component
def dbt_fct_attribution():
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/dbt-runner:1.8.3",
        command=["dbt"],
        args=[
            "run",
            "--target",
            "prod",
            "--project-dir",
            "/dbt",
            "--select",
            "+fct_attribution",
        ],
    )


@dsl.pipeline(
    name="marketing-attribution",
    description="Converted from Airflow DAG marketing_attribution (samples/repo_style/dags/marketing_attribution.py:28).",
)
def marketing_attribution(logical_date: str = ""):
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
    # Airflow: samples/repo_style/include/acme_airflow/builders.py:19 dbt_stg_ad_spend (DbtOperator)
    dbt_stg_ad_spend_task = (
        dbt_stg_ad_spend()
        .set_display_name("dbt_stg_ad_spend")
        .set_caching_options(False)
    )
    dbt_stg_ad_spend_task.set_env_variable(
        name="DBT_PROFILES_DIR", value="/dbt/profiles"
    )
    dbt_stg_ad_spend_task.set_env_variable(name="GCP_PROJECT", value="acme-analytics")
    dbt_stg_ad_spend_task.set_env_variable(name="BQ_DATASET", value="marts")
    dbt_stg_ad_spend_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        dbt_stg_ad_spend_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        dbt_stg_ad_spend_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(dbt_stg_ad_spend_task, policy="IfNotPresent")
    # Airflow: samples/repo_style/include/acme_airflow/builders.py:19 dbt_stg_orders (DbtOperator)
    dbt_stg_orders_task = (
        dbt_stg_orders().set_display_name("dbt_stg_orders").set_caching_options(False)
    )
    dbt_stg_orders_task.set_env_variable(name="DBT_PROFILES_DIR", value="/dbt/profiles")
    dbt_stg_orders_task.set_env_variable(name="GCP_PROJECT", value="acme-analytics")
    dbt_stg_orders_task.set_env_variable(name="BQ_DATASET", value="marts")
    dbt_stg_orders_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(dbt_stg_orders_task, label_key="team", label_value="data")
    kubernetes.add_pod_label(
        dbt_stg_orders_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(dbt_stg_orders_task, policy="IfNotPresent")
    # Airflow: samples/repo_style/include/acme_airflow/builders.py:19 dbt_stg_sessions (DbtOperator)
    dbt_stg_sessions_task = (
        dbt_stg_sessions()
        .set_display_name("dbt_stg_sessions")
        .set_caching_options(False)
    )
    dbt_stg_sessions_task.set_env_variable(
        name="DBT_PROFILES_DIR", value="/dbt/profiles"
    )
    dbt_stg_sessions_task.set_env_variable(name="GCP_PROJECT", value="acme-analytics")
    dbt_stg_sessions_task.set_env_variable(name="BQ_DATASET", value="marts")
    dbt_stg_sessions_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        dbt_stg_sessions_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        dbt_stg_sessions_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(dbt_stg_sessions_task, policy="IfNotPresent")
    # Airflow: samples/repo_style/dags/marketing_attribution.py:41 score_touchpoints_0 (AcmePodOperator)
    score_touchpoints_0_task = (
        score_touchpoints_0(ds=run_context_task.outputs["ds"])
        .set_display_name("score_touchpoints_0")
        .set_caching_options(False)
    )
    score_touchpoints_0_task.after(
        dbt_stg_ad_spend_task, dbt_stg_orders_task, dbt_stg_sessions_task
    )
    score_touchpoints_0_task.set_env_variable(
        name="GCP_PROJECT", value="acme-analytics"
    )
    score_touchpoints_0_task.set_env_variable(name="BQ_LOCATION", value="EU")
    score_touchpoints_0_task.set_retry(
        num_retries=1, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        score_touchpoints_0_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        score_touchpoints_0_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(score_touchpoints_0_task, policy="IfNotPresent")
    kubernetes.set_timeout(score_touchpoints_0_task, seconds=7200)
    # Airflow: samples/repo_style/dags/marketing_attribution.py:41 score_touchpoints_1 (AcmePodOperator)
    score_touchpoints_1_task = (
        score_touchpoints_1(ds=run_context_task.outputs["ds"])
        .set_display_name("score_touchpoints_1")
        .set_caching_options(False)
    )
    score_touchpoints_1_task.after(score_touchpoints_0_task)
    score_touchpoints_1_task.set_env_variable(
        name="GCP_PROJECT", value="acme-analytics"
    )
    score_touchpoints_1_task.set_env_variable(name="BQ_LOCATION", value="EU")
    score_touchpoints_1_task.set_retry(
        num_retries=1, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        score_touchpoints_1_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        score_touchpoints_1_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(score_touchpoints_1_task, policy="IfNotPresent")
    kubernetes.set_timeout(score_touchpoints_1_task, seconds=7200)
    # Airflow: samples/repo_style/dags/marketing_attribution.py:41 score_touchpoints_2 (AcmePodOperator)
    score_touchpoints_2_task = (
        score_touchpoints_2(ds=run_context_task.outputs["ds"])
        .set_display_name("score_touchpoints_2")
        .set_caching_options(False)
    )
    score_touchpoints_2_task.after(score_touchpoints_1_task)
    score_touchpoints_2_task.set_env_variable(
        name="GCP_PROJECT", value="acme-analytics"
    )
    score_touchpoints_2_task.set_env_variable(name="BQ_LOCATION", value="EU")
    score_touchpoints_2_task.set_retry(
        num_retries=1, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        score_touchpoints_2_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        score_touchpoints_2_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(score_touchpoints_2_task, policy="IfNotPresent")
    kubernetes.set_timeout(score_touchpoints_2_task, seconds=7200)
    # Airflow: samples/repo_style/include/acme_airflow/builders.py:19 dbt_fct_attribution (DbtOperator)
    dbt_fct_attribution_task = (
        dbt_fct_attribution()
        .set_display_name("dbt_fct_attribution")
        .set_caching_options(False)
    )
    dbt_fct_attribution_task.after(score_touchpoints_2_task)
    dbt_fct_attribution_task.set_env_variable(
        name="DBT_PROFILES_DIR", value="/dbt/profiles"
    )
    dbt_fct_attribution_task.set_env_variable(
        name="GCP_PROJECT", value="acme-analytics"
    )
    dbt_fct_attribution_task.set_env_variable(name="BQ_DATASET", value="marts")
    dbt_fct_attribution_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        dbt_fct_attribution_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        dbt_fct_attribution_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(dbt_fct_attribution_task, policy="IfNotPresent")


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=marketing_attribution,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
