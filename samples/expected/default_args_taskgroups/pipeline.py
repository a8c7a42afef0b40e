"""KFP v2 pipeline for the Airflow DAG default_args_taskgroups, converted by af2kfp.

Airflow source: samples/dags/default_args_taskgroups.py:29
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def ingest_pull_orders():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/churn-scoring:5.0.2",
        command=["python", "-m", "churn.ingest"],
        args=["--entity", "orders"],
    )


@dsl.container_component
def ingest_pull_tickets():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/churn-scoring:5.0.2",
        command=["python", "-m", "churn.ingest"],
        args=["--entity", "support_tickets"],
    )


@dsl.container_component
def score_americas_features():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/churn-scoring:5.0.2",
        command=["python", "-m", "churn.features"],
        args=["--region", "americas"],
    )


@dsl.container_component
def score_europe_features():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/churn-scoring:5.0.2",
        command=["python", "-m", "churn.features"],
        args=["--region", "europe"],
    )


@dsl.container_component
def score_americas_score():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/churn-scoring:5.0.2",
        command=["python", "-m", "churn.score"],
        args=["--region", "americas", "--model", "churn-v5"],
    )


@dsl.container_component
def score_europe_score():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/churn-scoring:5.0.2",
        command=["python", "-m", "churn.score"],
        args=["--region", "europe", "--model", "churn-v5"],
    )


@dsl.container_component
def push_scores_to_crm():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["crm-sync --dataset churn_scores"],
    )


@dsl.container_component
def refresh_dashboard():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["dash refresh churn"]
    )


@dsl.pipeline(
    name="default-args-taskgroups",
    description="Converted from Airflow DAG default_args_taskgroups (samples/dags/default_args_taskgroups.py:29).",
)
def default_args_taskgroups():
    # Airflow: samples/dags/default_args_taskgroups.py:38 ingest.pull_orders (KubernetesPodOperator)
    ingest_pull_orders_task = (
        ingest_pull_orders()
        .set_display_name("ingest.pull_orders")
        .set_caching_options(False)
    )
    ingest_pull_orders_task.set_retry(
        num_retries=3, backoff_duration="240s", backoff_factor=1.0
    )
    kubernetes.set_image_pull_policy(ingest_pull_orders_task, policy="Always")
    kubernetes.set_timeout(ingest_pull_orders_task, seconds=5400)
    # Airflow: samples/dags/default_args_taskgroups.py:46 ingest.pull_tickets (KubernetesPodOperator)
    ingest_pull_tickets_task = (
        ingest_pull_tickets()
        .set_display_name("ingest.pull_tickets")
        .set_caching_options(False)
    )
    kubernetes.set_image_pull_policy(ingest_pull_tickets_task, policy="Always")
    kubernetes.set_timeout(ingest_pull_tickets_task, seconds=5400)
    # Airflow: samples/dags/default_args_taskgroups.py:59 score.americas.features (KubernetesPodOperator)
    score_americas_features_task = (
        score_americas_features()
        .set_display_name("score.americas.features")
        .set_caching_options(False)
    )
    score_americas_features_task.after(
        ingest_pull_orders_task, ingest_pull_tickets_task
    )
    score_americas_features_task.set_retry(
        num_retries=3, backoff_duration="240s", backoff_factor=1.0
    )
    kubernetes.set_image_pull_policy(score_americas_features_task, policy="Always")
    kubernetes.set_timeout(score_americas_features_task, seconds=5400)
    # Airflow: samples/dags/default_args_taskgroups.py:59 score.europe.features (KubernetesPodOperator)
    score_europe_features_task = (
        score_europe_features()
        .set_display_name("score.europe.features")
        .set_caching_options(False)
    )
    score_europe_features_task.after(ingest_pull_orders_task, ingest_pull_tickets_task)
    score_europe_features_task.set_retry(
        num_retries=3, backoff_duration="240s", backoff_factor=1.0
    )
    kubernetes.set_image_pull_policy(score_europe_features_task, policy="Always")
    kubernetes.set_timeout(score_europe_features_task, seconds=5400)
    # Airflow: samples/dags/default_args_taskgroups.py:67 score.americas.score (KubernetesPodOperator)
    score_americas_score_task = (
        score_americas_score()
        .set_display_name("score.americas.score")
        .set_caching_options(False)
    )
    score_americas_score_task.after(score_americas_features_task)
    score_americas_score_task.set_retry(
        num_retries=3, backoff_duration="240s", backoff_factor=1.0
    )
    kubernetes.set_image_pull_policy(score_americas_score_task, policy="Always")
    kubernetes.set_timeout(score_americas_score_task, seconds=10800)
    # Airflow: samples/dags/default_args_taskgroups.py:67 score.europe.score (KubernetesPodOperator)
    score_europe_score_task = (
        score_europe_score()
        .set_display_name("score.europe.score")
        .set_caching_options(False)
    )
    score_europe_score_task.after(score_europe_features_task)
    score_europe_score_task.set_retry(
        num_retries=3, backoff_duration="240s", backoff_factor=1.0
    )
    kubernetes.set_image_pull_policy(score_europe_score_task, policy="Always")
    kubernetes.set_timeout(score_europe_score_task, seconds=10800)
    # Airflow: samples/dags/default_args_taskgroups.py:79 push_scores_to_crm (BashOperator)
    push_scores_to_crm_task = (
        push_scores_to_crm()
        .set_display_name("push_scores_to_crm")
        .set_caching_options(False)
    )
    push_scores_to_crm_task.after(score_americas_score_task, score_europe_score_task)
    push_scores_to_crm_task.set_retry(
        num_retries=3, backoff_duration="240s", backoff_factor=1.0
    )
    kubernetes.set_timeout(push_scores_to_crm_task, seconds=5400)
    # Airflow: samples/dags/default_args_taskgroups.py:80 refresh_dashboard (BashOperator)
    refresh_dashboard_task = (
        refresh_dashboard()
        .set_display_name("refresh_dashboard")
        .set_caching_options(False)
    )
    refresh_dashboard_task.after(score_americas_score_task, score_europe_score_task)
    refresh_dashboard_task.set_retry(
        num_retries=3, backoff_duration="240s", backoff_factor=1.0
    )
    kubernetes.set_timeout(refresh_dashboard_task, seconds=5400)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=default_args_taskgroups,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
