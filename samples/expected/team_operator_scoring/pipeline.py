"""KFP v2 pipeline for the Airflow DAG team_operator_scoring, converted by af2kfp.

Airflow source: samples/dags/team_operator_scoring.py:16
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def fetch_transactions():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/fraud-scorer:1.12.0",
        command=["fraud", "fetch"],
        args=["--window", "30m"],
    )


@dsl.container_component
def score_transactions():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/fraud-scorer:1.12.0",
        command=["fraud", "score"],
        args=["--model", "gbt-2024-06", "--threshold", "0.87"],
    )


@dsl.container_component
def flag_suspicious():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/fraud-scorer:1.12.0", command=["fraud", "flag"]
    )


@dsl.pipeline(
    name="team-operator-scoring",
    description="Converted from Airflow DAG team_operator_scoring (samples/dags/team_operator_scoring.py:16).",
)
def team_operator_scoring():
    # Airflow: samples/dags/team_operator_scoring.py:25 fetch_transactions (TeamPodOperator)
    fetch_transactions_task = (
        fetch_transactions()
        .set_display_name("fetch_transactions")
        .set_caching_options(False)
    )
    fetch_transactions_task.set_env_variable(
        name="KAFKA_TOPIC", value="payments.transactions"
    )
    kubernetes.add_pod_label(
        fetch_transactions_task, label_key="team", label_value="data-platform"
    )
    kubernetes.add_pod_label(
        fetch_transactions_task, label_key="cost-center", label_value="cc-4711"
    )
    # Airflow: samples/dags/team_operator_scoring.py:33 score_transactions (TeamPodOperator)
    score_transactions_task = (
        score_transactions()
        .set_display_name("score_transactions")
        .set_caching_options(False)
    )
    score_transactions_task.after(fetch_transactions_task)
    score_transactions_task.set_cpu_request("2")
    score_transactions_task.set_cpu_limit("2")
    score_transactions_task.set_memory_request("4Gi")
    score_transactions_task.set_memory_limit("4Gi")
    score_transactions_task.set_retry(
        num_retries=2, backoff_duration="60s", backoff_factor=1.0
    )
    kubernetes.add_pod_label(
        score_transactions_task, label_key="team", label_value="data-platform"
    )
    kubernetes.add_pod_label(
        score_transactions_task, label_key="cost-center", label_value="cc-4711"
    )
    kubernetes.add_pod_label(
        score_transactions_task, label_key="model", label_value="gbt"
    )
    kubernetes.set_timeout(score_transactions_task, seconds=900)
    # Airflow: samples/dags/team_operator_scoring.py:48 flag_suspicious (TeamPodOperator)
    flag_suspicious_task = (
        flag_suspicious().set_display_name("flag_suspicious").set_caching_options(False)
    )
    flag_suspicious_task.after(score_transactions_task)
    kubernetes.add_pod_label(
        flag_suspicious_task, label_key="team", label_value="data-platform"
    )
    kubernetes.add_pod_label(
        flag_suspicious_task, label_key="cost-center", label_value="cc-4711"
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=team_operator_scoring,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
