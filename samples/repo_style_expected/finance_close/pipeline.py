"""KFP v2 pipeline for the Airflow DAG finance_close, converted by af2kfp.

Airflow source: samples/repo_style/dags/finance_close.py:11
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def dbt_snapshots():
    return dsl.ContainerSpec(
        image="europe-docker.pkg.dev/acme-data/images/dbt-runner:1.8.3",
        command=["dbt"],
        args=["snapshot", "--target", "prod", "--project-dir", "/dbt"],
    )


@dsl.container_component
def dbt_fct_ledger_balances():
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
            "fct_ledger_balances",
        ],
    )


@dsl.container_component
def dbt_fct_month_close():
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
            "fct_month_close",
            "--full-refresh",
        ],
    )


@dsl.pipeline(
    name="finance-close",
    description="Converted from Airflow DAG finance_close (samples/repo_style/dags/finance_close.py:11).",
)
def finance_close():
    # Airflow: samples/repo_style/dags/finance_close.py:18 dbt_snapshots (DbtOperator)
    dbt_snapshots_task = (
        dbt_snapshots().set_display_name("dbt_snapshots").set_caching_options(False)
    )
    dbt_snapshots_task.set_env_variable(name="DBT_PROFILES_DIR", value="/dbt/profiles")
    dbt_snapshots_task.set_env_variable(name="GCP_PROJECT", value="acme-analytics")
    dbt_snapshots_task.set_env_variable(name="BQ_DATASET", value="marts")
    kubernetes.add_pod_label(dbt_snapshots_task, label_key="team", label_value="data")
    kubernetes.add_pod_label(
        dbt_snapshots_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(dbt_snapshots_task, policy="IfNotPresent")
    # Airflow: samples/repo_style/include/acme_airflow/builders.py:19 dbt_fct_ledger_balances (DbtOperator)
    dbt_fct_ledger_balances_task = (
        dbt_fct_ledger_balances()
        .set_display_name("dbt_fct_ledger_balances")
        .set_caching_options(False)
    )
    dbt_fct_ledger_balances_task.after(dbt_snapshots_task)
    dbt_fct_ledger_balances_task.set_env_variable(
        name="DBT_PROFILES_DIR", value="/dbt/profiles"
    )
    dbt_fct_ledger_balances_task.set_env_variable(
        name="GCP_PROJECT", value="acme-analytics"
    )
    dbt_fct_ledger_balances_task.set_env_variable(name="BQ_DATASET", value="marts")
    dbt_fct_ledger_balances_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        dbt_fct_ledger_balances_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        dbt_fct_ledger_balances_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(
        dbt_fct_ledger_balances_task, policy="IfNotPresent"
    )
    # Airflow: samples/repo_style/include/acme_airflow/builders.py:19 dbt_fct_month_close (DbtOperator)
    dbt_fct_month_close_task = (
        dbt_fct_month_close()
        .set_display_name("dbt_fct_month_close")
        .set_caching_options(False)
    )
    dbt_fct_month_close_task.after(dbt_snapshots_task)
    dbt_fct_month_close_task.set_env_variable(
        name="DBT_PROFILES_DIR", value="/dbt/profiles"
    )
    dbt_fct_month_close_task.set_env_variable(
        name="GCP_PROJECT", value="acme-analytics"
    )
    dbt_fct_month_close_task.set_env_variable(name="BQ_DATASET", value="marts")
    dbt_fct_month_close_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        dbt_fct_month_close_task, label_key="team", label_value="data"
    )
    kubernetes.add_pod_label(
        dbt_fct_month_close_task, label_key="managed-by", label_value="airflow"
    )
    kubernetes.set_image_pull_policy(dbt_fct_month_close_task, policy="IfNotPresent")


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=finance_close,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
