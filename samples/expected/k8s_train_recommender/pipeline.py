"""KFP v2 pipeline for the Airflow DAG k8s_train_recommender, converted by af2kfp.

Airflow source: samples/dags/k8s_train_recommender.py:57
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def prepare_dataset():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/recommender-train:3.2.0",
        command=["python", "-m", "recsys.prepare"],
        args=[
            "--interactions",
            "/data/raw/interactions",
            "--out",
            "/data/prepared",
            "--min-count",
            "5",
        ],
    )


@dsl.container_component
def train_model():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/recommender-train:3.2.0",
        command=["torchrun"],
        args=[
            "--nproc_per_node=1",
            "-m",
            "recsys.train",
            "--config",
            "/etc/train/config.yaml",
            "--data",
            "/data/prepared",
            "--output",
            "/data/models/candidate",
        ],
    )


@dsl.container_component
def evaluate_model():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/recommender-train:3.2.0",
        command=["python", "-m", "recsys.evaluate"],
        args=[
            "--model",
            "/data/models/candidate",
            "--report",
            "/data/reports/latest.json",
        ],
    )


@dsl.pipeline(
    name="k8s-train-recommender",
    description="Weekly retraining of the product recommender",
)
def k8s_train_recommender():
    # Airflow: samples/dags/k8s_train_recommender.py:66 prepare_dataset (KubernetesPodOperator)
    prepare_dataset_task = (
        prepare_dataset().set_display_name("prepare_dataset").set_caching_options(False)
    )
    prepare_dataset_task.set_env_variable(name="PYTHONUNBUFFERED", value="1")
    prepare_dataset_task.set_env_variable(name="SPLIT_SEED", value="42")
    prepare_dataset_task.set_cpu_request("4")
    prepare_dataset_task.set_cpu_limit("8")
    prepare_dataset_task.set_memory_request("16Gi")
    prepare_dataset_task.set_memory_limit("32Gi")
    prepare_dataset_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_volume(
        prepare_dataset_task,
        secret_name="gcs-service-account",
        mount_path="/var/secrets/gcp",
    )
    kubernetes.mount_pvc(
        prepare_dataset_task, pvc_name="recsys-datasets", mount_path="/data"
    )
    kubernetes.set_image_pull_secrets(
        prepare_dataset_task, secret_names=["registry-pull"]
    )
    kubernetes.set_image_pull_policy(prepare_dataset_task, policy="IfNotPresent")
    kubernetes.set_timeout(prepare_dataset_task, seconds=7200)
    # Airflow: samples/dags/k8s_train_recommender.py:88 train_model (KubernetesPodOperator)
    train_model_task = (
        train_model().set_display_name("train_model").set_caching_options(False)
    )
    train_model_task.after(prepare_dataset_task)
    train_model_task.set_env_variable(name="NCCL_DEBUG", value="WARN")
    train_model_task.set_env_variable(name="WANDB_PROJECT", value="recommender")
    train_model_task.set_cpu_request("8")
    train_model_task.set_cpu_limit("12")
    train_model_task.set_memory_request("60Gi")
    train_model_task.set_memory_limit("80Gi")
    train_model_task.set_accelerator_type("nvidia.com/gpu")
    train_model_task.set_accelerator_limit("1")
    train_model_task.set_retry(
        num_retries=1, backoff_duration="900s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        train_model_task,
        secret_name="wandb",
        secret_key_to_env={"api-key": "WANDB_API_KEY"},
    )
    kubernetes.use_secret_as_volume(
        train_model_task,
        secret_name="gcs-service-account",
        mount_path="/var/secrets/gcp",
    )
    kubernetes.mount_pvc(
        train_model_task, pvc_name="recsys-datasets", mount_path="/data"
    )
    kubernetes.use_config_map_as_volume(
        train_model_task,
        config_map_name="recommender-train-config",
        mount_path="/etc/train",
    )
    kubernetes.empty_dir_mount(
        train_model_task,
        volume_name="dshm",
        mount_path="/dev/shm",
        medium="Memory",
        size_limit="8Gi",
    )
    kubernetes.add_node_selector(
        train_model_task,
        label_key="cloud.google.com/gke-nodepool",
        label_value="gpu-a100",
    )
    kubernetes.add_toleration(
        train_model_task, key="nvidia.com/gpu", operator="Exists", effect="NoSchedule"
    )
    kubernetes.add_toleration(
        train_model_task,
        key="dedicated",
        operator="Equal",
        value="ml-training",
        effect="NoSchedule",
    )
    kubernetes.add_node_affinity(
        train_model_task,
        match_expressions=[
            {
                "key": "cloud.google.com/gke-accelerator",
                "operator": "In",
                "values": ["nvidia-tesla-a100", "nvidia-l4"],
            }
        ],
    )
    kubernetes.add_pod_label(
        train_model_task, label_key="app", label_value="recommender"
    )
    kubernetes.add_pod_label(train_model_task, label_key="stage", label_value="train")
    kubernetes.add_pod_annotation(
        train_model_task,
        annotation_key="cluster-autoscaler.kubernetes.io/safe-to-evict",
        annotation_value="false",
    )
    kubernetes.set_image_pull_secrets(train_model_task, secret_names=["registry-pull"])
    kubernetes.set_image_pull_policy(train_model_task, policy="Always")
    kubernetes.set_timeout(train_model_task, seconds=36000)
    # Airflow: samples/dags/k8s_train_recommender.py:128 evaluate_model (KubernetesPodOperator)
    evaluate_model_task = (
        evaluate_model().set_display_name("evaluate_model").set_caching_options(False)
    )
    evaluate_model_task.after(train_model_task)
    evaluate_model_task.set_env_variable(name="PYTHONUNBUFFERED", value="1")
    evaluate_model_task.set_cpu_request("2")
    evaluate_model_task.set_cpu_limit("4")
    evaluate_model_task.set_memory_request("8Gi")
    evaluate_model_task.set_memory_limit("8Gi")
    evaluate_model_task.set_accelerator_type("nvidia.com/gpu")
    evaluate_model_task.set_accelerator_limit("1")
    kubernetes.mount_pvc(
        evaluate_model_task, pvc_name="recsys-datasets", mount_path="/data"
    )
    kubernetes.add_node_selector(
        evaluate_model_task,
        label_key="cloud.google.com/gke-nodepool",
        label_value="gpu-l4",
    )
    kubernetes.add_toleration(
        evaluate_model_task,
        key="nvidia.com/gpu",
        operator="Exists",
        effect="NoSchedule",
    )
    kubernetes.add_pod_label(
        evaluate_model_task, label_key="app", label_value="recommender"
    )
    kubernetes.add_pod_label(
        evaluate_model_task, label_key="stage", label_value="evaluate"
    )
    kubernetes.set_timeout(evaluate_model_task, seconds=3600)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=k8s_train_recommender,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
