"""Typed views of the v2beta1 JSON the client reads: runs, tasks, experiments, pipelines,
recurring runs.

Each view keeps the server's full object in ``raw`` (field names as in
``kfp_server_api.models.V2beta1*.attribute_map``, snake_case; camelCase is accepted too)
and exposes the fields callers use. :func:`describe_failure` writes the message a failed
run deserves; :func:`run_url` links to the run in the KFP UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Mapping, TypeVar
from urllib.parse import quote

from af2kfp.bridge.kfp.states import RunState

__all__ = [
    "Run",
    "RecurringRun",
    "TaskDetail",
    "Experiment",
    "Pipeline",
    "PipelineVersion",
    "Page",
    "describe_failure",
    "run_url",
    "experiment_url",
]

T = TypeVar("T")


def _get(obj: Mapping[str, Any] | None, name: str, default: Any = None) -> Any:
    """``obj[name]``, or its camelCase spelling (grpc-gateway without OrigName)."""
    if not obj:
        return default
    if name in obj:
        return obj[name]
    head, *rest = name.split("_")
    return obj.get(head + "".join(part.title() for part in rest), default)


def _status_message(status: Any) -> str | None:
    """The text of a ``google.rpc.Status`` (``{"code", "message", "details"}``), if any."""
    if isinstance(status, Mapping):
        message = status.get("message")
        return str(message) if message else None
    return str(status) if status else None


@dataclass(frozen=True)
class TaskDetail:
    """One task of a run (``V2beta1PipelineTaskDetail``)."""

    task_id: str
    display_name: str
    state: RunState
    error: str | None
    pod_names: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "TaskDetail":
        pods = [_get(data, "pod_name")] + [_get(child, "pod_name") for child in _get(data, "child_tasks") or ()]
        return cls(
            task_id=str(_get(data, "task_id") or ""),
            display_name=str(_get(data, "display_name") or _get(data, "task_id") or "?"),
            state=RunState.parse(_get(data, "state")),
            error=_status_message(_get(data, "error")),
            pod_names=tuple(dict.fromkeys(p for p in pods if p)),
        )


@dataclass(frozen=True)
class Run:
    """A KFP run (``V2beta1Run``) with its state parsed and its task details."""

    run_id: str
    display_name: str
    experiment_id: str | None
    state: RunState
    error: str | None
    created_at: str | None
    finished_at: str | None
    storage_state: str | None
    tasks: tuple[TaskDetail, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Run":
        details = _get(data, "run_details") or {}
        return cls(
            run_id=str(_get(data, "run_id") or ""),
            display_name=str(_get(data, "display_name") or ""),
            experiment_id=_get(data, "experiment_id"),
            state=RunState.parse(_get(data, "state")),
            error=_status_message(_get(data, "error")),
            created_at=_get(data, "created_at"),
            finished_at=_get(data, "finished_at"),
            storage_state=_get(data, "storage_state"),
            tasks=tuple(TaskDetail.from_json(t) for t in _get(details, "task_details") or ()),
            raw=dict(data),
        )

    @property
    def recurring_run_id(self) -> str | None:
        """The recurring run that started this run (None for a run created by hand)."""
        return _get(self.raw, "recurring_run_id") or None

    @property
    def scheduled_at(self) -> str | None:
        """When the run was scheduled: its recurring run's tick, else its creation time."""
        return _get(self.raw, "scheduled_at") or self.created_at

    @property
    def simulated(self) -> bool:
        """True when the server says nothing was executed (``af2kfp kfp-server`` without
        ``--execute``, through the run's ``plugins_output``); a real KFP never says so."""
        return _af2kfp_note(self.raw).get("entries", {}).get("execution", {}).get("value") == "simulated"

    @property
    def execution_note(self) -> str | None:
        """What the local server says about how the run was (not) executed, when it is
        worth telling: a simulated run, or tasks it could not run."""
        note = _af2kfp_note(self.raw)
        if self.simulated or note.get("state") == "PLUGIN_FAILED":
            return str(note.get("state_message") or "") or None
        return None

    @property
    def failed_tasks(self) -> tuple[TaskDetail, ...]:
        return tuple(t for t in self.tasks if t.state is RunState.FAILED)

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able facts, e.g. for an Airflow XCom return value."""
        return {
            "run_id": self.run_id,
            "display_name": self.display_name,
            "experiment_id": self.experiment_id,
            "state": self.state.value,
            "error": self.error,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "failed_tasks": [t.display_name for t in self.failed_tasks],
        }


@dataclass(frozen=True)
class Experiment:
    """A KFP experiment (``V2beta1Experiment``)."""

    experiment_id: str
    display_name: str
    namespace: str | None
    storage_state: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Experiment":
        return cls(
            experiment_id=str(_get(data, "experiment_id") or ""),
            display_name=str(_get(data, "display_name") or ""),
            namespace=_get(data, "namespace"),
            storage_state=_get(data, "storage_state"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Pipeline:
    """An uploaded pipeline (``V2beta1Pipeline``)."""

    pipeline_id: str
    display_name: str
    name: str | None
    namespace: str | None
    created_at: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Pipeline":
        return cls(
            pipeline_id=str(_get(data, "pipeline_id") or ""),
            display_name=str(_get(data, "display_name") or _get(data, "name") or ""),
            name=_get(data, "name"),
            namespace=_get(data, "namespace"),
            created_at=_get(data, "created_at"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class PipelineVersion:
    """A version of an uploaded pipeline (``V2beta1PipelineVersion``)."""

    pipeline_id: str
    pipeline_version_id: str
    display_name: str
    name: str | None
    created_at: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PipelineVersion":
        return cls(
            pipeline_id=str(_get(data, "pipeline_id") or ""),
            pipeline_version_id=str(_get(data, "pipeline_version_id") or ""),
            display_name=str(_get(data, "display_name") or _get(data, "name") or ""),
            name=_get(data, "name"),
            created_at=_get(data, "created_at"),
            raw=dict(data),
        )


def _int(value: Any) -> int | None:
    """An int64 field: protojson writes it as a string (``"60"``), some servers as a number."""
    if value is None or value == "":
        return None
    return int(value)


@dataclass(frozen=True)
class RecurringRun:
    """A recurring run (``V2beta1RecurringRun``): a pipeline started on a cron or an interval.

    ``cron`` (six fields, seconds first, robfig/cron) or ``interval_second`` says when;
    ``start_time``/``end_time`` bound it (RFC 3339, None when unset); ``enabled`` is its
    status (ENABLED), or its mode (ENABLE) when the server gave no status.
    """

    recurring_run_id: str
    display_name: str
    experiment_id: str | None
    namespace: str | None
    enabled: bool
    cron: str | None
    interval_second: int | None
    start_time: str | None
    end_time: str | None
    max_concurrency: int | None
    no_catchup: bool
    pipeline_id: str | None
    pipeline_version_id: str | None
    created_at: str | None
    error: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RecurringRun":
        trigger = _get(data, "trigger") or {}
        schedule = _get(trigger, "cron_schedule") or _get(trigger, "periodic_schedule") or {}
        reference = _get(data, "pipeline_version_reference") or {}
        status = _get(data, "status")
        enabled = status == "ENABLED" if status else _get(data, "mode") == "ENABLE"
        return cls(
            recurring_run_id=str(_get(data, "recurring_run_id") or ""),
            display_name=str(_get(data, "display_name") or ""),
            experiment_id=_get(data, "experiment_id"),
            namespace=_get(data, "namespace"),
            enabled=enabled,
            cron=_get(schedule, "cron"),
            interval_second=_int(_get(schedule, "interval_second")),
            start_time=_unset_time(_get(schedule, "start_time")),
            end_time=_unset_time(_get(schedule, "end_time")),
            max_concurrency=_int(_get(data, "max_concurrency")),
            no_catchup=bool(_get(data, "no_catchup")),
            pipeline_id=_get(reference, "pipeline_id"),
            pipeline_version_id=_get(reference, "pipeline_version_id") or _get(data, "pipeline_version_id"),
            created_at=_get(data, "created_at"),
            error=_status_message(_get(data, "error")),
            raw=dict(data),
        )

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able facts (the command line's ``--format json``)."""
        return {
            "recurring_run_id": self.recurring_run_id,
            "display_name": self.display_name,
            "experiment_id": self.experiment_id,
            "enabled": self.enabled,
            "cron": self.cron,
            "interval_second": self.interval_second,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "max_concurrency": self.max_concurrency,
            "no_catchup": self.no_catchup,
        }


