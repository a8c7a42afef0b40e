"""Canonical qualified names: Airflow 1.10, 2.x and 3.x import paths -> today's path.

The analyzer resolves every name through the file's own imports, then canonicalises the
result here, so ``airflow.contrib.operators.docker_operator.DockerOperator`` and
``airflow.providers.docker.operators.docker.DockerOperator`` are the same operator.
"""

from __future__ import annotations

__all__ = ["canonical", "SDK"]

SDK = "airflow.sdk"
_STD = "airflow.providers.standard"
_K8S_POD = "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"
_GKE = "airflow.providers.google.cloud.operators.kubernetes_engine"

# Whole qualified names that moved.
_EXACT: dict[str, str] = {
    "airflow.DAG": f"{SDK}.DAG",
    "airflow.models.DAG": f"{SDK}.DAG",
    "airflow.models.dag.DAG": f"{SDK}.DAG",
    "airflow.sdk.definitions.dag.DAG": f"{SDK}.DAG",
    "airflow.sdk.definitions.dag.dag": f"{SDK}.dag",
    "airflow.models.dag.dag": f"{SDK}.dag",
    "airflow.models.BaseOperator": f"{SDK}.BaseOperator",
    "airflow.models.baseoperator.BaseOperator": f"{SDK}.BaseOperator",
    "airflow.sdk.bases.operator.BaseOperator": f"{SDK}.BaseOperator",
    "airflow.sensors.base.BaseSensorOperator": f"{SDK}.BaseSensorOperator",
    "airflow.sensors.base_sensor_operator.BaseSensorOperator": f"{SDK}.BaseSensorOperator",
    "airflow.utils.task_group.TaskGroup": f"{SDK}.TaskGroup",
    "airflow.sdk.definitions.taskgroup.TaskGroup": f"{SDK}.TaskGroup",
    "airflow.utils.edgemodifier.Label": f"{SDK}.Label",
    "airflow.utils.trigger_rule.TriggerRule": f"{SDK}.TriggerRule",
    "airflow.sdk.definitions.asset.decorators.asset": f"{SDK}.asset",
    "airflow.sdk.definitions.edges.Label": f"{SDK}.Label",
    "airflow.models.xcom_arg.XComArg": f"{SDK}.XComArg",
    "airflow.models.param.Param": f"{SDK}.Param",
    "airflow.sdk.definitions.param.Param": f"{SDK}.Param",
    "airflow.models.Variable": f"{SDK}.Variable",
    "airflow.models.variable.Variable": f"{SDK}.Variable",
    "airflow.kubernetes.secret.Secret": "airflow.providers.cncf.kubernetes.secret.Secret",
    "airflow.contrib.kubernetes.secret.Secret": "airflow.providers.cncf.kubernetes.secret.Secret",
    "airflow.contrib.kubernetes.volume.Volume": "airflow.providers.cncf.kubernetes.volume.Volume",
    "airflow.contrib.kubernetes.volume_mount.VolumeMount": "airflow.providers.cncf.kubernetes.volume_mount.VolumeMount",
    "airflow.contrib.operators.kubernetes_pod_operator.KubernetesPodOperator": _K8S_POD,
    "airflow.providers.cncf.kubernetes.operators.kubernetes_pod.KubernetesPodOperator": _K8S_POD,
    "airflow.kubernetes.pod_operator.KubernetesPodOperator": _K8S_POD,
    "airflow.contrib.operators.gcp_container_operator.GKEPodOperator": f"{_GKE}.GKEStartPodOperator",
    "airflow.contrib.operators.gcp_container_operator.GKEStartPodOperator": f"{_GKE}.GKEStartPodOperator",
    "airflow.providers.google.cloud.operators.kubernetes_engine.GKEPodOperator": f"{_GKE}.GKEStartPodOperator",
    "airflow.operators.docker_operator.DockerOperator": "airflow.providers.docker.operators.docker.DockerOperator",
    "airflow.contrib.operators.docker_operator.DockerOperator": "airflow.providers.docker.operators.docker.DockerOperator",
    "airflow.operators.dummy_operator.DummyOperator": f"{_STD}.operators.empty.EmptyOperator",
    "airflow.operators.dummy.DummyOperator": f"{_STD}.operators.empty.EmptyOperator",
    "airflow.operators.dummy.EmptyOperator": f"{_STD}.operators.empty.EmptyOperator",
    "airflow.operators.empty.EmptyOperator": f"{_STD}.operators.empty.EmptyOperator",
    "airflow.operators.subdag_operator.SubDagOperator": "airflow.operators.subdag.SubDagOperator",
    "airflow.operators.branch_operator.BaseBranchOperator": f"{_STD}.operators.branch.BaseBranchOperator",
    "airflow.operators.python_operator.BranchPythonOperator": f"{_STD}.operators.python.BranchPythonOperator",
    "airflow.operators.dagrun_operator.TriggerDagRunOperator": f"{_STD}.operators.trigger_dagrun.TriggerDagRunOperator",
    "airflow.operators.latest_only_operator.LatestOnlyOperator": f"{_STD}.operators.latest_only.LatestOnlyOperator",
    "airflow.sensors.external_task_sensor.ExternalTaskSensor": f"{_STD}.sensors.external_task.ExternalTaskSensor",
    "airflow.sensors.external_task_sensor.ExternalTaskMarker": f"{_STD}.sensors.external_task.ExternalTaskMarker",
    "airflow.sensors.time_delta_sensor.TimeDeltaSensor": f"{_STD}.sensors.time_delta.TimeDeltaSensor",
    "airflow.sensors.time_sensor.TimeSensor": f"{_STD}.sensors.time.TimeSensor",
    "airflow.sensors.date_time_sensor.DateTimeSensor": f"{_STD}.sensors.date_time.DateTimeSensor",
    "airflow.sensors.bash_sensor.BashSensor": f"{_STD}.sensors.bash.BashSensor",
    "airflow.sensors.python_sensor.PythonSensor": f"{_STD}.sensors.python.PythonSensor",
    "airflow.contrib.sensors.file_sensor.FileSensor": f"{_STD}.sensors.filesystem.FileSensor",
    "airflow.sensors.weekday_sensor.DayOfWeekSensor": f"{_STD}.sensors.weekday.DayOfWeekSensor",
    "airflow.utils.helpers.chain": f"{SDK}.chain",
    "airflow.utils.helpers.cross_downstream": f"{SDK}.cross_downstream",
    "airflow.models.baseoperator.chain": f"{SDK}.chain",
    "airflow.models.baseoperator.chain_linear": f"{SDK}.chain_linear",
    "airflow.models.baseoperator.cross_downstream": f"{SDK}.cross_downstream",
    "airflow.sdk.bases.operator.chain": f"{SDK}.chain",
    "airflow.sdk.bases.operator.chain_linear": f"{SDK}.chain_linear",
    "airflow.sdk.bases.operator.cross_downstream": f"{SDK}.cross_downstream",
    # Airflow 2's airflow.utils.dates imports these from datetime, and DAG files import them from there.
    "airflow.utils.dates.timedelta": "datetime.timedelta",
    "airflow.utils.dates.datetime": "datetime.datetime",
}

