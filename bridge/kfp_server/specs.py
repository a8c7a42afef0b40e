"""Reading pipeline packages and specs the way the KFP API server does.

A package is a compiled pipeline YAML (one document, or two with the
platform spec), or a .tar.gz/.tgz/.zip holding one. Specs are kept as the
JSON dict ``kfp.Client`` sends (``MessageToDict`` of the PipelineSpec, or
``{"pipeline_spec": ..., "platform_spec": ...}``).
"""

from __future__ import annotations

import datetime
import io
import tarfile
import zipfile
from typing import Any, Mapping

import yaml

__all__ = [
    "SpecError",
    "load_package",
    "pipeline_spec_of",
    "root_tasks",
    "pipeline_name",
    "is_lightweight_executor",
    "is_lightweight_python",
    "CREATE_TIME_PLACEHOLDER",
    "SCHEDULE_TIME_PLACEHOLDER",
    "with_run_times",
]

CREATE_TIME_PLACEHOLDER = "{{$.pipeline_job_create_time_utc}}"
SCHEDULE_TIME_PLACEHOLDER = "{{$.pipeline_job_schedule_time_utc}}"


class SpecError(ValueError):
    """An unreadable package or spec; the message says what is wrong."""


def _from_archive(data: bytes, filename: str) -> bytes:
    names: list[tuple[str, bytes]] = []
    if filename.endswith((".tar.gz", ".tgz")):
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                if member.isfile() and member.name.endswith((".yaml", ".yml", ".json")):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        names.append((member.name, handle.read()))
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.endswith((".yaml", ".yml", ".json")):
                    names.append((name, archive.read(name)))
    if len(names) != 1:
        raise SpecError(f"{filename}: the archive must hold exactly one pipeline YAML, found {len(names)}")
    return names[0][1]


def load_package(data: bytes, filename: str = "pipeline.yaml") -> dict[str, Any]:
    """Parse an uploaded package into the spec dict stored for a version."""
    try:
        if filename.endswith((".tar.gz", ".tgz", ".zip")):
            data = _from_archive(data, filename)
        documents = [d for d in yaml.safe_load_all(data.decode("utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError, tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
        raise SpecError(f"{filename}: not a pipeline package: {exc}") from None
    if not documents or not isinstance(documents[0], dict):
        raise SpecError(f"{filename}: not a pipeline package: no YAML mapping")
    spec = documents[0]
    if "pipeline_spec" in spec:
        spec = spec["pipeline_spec"]
    if "root" not in spec or "pipelineInfo" not in spec:
        raise SpecError(f"{filename}: not a compiled KFP v2 pipeline (no 'root' or 'pipelineInfo')")
    if len(documents) > 1 and isinstance(documents[1], dict) and documents[1]:
        return {"pipeline_spec": spec, "platform_spec": documents[1]}
    return spec


def pipeline_spec_of(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The PipelineSpec part of a stored spec."""
    inner = spec.get("pipeline_spec")
    return inner if isinstance(inner, Mapping) else spec


def pipeline_name(spec: Mapping[str, Any]) -> str:
    info = pipeline_spec_of(spec).get("pipelineInfo") or {}
    return str(info.get("name") or "pipeline")


def root_tasks(spec: Mapping[str, Any]) -> list[str]:
    """Names of the root DAG's tasks in a topological order (ties by name)."""
    tasks = ((pipeline_spec_of(spec).get("root") or {}).get("dag") or {}).get("tasks") or {}
    if not isinstance(tasks, Mapping):
        raise SpecError("pipeline spec: root.dag.tasks is not a mapping")
    deps = {name: set((body or {}).get("dependentTasks") or []) & set(tasks) for name, body in tasks.items()}
    order: list[str] = []
    while deps:
        ready = sorted(name for name, needs in deps.items() if not needs)
        if not ready:  # a cycle cannot come from the compiler; keep the rest by name
            ready = sorted(deps)
        for name in ready:
            order.append(name)
            del deps[name]
        for needs in deps.values():
            needs.difference_update(ready)
    return order


def is_lightweight_executor(executor: Mapping[str, Any] | None) -> bool:
    """True for a lightweight Python component's executor: a shell script that writes the
    function's source and runs ``executor_main`` (containerized Python components call
    ``executor_main`` directly from their own image; container components run anything)."""
    command = ((executor or {}).get("container") or {}).get("command") or []
    return command[:1] == ["sh"] and "kfp.dsl.executor_main" in " ".join(command)


def is_lightweight_python(spec: Mapping[str, Any]) -> bool:
    """True when every executor is a lightweight Python component (``kfp.local``
    can run those with the SubprocessRunner)."""
    executors = (pipeline_spec_of(spec).get("deploymentSpec") or {}).get("executors") or {}
    return bool(executors) and all(is_lightweight_executor(e) for e in executors.values())


def _rfc3339(epoch: float) -> str:
    """``2024-03-05T00:00:00Z``: how the KFP driver writes a run's times (Go's time.RFC3339, UTC)."""
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_run_times(spec: Any, *, created_at: float, scheduled_at: float) -> Any:
    """``spec`` with KFP's run-time placeholders filled as the KFP driver fills them
    (``backend/src/v2/driver/resolve.go``): a task input whose runtime constant is exactly
    ``{{$.pipeline_job_create_time_utc}}`` gets the run's creation time, one that is
    ``{{$.pipeline_job_schedule_time_utc}}`` its scheduled time (a recurring run's tick, the
    creation time for a run made by hand). ``kfp.local`` resolves neither."""
    values = {CREATE_TIME_PLACEHOLDER: _rfc3339(created_at), SCHEDULE_TIME_PLACEHOLDER: _rfc3339(scheduled_at)}

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: values.get(v, v) if k == "constant" and isinstance(v, str) else fill(v) for k, v in node.items()
            }
        if isinstance(node, list):
            return [fill(v) for v in node]
        return node

    return fill(spec)
