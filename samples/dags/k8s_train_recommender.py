"""KubernetesPodOperator ML training: prepare data, train on a GPU node, evaluate.

Shows ``cmds``/``arguments``, ``env_vars`` as a dict and as ``V1EnvVar``, ``secrets``
deployed as env and as a volume, ``container_resources`` with a GPU limit,
``node_selector``, ``tolerations``, ``affinity``, ``labels``, ``annotations``,
``image_pull_secrets``, ``image_pull_policy``, and PVC, ConfigMap and emptyDir
volumes with their ``volume_mounts``.
"""

from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.sdk import DAG
from kubernetes.client import models as k8s

TRAIN_IMAGE = "registry.example.com/ml/recommender-train:3.2.0"
NAMESPACE = "ml-training"

wandb_key = Secret("env", "WANDB_API_KEY", "wandb", "api-key")
gcs_credentials = Secret("volume", "/var/secrets/gcp", "gcs-service-account")

dataset_volume = k8s.V1Volume(
    name="datasets",
    persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name="recsys-datasets"),
)
config_volume = k8s.V1Volume(
    name="train-config",
    config_map=k8s.V1ConfigMapVolumeSource(name="recommender-train-config"),
)
shm_volume = k8s.V1Volume(
    name="dshm",
    empty_dir=k8s.V1EmptyDirVolumeSource(medium="Memory", size_limit="8Gi"),
)
dataset_mount = k8s.V1VolumeMount(name="datasets", mount_path="/data", read_only=False)
config_mount = k8s.V1VolumeMount(name="train-config", mount_path="/etc/train", read_only=True)
shm_mount = k8s.V1VolumeMount(name="dshm", mount_path="/dev/shm")

gpu_affinity = k8s.V1Affinity(
    node_affinity=k8s.V1NodeAffinity(
        required_during_scheduling_ignored_during_execution=k8s.V1NodeSelector(
            node_selector_terms=[
                k8s.V1NodeSelectorTerm(
                    match_expressions=[
                        k8s.V1NodeSelectorRequirement(
                            key="cloud.google.com/gke-accelerator",
                            operator="In",
                            values=["nvidia-tesla-a100", "nvidia-l4"],
                        )
                    ]
                )
            ]
        )
    )
)

with DAG(
    dag_id="k8s_train_recommender",
    description="Weekly retraining of the product recommender",
    schedule="0 4 * * 1",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["ml", "kubernetes", "training"],
) as dag:
    prepare = KubernetesPodOperator(
        task_id="prepare_dataset",
        name="recsys-prepare",
        namespace=NAMESPACE,
        image=TRAIN_IMAGE,
        image_pull_policy="IfNotPresent",
        image_pull_secrets=[k8s.V1LocalObjectReference(name="registry-pull")],
        cmds=["python", "-m", "recsys.prepare"],
        arguments=["--interactions", "/data/raw/interactions", "--out", "/data/prepared", "--min-count", "5"],
        env_vars={"PYTHONUNBUFFERED": "1", "SPLIT_SEED": "42"},
        secrets=[gcs_credentials],
        volumes=[dataset_volume],
        volume_mounts=[dataset_mount],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "4", "memory": "16Gi"},
            limits={"cpu": "8", "memory": "32Gi"},
        ),
        retries=2,
        retry_delay=timedelta(minutes=10),
        execution_timeout=timedelta(hours=2),
    )

    train = KubernetesPodOperator(
        task_id="train_model",
        name="recsys-train",
        namespace=NAMESPACE,
        image=TRAIN_IMAGE,
        image_pull_policy="Always",
        image_pull_secrets=[k8s.V1LocalObjectReference(name="registry-pull")],
        cmds=["torchrun"],
        arguments=[
            "--nproc_per_node=1",
            "-m", "recsys.train",
            "--config", "/etc/train/config.yaml",
            "--data", "/data/prepared",
            "--output", "/data/models/candidate",
        ],
        env_vars=[
            k8s.V1EnvVar(name="NCCL_DEBUG", value="WARN"),
            k8s.V1EnvVar(name="WANDB_PROJECT", value="recommender"),
        ],
        secrets=[wandb_key, gcs_credentials],
        volumes=[dataset_volume, config_volume, shm_volume],
        volume_mounts=[dataset_mount, config_mount, shm_mount],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "8", "memory": "60Gi"},
            limits={"cpu": "12", "memory": "80Gi", "nvidia.com/gpu": "1"},
        ),
        node_selector={"cloud.google.com/gke-nodepool": "gpu-a100"},
        tolerations=[
            k8s.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule"),
            k8s.V1Toleration(key="dedicated", operator="Equal", value="ml-training", effect="NoSchedule"),
        ],
        affinity=gpu_affinity,
        labels={"app": "recommender", "stage": "train"},
        annotations={"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
        startup_timeout_seconds=900,
        retries=1,
        retry_delay=timedelta(minutes=15),
        execution_timeout=timedelta(hours=10),
    )

    evaluate = KubernetesPodOperator(
        task_id="evaluate_model",
        name="recsys-evaluate",
        namespace=NAMESPACE,
        image=TRAIN_IMAGE,
        cmds=["python", "-m", "recsys.evaluate"],
        arguments=["--model", "/data/models/candidate", "--report", "/data/reports/latest.json"],
        env_vars={"PYTHONUNBUFFERED": "1"},
        volumes=[dataset_volume],
        volume_mounts=[dataset_mount],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "2", "memory": "8Gi"},
            limits={"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"},
        ),
        node_selector={"cloud.google.com/gke-nodepool": "gpu-l4"},
        tolerations=[k8s.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")],
        labels={"app": "recommender", "stage": "evaluate"},
        execution_timeout=timedelta(hours=1),
    )

    prepare >> train >> evaluate
