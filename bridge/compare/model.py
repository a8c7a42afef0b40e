"""What ``af2kfp compare`` knows about one run on either side, in one vocabulary.

Airflow task states and KFP runtime states differ in name and grain; each side's
reader maps its states to an :data:`Outcome` so the two can be compared, and keeps
the original state for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["Outcome", "OUTCOMES", "TaskRun", "RunRecord", "parse_time", "iso", "fold_instances"]

Outcome = Literal["success", "failed", "skipped", "canceled", "running", "not_run"]
OUTCOMES: tuple[str, ...] = ("success", "failed", "skipped", "canceled", "running", "not_run")


@dataclass(frozen=True, kw_only=True)
class TaskRun:
    """One task of one run. ``instances`` > 1 for mapped tasks / ParallelFor iterations
    (their states are folded: the worst outcome, the first start, the last end)."""

    name: str
    state: str
    outcome: Outcome
    start: datetime | None = None
    end: datetime | None = None
    attempts: int | None = None
    instances: int = 1
    error: str | None = None

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max((self.end - self.start).total_seconds(), 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "outcome": self.outcome,
            "start": iso(self.start),
            "end": iso(self.end),
            "duration": self.duration,
            "attempts": self.attempts,
            "instances": self.instances,
            "error": self.error,
        }


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One run: an Airflow DAG run or a KFP run, with its tasks."""

    system: Literal["airflow", "kfp"]
    run_id: str
    state: str
    outcome: Outcome
    start: datetime | None = None
    end: datetime | None = None
    url: str | None = None
    error: str | None = None
    pipeline_name: str | None = None  # KFP: the pipeline the run ran, when the run carries its spec
    tasks: tuple[TaskRun, ...] = field(default=())

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max((self.end - self.start).total_seconds(), 0.0)

    def task(self, name: str) -> TaskRun | None:
        return next((t for t in self.tasks if t.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "run_id": self.run_id,
            "state": self.state,
            "outcome": self.outcome,
            "start": iso(self.start),
            "end": iso(self.end),
            "duration": self.duration,
            "url": self.url,
            "error": self.error,
            "pipeline_name": self.pipeline_name,
        }


_UNSET = ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00")


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; empty and KFP's unset epoch are None."""
    if not value or not isinstance(value, str) or value in _UNSET:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if parsed.year <= 1970 else parsed


def iso(value: datetime | None) -> str | None:
    """A datetime as ISO 8601 with seconds precision, or None."""
    return None if value is None else value.isoformat(timespec="seconds")


def fold_instances(name: str, runs: list[TaskRun]) -> TaskRun:
    """Several instances of one task (mapped / ParallelFor) as one row."""
    if len(runs) == 1:
        return runs[0]
    rank = {"failed": 0, "canceled": 1, "running": 2, "not_run": 3, "skipped": 4, "success": 5}
    worst = min(runs, key=lambda r: rank[r.outcome])
    starts = [r.start for r in runs if r.start is not None]
    ends = [r.end for r in runs if r.end is not None]
    attempts = [r.attempts for r in runs if r.attempts is not None]
    done = all(r.end is not None for r in runs)
    return TaskRun(
        name=name,
        state=worst.state,
        outcome=worst.outcome,
        start=min(starts) if starts else None,
        end=max(ends) if ends and done else None,
        attempts=max(attempts) if attempts else None,
        instances=len(runs),
        error=worst.error,
    )