def _unset_time(value: Any) -> str | None:
    return None if value in (None, "", "1970-01-01T00:00:00Z") else str(value)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list call; pass ``next_page_token`` back to get the next one."""

    items: tuple[T, ...]
    next_page_token: str | None
    total_size: int | None


def _af2kfp_note(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The ``plugins_output`` entry ``af2kfp kfp-server`` writes on every run."""
    note = (_get(raw, "plugins_output") or {}).get("af2kfp-kfp-server")
    return note if isinstance(note, dict) else {}


def describe_failure(run: Run) -> str:
    """One paragraph saying how ``run`` ended: its error, then each failed task (name, error, pod)."""
    head = f"KFP run {run.display_name or run.run_id!r} ({run.run_id}) ended {run.state.value}"
    parts = [head + (f": {run.error}" if run.error else "")]
    for task in run.failed_tasks:
        line = f"task {task.display_name!r} failed"
        if task.pod_names:
            line += f" (pod {', '.join(task.pod_names)})"
        if task.error:
            line += f": {task.error}"
        parts.append(line)
    return "; ".join(parts)


def run_url(ui_host: str, run_id: str, namespace: str | None = None) -> str:
    """The run's page in the KFP UI: ``{ui}/#/runs/details/{run_id}`` (``?ns=`` for multi-user)."""
    query = f"?ns={quote(namespace, safe='')}" if namespace else ""
    return f"{ui_host.rstrip('/')}/{query}#/runs/details/{quote(run_id, safe='')}"


def experiment_url(ui_host: str, experiment_id: str, namespace: str | None = None) -> str:
    """The experiment's page in the KFP UI."""
    query = f"?ns={quote(namespace, safe='')}" if namespace else ""
    return f"{ui_host.rstrip('/')}/{query}#/experiments/details/{quote(experiment_id, safe='')}"
