"""A KFP run (``get_run`` -> ``run_details.task_details``) as a :class:`RunRecord`.

A task's attempts are its executor pods (``child_tasks``) when KFP lists them: a task
retried by ``set_retry`` runs one pod per attempt. Several details with one name
(ParallelFor iterations) are folded into one task.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping

from af2kfp.bridge.compare.model import Outcome, RunRecord, TaskRun, fold_instances, parse_time
from af2kfp.bridge.kfp import KfpClient, Run, RunState

__all__ = ["kfp_outcome", "kfp_run_record", "fetch_kfp_run"]

_OUTCOMES: dict[RunState, Outcome] = {
    RunState.SUCCEEDED: "success",
    RunState.FAILED: "failed",
    RunState.SKIPPED: "skipped",
    RunState.CANCELED: "canceled",
    RunState.CANCELING: "canceled",
}


def kfp_outcome(state: RunState | str | None) -> Outcome:
    """The outcome of a KFP run or task state (PENDING, RUNNING, PAUSED...: still running)."""
    return _OUTCOMES.get(RunState.parse(state), "running")


def _error(detail: Mapping[str, Any]) -> str | None:
    error = detail.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or "") or None
    return str(error) if error else None


def _task(detail: Mapping[str, Any]) -> TaskRun:
    state = RunState.parse(detail.get("state"))
    pods = [c.get("pod_name") for c in detail.get("child_tasks") or () if isinstance(c, Mapping)]
    pods = [p for p in dict.fromkeys(pods) if p]
    return TaskRun(
        name=str(detail.get("display_name") or detail.get("task_id") or "?"),
        state=state.value,
        outcome=kfp_outcome(state),
        start=parse_time(detail.get("start_time")),
        end=parse_time(detail.get("end_time")),
        attempts=len(pods) or None,
        error=_error(detail),
    )


def _pipeline_name(raw: Mapping[str, Any]) -> str | None:
    spec = raw.get("pipeline_spec")
    if isinstance(spec, Mapping) and isinstance(spec.get("pipeline_spec"), Mapping):
        spec = spec["pipeline_spec"]  # the {"pipeline_spec", "platform_spec"} form
    info = spec.get("pipelineInfo") if isinstance(spec, Mapping) else None
    name = info.get("name") if isinstance(info, Mapping) else None
    return str(name) if name else None


def kfp_run_record(run: Run, url: str | None = None) -> RunRecord:
    """The run and its task details (names as KFP reports them)."""
    details = (run.raw.get("run_details") or {}).get("task_details") or ()
    grouped: dict[str, list[TaskRun]] = defaultdict(list)
    for detail in details:
        task = _task(detail)
        grouped[task.name].append(task)
    history = run.raw.get("state_history") or ()
    started = [parse_time(h.get("update_time")) for h in history if h.get("state") == "RUNNING"]
    return RunRecord(
        system="kfp",
        run_id=run.run_id,
        state=run.state.value,
        outcome=kfp_outcome(run.state),
        start=next((s for s in started if s is not None), None) or parse_time(run.created_at),
        end=parse_time(run.finished_at),
        url=url,
        error=run.error,
        pipeline_name=_pipeline_name(run.raw),
        tasks=tuple(fold_instances(name, runs) for name, runs in grouped.items()),
    )


def fetch_kfp_run(client: KfpClient, run_id: str) -> RunRecord:
    """Get ``run_id`` through the bridge client."""
    return kfp_run_record(client.get_run(run_id), url=client.run_url(run_id))
