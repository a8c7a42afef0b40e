"""A run's scripted fate and the timeline it implies.

The server never keeps timers: a run's state is computed on every read from
what is stored (when it started running, its fate, when it was terminated).
That is what lets a restarted server pick up runs in flight, and keeps a poll
as cheap as a row read.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import Any, Mapping, Sequence

__all__ = [
    "TERMINAL_STATES",
    "FATE_KINDS",
    "FATE_LABEL",
    "FATE_PARAMETERS",
    "dumps",
    "Fate",
    "FateError",
    "Timeline",
    "TaskSnapshot",
    "RunSnapshot",
    "parse_fate",
    "fate_from_inputs",
    "snapshot",
]

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"})
"""Run states that never change by themselves (a retry or a new fate may still restart a run)."""
FATE_KINDS = ("succeed", "fail", "hang", "cancel", "execute", "stuck")
FATE_LABEL = "af2kfp.fate"
FATE_PARAMETERS = (FATE_LABEL, "af2kfp_fate")
_DEFAULT_TASK_ERROR = "Error (exit code 1)"


class FateError(ValueError):
    """A fate that cannot be parsed; the message quotes it."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fate:
    """What will happen to a run.

    ``after`` is the number of seconds the run spends RUNNING before its end
    (success, the failing task's failure, or the system's cancel); ``None``
    takes the server's ``run_seconds``. ``task`` names the task that fails or
    hangs (default: the last task fails, the first hangs).
    """

    kind: str = "succeed"
    after: float | None = None
    task: str | None = None
    message: str | None = None
    pending: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Fate":
        return parse_fate(dict(data))


