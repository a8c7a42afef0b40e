"""KubernetesPodOperator and GKEStartPodOperator -> a container component with pod settings.

``cmds`` is the container's ENTRYPOINT (KFP ``command``) and ``arguments`` its CMD (KFP
``args``), the same meaning on both sides; everything pod-level goes through kfp-kubernetes.
"""

from __future__ import annotations

from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.base import apply_base, finish
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import ConfigMapEnv, KfpTask, NodeAffinity, SecretEnv, Toleration, Volume
from af2kfp.converters.mappings.pod import POD_FLAGGED_ARGS, POD_IGNORED, POD_MAPPED_ARGS, apply_pod
from af2kfp.converters.mappings.values import check_templates, string, string_list
from af2kfp.converters.values import Call, Duration

__all__ = ["RULES", "OPERATORS", "map_task", "EXAMPLES", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS"]

KPO = "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"
GKE = "airflow.providers.google.cloud.operators.kubernetes_engine.GKEStartPodOperator"
RULES = ("KubernetesPodOperator", "GKEStartPodOperator")
OPERATORS = {
    KPO: "KubernetesPodOperator",
    "airflow.providers.cncf.kubernetes.operators.kubernetes_pod.KubernetesPodOperator": "KubernetesPodOperator",
    "airflow.contrib.operators.kubernetes_pod_operator.KubernetesPodOperator": "KubernetesPodOperator",
    GKE: "GKEStartPodOperator",
}
# Templated arguments the template pass does not translate (cmds, arguments, env_vars it does).
_TEMPLATED = ["image", "labels", "annotations", "node_selector"]


MAPPED_ARGS = ("image -> ContainerSpec.image", "cmds -> command", "arguments -> args", *POD_MAPPED_ARGS)
DROPPED_ARGS = tuple(sorted(POD_IGNORED))
FLAGGED_ARGS = POD_FLAGGED_ARGS
def map_task(ctx: MapContext, rule: str) -> KfpTask:
    """Map one pod task; GKE cluster selection is dropped (the pipeline runs on KFP's cluster)."""
    kfp = KfpTask(task_id=ctx.task.task_id, operator=ctx.task.operator, rule=rule, kind="container")
    apply_base(ctx, kfp)
    check_templates(ctx, _TEMPLATED)
    kfp.image = string(ctx, ctx.arg("image"), "image") if ctx.has("image") else None
    if kfp.image is None:
        ctx.add(codes.UNRESOLVED_VALUE, "the pod has no image", "Set image= on the operator.")
        kfp.image = "MISSING-IMAGE"
    kfp.command = string_list(ctx, ctx.arg("cmds"), "cmds")
    kfp.args = string_list(ctx, ctx.arg("arguments"), "arguments")
    apply_pod(ctx, kfp)
    return finish(ctx, kfp, POD_IGNORED)


EXAMPLES = [
    Example(
        title="Image, cmds and arguments keep their Kubernetes meaning",
        airflow='KubernetesPodOperator(task_id="train", image="trainer:1.2", cmds=["python", "-m", "train"], arguments=["--epochs", "3"])',
        task=example_task(KPO, "train", image="trainer:1.2", cmds=["python", "-m", "train"], arguments=["--epochs", "3"]),
        fields={"image": "trainer:1.2", "command": ["python", "-m", "train"], "args": ["--epochs", "3"]},
        kfp=(
            'image="trainer:1.2"',
            'command=["python", "-m", "train"]',
            'args=["--epochs", "3"]',
        ),
    ),
    Example(
        title="A V1EnvVar literal under a secret-looking name is read from the DAG's Secret (M246)",
        airflow=(
            'KubernetesPodOperator(task_id="train", image="trainer:1.2", env_vars=[\n'
            '    k8s.V1EnvVar(name="WANDB_API_KEY", value="abc123"), k8s.V1EnvVar(name="WANDB_PROJECT", value="rec")])'
        ),
        task=example_task(
            KPO, "train", image="trainer:1.2",
            env_vars=[Call(func="kubernetes.client.models.V1EnvVar", kwargs={"name": "WANDB_API_KEY", "value": "abc123"}),
                      Call(func="kubernetes.client.models.V1EnvVar", kwargs={"name": "WANDB_PROJECT", "value": "rec"})],
        ),
        fields={"env": {"WANDB_PROJECT": "rec"},
                "secret_env": [SecretEnv(secret_name="example-env", key_to_env={"WANDB_API_KEY": "WANDB_API_KEY"})]},
        kfp=('.set_env_variable(name="WANDB_PROJECT", value="rec")',
             'secret_key_to_env={"WANDB_API_KEY": "WANDB_API_KEY"}'),
        codes=("M246",),
        fate="review",
    ),
    Example(
        title="env_vars, secrets and resources (a GPU limit becomes the accelerator)",
        airflow=(
            'KubernetesPodOperator(task_id="train", image="trainer:1.2", env_vars={"MODE": "full"},\n'
            '    secrets=[Secret("env", "DB_PASS", "db-secret", "password")],\n'
            '    container_resources=k8s.V1ResourceRequirements(requests={"cpu": "2", "memory": "4Gi"},\n'
            '        limits={"memory": "8Gi", "nvidia.com/gpu": "1"}))'
        ),
        task=example_task(
            KPO, "train", image="trainer:1.2", env_vars={"MODE": "full"},
            secrets=[Call(func="airflow.providers.cncf.kubernetes.secret.Secret", args=("env", "DB_PASS", "db-secret", "password"))],
            container_resources=Call(
                func="kubernetes.client.models.V1ResourceRequirements",
                kwargs={"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "8Gi", "nvidia.com/gpu": "1"}},
            ),
        ),
        fields={
            "env": {"MODE": "full"},
            "secret_env": [SecretEnv(secret_name="db-secret", key_to_env={"password": "DB_PASS"})],
            "cpu_request": "2", "memory_request": "4Gi", "memory_limit": "8Gi",
            "accelerator_type": "nvidia.com/gpu", "accelerator_limit": "1",
        },
        kfp=(
            '.set_env_variable(name="MODE", value="full")',
            'kubernetes.use_secret_as_env(',
            'secret_key_to_env={"password": "DB_PASS"}',
            '.set_cpu_request("2")',
            '.set_memory_limit("8Gi")',
            '.set_accelerator_type("nvidia.com/gpu")',
            '.set_accelerator_limit("1")',
        ),
        codes=("M207",),
    ),
    Example(
        title="Scheduling, metadata, volumes, retries and timeout",
        airflow=(
            'KubernetesPodOperator(task_id="score", image="scorer:2", node_selector={"pool": "gpu"},\n'
            '    tolerations=[k8s.V1Toleration(key="gpu", operator="Exists", effect="NoSchedule")],\n'
            '    labels={"team": "ml"}, annotations={"owner": "ml@x"}, image_pull_secrets=[k8s.V1LocalObjectReference("regcred")],\n'
            '    image_pull_policy="Always", volumes=[k8s.V1Volume(name="data", persistent_volume_claim=\n'
            '        k8s.V1PersistentVolumeClaimVolumeSource(claim_name="data-pvc"))],\n'
            '    volume_mounts=[k8s.V1VolumeMount(name="data", mount_path="/data")],\n'
            '    retries=2, retry_delay=timedelta(minutes=1), retry_exponential_backoff=True,\n'
            '    execution_timeout=timedelta(hours=1))'
        ),
        task=example_task(
            KPO, "score", image="scorer:2", node_selector={"pool": "gpu"},
            tolerations=[Call(func="kubernetes.client.V1Toleration", kwargs={"key": "gpu", "operator": "Exists", "effect": "NoSchedule"})],
            labels={"team": "ml"}, annotations={"owner": "ml@x"},
            image_pull_secrets=[Call(func="k8s.V1LocalObjectReference", kwargs={"name": "regcred"})],
            image_pull_policy="Always",
            volumes=[Call(func="kubernetes.client.models.V1Volume", kwargs={
                "name": "data",
                "persistent_volume_claim": Call(func="kubernetes.client.models.V1PersistentVolumeClaimVolumeSource", kwargs={"claim_name": "data-pvc"}),
            })],
            volume_mounts=[Call(func="kubernetes.client.models.V1VolumeMount", kwargs={"name": "data", "mount_path": "/data"})],
            retries=2, retry_delay=Duration(seconds=60), retry_exponential_backoff=True,
            execution_timeout=Duration(seconds=3600),
        ),
        fields={
            "node_selector": {"pool": "gpu"},
            "tolerations": [Toleration(key="gpu", operator="Exists", effect="NoSchedule")],
            "labels": {"team": "ml"}, "image_pull_secrets": ["regcred"], "image_pull_policy": "Always",
            "volumes": [Volume(kind="pvc", name="data-pvc", mount_path="/data")],
            "timeout_seconds": 3600,
        },
        kfp=(
            'kubernetes.add_node_selector(',
            'kubernetes.add_toleration(',
            'kubernetes.add_pod_label(',
            'kubernetes.add_pod_annotation(',
            'kubernetes.set_image_pull_secrets(',
            'kubernetes.set_image_pull_policy(',
            'kubernetes.mount_pvc(',
            'num_retries=2, backoff_duration="60s", backoff_factor=2.0',
            'kubernetes.set_timeout(',
        ),
    ),
    Example(
        title="Security context: the ids map, other fields are flagged",
        airflow=(
            'KubernetesPodOperator(task_id="t", image="a:1",\n'
            '    security_context=k8s.V1PodSecurityContext(run_as_user=1000, run_as_non_root=True, fs_group=2000))'
        ),
        task=example_task(KPO, "t", image="a:1", security_context=Call(
            func="kubernetes.client.models.V1PodSecurityContext",
            kwargs={"run_as_user": 1000, "run_as_non_root": True, "fs_group": 2000})),
        fields={"security": {"run_as_user": 1000, "run_as_non_root": True}},
        kfp=("kubernetes.set_security_context(",),
        codes=("M202",),
        fate="review",
    ),
    Example(
        title="Required node affinity maps; pod anti-affinity is flagged",
        airflow=(
            'KubernetesPodOperator(task_id="t", image="a:1", affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":\n'
            '    {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}},\n'
            '    "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}})'
        ),
        task=example_task(KPO, "t", image="a:1", affinity={
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "x"}]},
        }),
        fields={"node_affinity": [NodeAffinity(match_expressions=[{"key": "zone", "operator": "In", "values": ["a"]}])]},
        kfp=('kubernetes.add_node_affinity(',),
        codes=("M209",),
        fate="review",
    ),
    Example(
        title="Environment from the pod's own fields and from ConfigMap keys (the downward API)",
        airflow=(
            'KubernetesPodOperator(task_id="t", image="a:1", env_vars=[\n'
            '    k8s.V1EnvVar(name="POD_NAME", value_from=k8s.V1EnvVarSource(\n'
            '        field_ref=k8s.V1ObjectFieldSelector(field_path="metadata.name"))),\n'
            '    k8s.V1EnvVar(name="REGION", value_from=k8s.V1EnvVarSource(\n'
            '        config_map_key_ref=k8s.V1ConfigMapKeySelector(name="cluster-info", key="region")))])'
        ),
        task=example_task(KPO, "t", image="a:1", env_vars=[
            Call(func="kubernetes.client.models.V1EnvVar", kwargs={"name": "POD_NAME", "value_from": Call(
                func="kubernetes.client.models.V1EnvVarSource", kwargs={"field_ref": Call(
                    func="kubernetes.client.models.V1ObjectFieldSelector", kwargs={"field_path": "metadata.name"})})}),
            Call(func="kubernetes.client.models.V1EnvVar", kwargs={"name": "REGION", "value_from": Call(
                func="kubernetes.client.models.V1EnvVarSource", kwargs={"config_map_key_ref": Call(
                    func="kubernetes.client.models.V1ConfigMapKeySelector",
                    kwargs={"name": "cluster-info", "key": "region"})})}),
        ]),
        fields={"field_env": {"POD_NAME": "metadata.name"},
                "config_map_env": [ConfigMapEnv(config_map_name="cluster-info", key_to_env={"region": "REGION"})]},
        kfp=('kubernetes.use_field_path_as_env(',
             'config_map_key_to_env={"region": "REGION"}'),
    ),
    Example(
        title="GKEStartPodOperator: cluster selection dropped, the pod maps like KubernetesPodOperator",
        airflow='GKEStartPodOperator(task_id="t", project_id="p", location="eu", cluster_name="c", image="a:1", cmds=["run"])',
        task=example_task(GKE, "t", project_id="p", location="eu", cluster_name="c", image="a:1", cmds=["run"]),
        fields={"image": "a:1", "command": ["run"]},
        codes=("M203", "M203", "M203"),
    ),
]
