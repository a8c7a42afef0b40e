"""DockerOperator -> a container component.

Docker's ``command`` replaces the image's CMD, so it is KFP ``args``; ``entrypoint``
replaces ENTRYPOINT, so it is KFP ``command``. A string is shell-split as docker-py
does (``shlex.split``). ``private_environment`` never reaches the output: it becomes
a Kubernetes Secret the user creates.
"""

from __future__ import annotations

import re
from typing import Any

from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.base import apply_base, finish
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import Input, KfpTask, SecretEnv, Volume
from af2kfp.converters.mappings.pod import set_cpu, set_memory
from af2kfp.converters.mappings.values import check_templates, class_name, command_list, env_dict, items, string, unexpected
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.values import Call

__all__ = ["RULES", "OPERATORS", "map_task", "apply_docker_environment", "EXAMPLES", "secret_name_for", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS"]

DOCKER = "airflow.providers.docker.operators.docker.DockerOperator"
RULES = ("DockerOperator",)
OPERATORS = {
    DOCKER: "DockerOperator",
    "airflow.operators.docker_operator.DockerOperator": "DockerOperator",
}
# Docker daemon plumbing with no meaning on Kubernetes.
IGNORED = frozenset({
    "docker_url", "api_version", "docker_conn_id", "tls_ca_cert", "tls_client_cert", "tls_client_key",
    "tls_verify", "tls_hostname", "tls_ssl_version", "auto_remove", "tty", "xcom_all", "mount_tmp_dir",
    "host_tmp_dir", "tmp_dir", "container_name", "timeout", "retrieve_output", "retrieve_output_path",
    "log_opts_max_size", "log_opts_max_file", "use_tls",
})
# Templated arguments the template pass does not translate (command, entrypoint, environment it does).
_TEMPLATED = ["image", "container_name"]
MAPPED_ARGS = ("image -> ContainerSpec.image", "command -> args (Docker's command is KFP's args)",
               "entrypoint -> command", "environment -> set_env_variable (secret-looking literals -> use_secret_as_env, M246)",
               "private_environment -> use_secret_as_env (values never written)", "mem_limit -> set_memory_limit",
               "cpus -> set_cpu_limit", "shm_size -> emptyDir on /dev/shm", "device_requests (GPUs) -> set_accelerator_limit",
               "user (numeric uid[:gid]) -> set_security_context", "force_pull -> set_image_pull_policy('Always')")
DROPPED_ARGS = tuple(sorted(IGNORED))
FLAGGED_ARGS = ("mounts (no Kubernetes equivalent: use a PVC)", "user (names)", "device_requests (not GPUs)",
                "Jinja in image; Jinja without a KFP translation (docs/templating.md)")


def secret_name_for(dag_id: str, task_id: str) -> str:
    """A valid Kubernetes Secret name for a task's private environment."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{dag_id}-{task_id}-env".lower()).strip("-")
    return name[:253].rstrip("-") or "af2kfp-env"


def apply_docker_environment(ctx: MapContext, kfp: KfpTask) -> None:
    """``environment`` -> env (secret-looking literals -> a Secret, M246); ``private_environment`` -> a Secret
    (names only), ``cpus``, ``mem_limit``."""
    env_dict(ctx, kfp, ctx.arg("environment"), "environment")
    private = ctx.arg("private_environment")
    if isinstance(private, dict) and private:
        name = secret_name_for(ctx.dag_id, ctx.task.task_id)
        keys = sorted(str(key) for key in private)
        kfp.secret_env.append(SecretEnv(secret_name=name, key_to_env={key: key for key in keys}))
        literals = " ".join(f"--from-literal={key}=..." for key in keys)
        ctx.add(
            codes.PRIVATE_ENVIRONMENT,
            f"private_environment {keys} is read from Kubernetes Secret {name!r}; its values are not written out",
            f"kubectl create secret generic {name} {literals}",
        )
    elif private is not None:
        ctx.add(codes.UNRESOLVED_VALUE, "private_environment is not a known dict; nothing is exposed",
                "Create a Secret and use kfp.kubernetes.use_secret_as_env by hand.")
    if ctx.has("cpus"):
        set_cpu(ctx, kfp, ctx.arg("cpus"), "limit")
    if ctx.has("mem_limit"):
        set_memory(ctx, kfp, ctx.arg("mem_limit"), "limit", docker_units=True)


def _mounts(ctx: MapContext, value: Any) -> None:
    for mount in items(ctx, value, "mounts"):
        kwargs = mount.kwargs if isinstance(mount, Call) and class_name(mount) == "Mount" else None
        if kwargs is None:
            unexpected(ctx, mount, "mounts item")
            continue
        ctx.add(
            codes.MOUNT_UNSUPPORTED,
            f"{kwargs.get('type', 'volume')} mount {kwargs.get('source')!r} -> {kwargs.get('target')!r} has no Kubernetes equivalent",
            "Put the data on a PersistentVolumeClaim and mount it with kfp.kubernetes.mount_pvc.",
        )


def _user(ctx: MapContext, kfp: KfpTask) -> None:
    user = ctx.arg("user")
    if user is None:
        return
    parts = str(user).split(":") if isinstance(user, (str, int)) and not isinstance(user, bool) else []
    if parts and all(p.isdigit() for p in parts) and len(parts) <= 2:
        kfp.security["run_as_user"] = int(parts[0])
        if len(parts) == 2:
            kfp.security["run_as_group"] = int(parts[1])
    else:
        ctx.add(codes.ARGUMENT_DROPPED, f"user={user!r} is not a numeric uid[:gid]; dropped",
                "Kubernetes needs numeric ids: kfp.kubernetes.set_security_context(task, run_as_user=UID).")


def _shm_and_gpus(ctx: MapContext, kfp: KfpTask) -> None:
    shm = ctx.arg("shm_size")
    if shm is not None and not isinstance(shm, (str, int)) or isinstance(shm, bool):
        unexpected(ctx, shm, "shm_size")
    elif shm is not None:
        size = str(shm).upper() if isinstance(shm, str) else str(shm)
        size = size + "i" if re.match(r"^[0-9]+[KMG]$", size) else size  # Docker units are binary
        kfp.volumes.append(Volume(kind="empty_dir", name="dshm", mount_path="/dev/shm", medium="Memory", size_limit=size))
    for request in items(ctx, ctx.arg("device_requests"), "device_requests"):
        kwargs = request.kwargs if isinstance(request, Call) and class_name(request) == "DeviceRequest" else None
        capabilities = str((kwargs or {}).get("capabilities"))
        count = (kwargs or {}).get("count")
        if kwargs is None or "gpu" not in capabilities:
            ctx.add(codes.ARGUMENT_DROPPED, "a device request that is not a GPU request is dropped")
            continue
        if not isinstance(count, int) or count < 1:
            ctx.add(codes.INVALID_RESOURCE, "device request for all GPUs (count=-1); one GPU is requested",
                    "Set the GPU count explicitly with set_accelerator_limit.")
            count = 1
        kfp.accelerator_type, kfp.accelerator_limit = "nvidia.com/gpu", str(count)


def map_task(ctx: MapContext, rule: str) -> KfpTask:
    """Map one DockerOperator task."""
    kfp = KfpTask(task_id=ctx.task.task_id, operator=ctx.task.operator, rule=rule, kind="container")
    apply_base(ctx, kfp)
    check_templates(ctx, _TEMPLATED)
    kfp.image = string(ctx, ctx.arg("image", "MISSING-IMAGE"), "image")
    kfp.command = command_list(ctx, ctx.arg("entrypoint"), "entrypoint") if ctx.has("entrypoint") else []
    kfp.args = command_list(ctx, ctx.arg("command"), "command") if ctx.has("command") else []
    apply_docker_environment(ctx, kfp)
    _mounts(ctx, ctx.arg("mounts"))
    _user(ctx, kfp)
    _shm_and_gpus(ctx, kfp)
    if ctx.arg("force_pull"):
        kfp.image_pull_policy = "Always"
    return finish(ctx, kfp, IGNORED)


EXAMPLES = [
    Example(
        title="A string command is shell-split and becomes KFP args (Docker CMD)",
        airflow='DockerOperator(task_id="extract", image="etl:1.0", command="python extract.py --date 2024-01-01")',
        task=example_task(DOCKER, "extract", image="etl:1.0", command="python extract.py --date 2024-01-01"),
        fields={"image": "etl:1.0", "command": [], "args": ["python", "extract.py", "--date", "2024-01-01"]},
        kfp=('image="etl:1.0"', 'args=["python", "extract.py", "--date", "2024-01-01"]'),
    ),
    Example(
        title="entrypoint becomes KFP command (Docker ENTRYPOINT)",
        airflow="""DockerOperator(task_id="load", image="etl:1.0", entrypoint=["/bin/sh", "-c"], command=["load.sh 'a b'"])""",
        task=example_task(DOCKER, "load", image="etl:1.0", entrypoint=["/bin/sh", "-c"], command=["load.sh 'a b'"]),
        fields={"command": ["/bin/sh", "-c"], "args": ["load.sh 'a b'"]},
        kfp=('command=["/bin/sh", "-c"]',),
    ),
    Example(
        title="environment, private_environment (a Secret, never plaintext), cpus, mem_limit, force_pull",
        airflow=(
            'DockerOperator(task_id="load", image="etl:1.0", environment={"STAGE": "prod"},\n'
            '    private_environment={"DB_PASSWORD": "hunter2"}, cpus=1.5, mem_limit="2g", force_pull=True,\n'
            '    docker_url="unix://var/run/docker.sock", auto_remove="success")'
        ),
        task=example_task(
            DOCKER, "load", image="etl:1.0", environment={"STAGE": "prod"}, private_environment={"DB_PASSWORD": "hunter2"},
            cpus=1.5, mem_limit="2g", force_pull=True, docker_url="unix://var/run/docker.sock", auto_remove="success",
        ),
        fields={
            "env": {"STAGE": "prod"},
            "secret_env": [SecretEnv(secret_name="example-load-env", key_to_env={"DB_PASSWORD": "DB_PASSWORD"})],
            "cpu_limit": "1.5", "memory_limit": "2Gi", "image_pull_policy": "Always",
        },
        kfp=(
            '.set_env_variable(name="STAGE", value="prod")',
            'secret_name="example-load-env"',
            '.set_cpu_limit("1.5")',
            '.set_memory_limit("2Gi")',
            'kubernetes.set_image_pull_policy(',
        ),
        codes=("M206", "M203", "M203"),
        fate="review",
    ),
    Example(
        title="A literal under a secret-looking name is read from the DAG's Secret <dag-id>-env, never written (M246)",
        airflow='DockerOperator(task_id="load", image="etl:1.0", environment={"LOADER_API_KEY": "s3cr3t", "TOKENIZER_NAME": "bpe"})',
        task=example_task(DOCKER, "load", image="etl:1.0", environment={"LOADER_API_KEY": "s3cr3t", "TOKENIZER_NAME": "bpe"}),
        fields={
            "env": {"TOKENIZER_NAME": "bpe"},
            "secret_env": [SecretEnv(secret_name="example-env", key_to_env={"LOADER_API_KEY": "LOADER_API_KEY"})],
        },
        kfp=(
            '.set_env_variable(name="TOKENIZER_NAME", value="bpe")',
            'secret_name="example-env"',
            'secret_key_to_env={"LOADER_API_KEY": "LOADER_API_KEY"}',
        ),
        codes=("M246",),
        fate="review",
    ),
    Example(
        title="user, shm_size and a GPU device request",
        airflow=(
            'DockerOperator(task_id="t", image="a:1", user="1000:100", shm_size="2g",\n'
            '    device_requests=[DeviceRequest(count=2, capabilities=[["gpu"]])])'
        ),
        task=example_task(DOCKER, "t", image="a:1", user="1000:100", shm_size="2g",
                          device_requests=[Call(func="docker.types.DeviceRequest", kwargs={"count": 2, "capabilities": [["gpu"]]})]),
        fields={
            "security": {"run_as_user": 1000, "run_as_group": 100},
            "volumes": [Volume(kind="empty_dir", name="dshm", mount_path="/dev/shm", medium="Memory", size_limit="2Gi")],
            "accelerator_type": "nvidia.com/gpu", "accelerator_limit": "2",
        },
        kfp=("kubernetes.set_security_context(", "kubernetes.empty_dir_mount(", '.set_accelerator_limit("2")'),
    ),
    Example(
        title="Bind mounts have no Kubernetes equivalent",
        airflow='DockerOperator(task_id="t", image="a:1", mounts=[Mount(source="/data", target="/data", type="bind")])',
        task=example_task(DOCKER, "t", image="a:1", mounts=[Call(func="docker.types.Mount", kwargs={"source": "/data", "target": "/data", "type": "bind"})]),
        codes=("M208",),
        fate="review",
    ),
    Example(
        title="Jinja in the command: {{ ds }} is an output of the run context (docs/templating.md)",
        airflow='DockerOperator(task_id="t", image="a:1", command="run --date {{ ds }}")',
        task=example_task(DOCKER, "t", image="a:1", command="run --date {{ ds }}"),
        fields={"args": ["run", "--date", Input(name="ds", task_id=RUN_CONTEXT_ID, key="ds")]},
        kfp=("def t(ds: str):", 'def example(logical_date: str = ""):', 't(ds=run_context_task.outputs["ds"])'),
    ),
    Example(
        title="Jinja in the image cannot be a parameter: kept and flagged",
        airflow='DockerOperator(task_id="t", image="repo/app:{{ params.tag }}")',
        task=example_task(DOCKER, "t", image="repo/app:{{ params.tag }}"),
        codes=("M204",),
        fate="review",
    ),
]