# Module prefixes that moved as a whole (longest first).
_PREFIXES: list[tuple[str, str]] = sorted(
    [
        ("airflow.decorators", SDK),
        ("airflow.sdk.definitions.decorators", SDK),
        ("airflow.operators.bash_operator", f"{_STD}.operators.bash"),
        ("airflow.operators.bash", f"{_STD}.operators.bash"),
        ("airflow.operators.python_operator", f"{_STD}.operators.python"),
        ("airflow.operators.python", f"{_STD}.operators.python"),
        ("airflow.operators.datetime", f"{_STD}.operators.datetime"),
        ("airflow.operators.weekday", f"{_STD}.operators.weekday"),
        ("airflow.operators.branch", f"{_STD}.operators.branch"),
        ("airflow.operators.trigger_dagrun", f"{_STD}.operators.trigger_dagrun"),
        ("airflow.operators.latest_only", f"{_STD}.operators.latest_only"),
        ("airflow.operators.smooth", f"{_STD}.operators.smooth"),
        ("airflow.sensors.external_task", f"{_STD}.sensors.external_task"),
        ("airflow.sensors.time_delta", f"{_STD}.sensors.time_delta"),
        ("airflow.sensors.time_sensor", f"{_STD}.sensors.time"),
        ("airflow.sensors.date_time", f"{_STD}.sensors.date_time"),
        ("airflow.sensors.bash", f"{_STD}.sensors.bash"),
        ("airflow.sensors.python", f"{_STD}.sensors.python"),
        ("airflow.sensors.filesystem", f"{_STD}.sensors.filesystem"),
        ("airflow.sensors.weekday", f"{_STD}.sensors.weekday"),
        ("airflow.contrib.operators.docker_operator", "airflow.providers.docker.operators.docker"),
        ("airflow.contrib.kubernetes.pod", "airflow.providers.cncf.kubernetes.pod"),
    ],
    key=lambda item: -len(item[0]),
)


# Airflow 1.x also exposed core operators on the package itself (``from airflow.operators import X``).
_PACKAGE_LEVEL = {
    "BashOperator": f"{_STD}.operators.bash.BashOperator",
    "PythonOperator": f"{_STD}.operators.python.PythonOperator",
    "BranchPythonOperator": f"{_STD}.operators.python.BranchPythonOperator",
    "ShortCircuitOperator": f"{_STD}.operators.python.ShortCircuitOperator",
    "DummyOperator": f"{_STD}.operators.empty.EmptyOperator",
    "EmptyOperator": f"{_STD}.operators.empty.EmptyOperator",
    "TriggerDagRunOperator": f"{_STD}.operators.trigger_dagrun.TriggerDagRunOperator",
    "DockerOperator": "airflow.providers.docker.operators.docker.DockerOperator",
    "KubernetesPodOperator": _K8S_POD,
    "ExternalTaskSensor": f"{_STD}.sensors.external_task.ExternalTaskSensor",
    "TimeDeltaSensor": f"{_STD}.sensors.time_delta.TimeDeltaSensor",
}


def canonical(name: str) -> str:
    """Today's qualified path for ``name`` (unchanged when it did not move)."""
    if name in _EXACT:
        return _EXACT[name]
    if name.startswith("kubernetes.client.") and name.count(".") >= 2:
        # kubernetes.client.V1Pod, kubernetes.client.models.v1_pod.V1Pod -> kubernetes.client.models.V1Pod
        last = name.rsplit(".", 1)[-1]
        if last[:2] in ("V1", "V2") or last.startswith("V1beta") or last.startswith("V2beta"):
            return f"kubernetes.client.models.{last}"
    package, _, last = name.rpartition(".")
    if package in ("airflow.operators", "airflow.contrib.operators", "airflow.sensors") and last in _PACKAGE_LEVEL:
        return _PACKAGE_LEVEL[last]
    for old, new in _PREFIXES:
        if name == old or name.startswith(old + "."):
            moved = new + name[len(old) :]
            return _EXACT.get(moved, moved)
    return name