def _seconds(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FateError(f"fate {spec!r}: {text!r} is not a number of seconds") from None
    if value < 0:
        raise FateError(f"fate {spec!r}: seconds must not be negative")
    return value


def parse_fate(spec: str | Mapping[str, Any] | Fate) -> Fate:
    """Parse ``succeed[:S]``, ``fail[:TASK[:MESSAGE]]``, ``hang[:TASK]``,
    ``cancel[:S]``, ``stuck:STATE``, ``execute``, or the JSON object form of a :class:`Fate`."""
    if isinstance(spec, Fate):
        return spec
    if isinstance(spec, Mapping):
        unknown = set(spec) - {f.name for f in dataclasses.fields(Fate)}
        if unknown:
            raise FateError(f"fate {dict(spec)!r}: unknown field(s) {sorted(unknown)}")
        kind = spec.get("kind", "succeed")
        if kind not in FATE_KINDS:
            raise FateError(f"fate kind {kind!r} is not one of {', '.join(FATE_KINDS)}")
        for key in ("after", "pending"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise FateError(f"fate {dict(spec)!r}: {key} must be seconds >= 0")
        if kind == "stuck" and not spec.get("message"):
            raise FateError(f"fate {dict(spec)!r}: 'stuck' needs the state to report as its message")
        return Fate(
            kind=kind,
            after=None if spec.get("after") is None else float(spec["after"]),
            task=spec.get("task") or None,
            message=spec.get("message") or None,
            pending=None if spec.get("pending") is None else float(spec["pending"]),
        )
    if not isinstance(spec, str):
        raise FateError(f"fate {spec!r} must be a string or an object")
    text = spec.strip()
    kind, _, rest = text.partition(":")
    if kind not in FATE_KINDS:
        raise FateError(f"fate {spec!r}: kind {kind!r} is not one of {', '.join(FATE_KINDS)}")
    if kind in ("succeed", "cancel"):
        return Fate(kind=kind, after=_seconds(rest, spec) if rest else None)
    if kind == "fail":
        task, _, message = rest.partition(":")
        return Fate(kind=kind, task=task or None, message=message or None)
    if kind == "hang":
        return Fate(kind=kind, task=rest or None)
    if kind == "stuck":  # a KFP reporting a state clients may not know: stuck:PAUSED, stuck:NEW_STATE
        if not rest.strip():
            raise FateError(f"fate {spec!r}: 'stuck' needs the state to report, e.g. stuck:PAUSED")
        return Fate(kind=kind, message=rest.strip())
    if rest:
        raise FateError(f"fate {spec!r}: 'execute' takes no argument")
    return Fate(kind=kind)


def fate_from_inputs(parameters: Mapping[str, Any] | None, description: str | None) -> Fate | None:
    """The fate a run asks for itself: a ``af2kfp.fate`` (or ``af2kfp_fate``)
    run parameter, or ``af2kfp.fate=SPEC`` as the last line of its description."""
    for key in FATE_PARAMETERS:
        if parameters and isinstance(parameters.get(key), (str, dict)):
            return parse_fate(parameters[key])
    for line in (description or "").splitlines():
        line = line.strip()
        if line.startswith(FATE_LABEL + "="):
            return parse_fate(line[len(FATE_LABEL) + 1 :])
    return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Timeline:
    """What is stored about a run's progress; all times are epoch seconds."""

    run_id: str
    created_at: float
    origin: float  # when RUNNING starts (PENDING before)
    fate: Fate
    tasks: Sequence[str]
    run_seconds: float
    cancel_seconds: float
    terminated_at: float | None = None
    pod_prefix: str = "pipeline"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TaskSnapshot:
    name: str
    state: str
    start: float
    end: float | None
    pod_name: str
    error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSnapshot:
    state: str
    finished_at: float | None
    error: str | None
    tasks: list[TaskSnapshot]
    history: list[tuple[float, str]]
    not_run: tuple[str, ...] = ()  # tasks an executed run could not run here


def _pod_name(timeline: Timeline, task: str) -> str:
    digest = zlib.crc32(f"{timeline.run_id}/{task}".encode()) % 10**10
    return f"{timeline.pod_prefix}-{timeline.run_id[:5]}-system-container-impl-{digest}"


def _task_index(timeline: Timeline, name: str | None, *, default: int) -> int:
    if name and name in timeline.tasks:
        return list(timeline.tasks).index(name)
    return default


def _plan(timeline: Timeline) -> tuple[float | None, str, int, float]:
    """(natural end, final state, index of the last task that starts, task length)."""
    fate, n = timeline.fate, max(len(timeline.tasks), 1)
    after = timeline.run_seconds if fate.after is None else fate.after
    if fate.kind == "fail":
        stop = _task_index(timeline, fate.task, default=n - 1)
        return timeline.origin + after, "FAILED", stop, after / (stop + 1)
    if fate.kind == "cancel":  # the system cancels in the middle of the last task
        return timeline.origin + after, "CANCELED", n - 1, after / (n - 0.5)
    if fate.kind in ("hang", "stuck"):
        stop = _task_index(timeline, fate.task, default=0)
        return None, "RUNNING", stop, timeline.run_seconds / n
    return timeline.origin + after, "SUCCEEDED", n - 1, after / n


def snapshot(timeline: Timeline, now: float) -> RunSnapshot:
    """The run as it is at ``now`` (not for ``execute`` runs: they report
    what really happened)."""
    fate = timeline.fate
    end, final, stop, step = _plan(timeline)
    # Who stops the run first: its own fate, or a terminate request.
    term, cancel_from = timeline.terminated_at, None
    if term is not None and (end is None or term < end):
        cancel_from, final, end = term, "CANCELED", term + timeline.cancel_seconds
    elif fate.kind == "cancel" and end is not None:
        cancel_from, end = end, end + timeline.cancel_seconds

    tasks: list[TaskSnapshot] = []
    for i, name in enumerate(list(timeline.tasks)[: stop + 1]):
        start = timeline.origin + i * step
        if start > now or (cancel_from is not None and start >= cancel_from):
            break
        natural = None if fate.kind in ("hang", "stuck") and i == stop else start + step
        state, task_end, error = "RUNNING", None, None
        if cancel_from is not None and (natural is None or natural > cancel_from):
            if end is not None and end <= now:
                state, task_end = "CANCELED", end
        elif natural is not None and natural <= now:
            state, task_end = "SUCCEEDED", natural
            if fate.kind == "fail" and i == stop:
                state, error = "FAILED", fate.message or _DEFAULT_TASK_ERROR
        tasks.append(
            TaskSnapshot(
                name=name,
                state=state,
                start=start,
                end=task_end,
                pod_name=_pod_name(timeline, name),
                error=error,
            )
        )

    history: list[tuple[float, str]] = [(timeline.created_at, "PENDING")]
    stopped_early = cancel_from is not None and cancel_from <= timeline.origin
    if now < timeline.origin and not (stopped_early and now >= cancel_from):
        return RunSnapshot(state="PENDING", finished_at=None, error=None, tasks=tasks, history=history)
    if not stopped_early:
        history.append((timeline.origin, "RUNNING"))
    if cancel_from is not None and now >= cancel_from:
        history.append((cancel_from, "CANCELING"))
    if end is None or now < end:
        state = "CANCELING" if cancel_from is not None and now >= cancel_from else "RUNNING"
        if state == "RUNNING" and fate.kind == "stuck":
            state = str(fate.message)
            history.append((timeline.origin, state))
        return RunSnapshot(state=state, finished_at=None, error=None, tasks=tasks, history=history)
    history.append((end, final))
    error = None
    if final == "FAILED":
        failed = timeline.tasks[stop] if timeline.tasks else "pipeline"
        error = f"task {failed!r} failed: {fate.message or _DEFAULT_TASK_ERROR}"
    elif final == "CANCELED":
        error = "run was terminated by the user" if cancel_from == term else "run was canceled by the system"
    return RunSnapshot(state=final, finished_at=end, error=error, tasks=tasks, history=history)


def dumps(fate: Fate) -> str:
    """Storage form of a fate."""
    return json.dumps(fate.to_json(), sort_keys=True)
