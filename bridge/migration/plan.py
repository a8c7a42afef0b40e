"""What to do with a DAG's KFP recurring run: a pure decision, taken before anything changes.

KFP cannot update a recurring run, only create, enable, disable and delete one. So a
changed recurring run (schedule, pinned pipeline version, experiment, parameters) is
replaced, in this order, which :mod:`af2kfp.bridge.migration.deploy` follows:

1. ``stop``: disable the old ones that are enabled (never two enabled at once);
2. create the new one, enabled or not; an enabled one ``follow``\\s the stopped ones: it
   starts at their last tick, so it runs exactly the ticks they did not (no gap, no
   overlap), catching up the few seconds between the two calls as its catch-up setting
   says;
3. ``delete`` the old ones.

A crash between 1 and 2 leaves none enabled: the next deploy sees the state file still
saying it was enabled (``continuing``), follows the old one's last tick, and so runs the
ticks the crash skipped (with catch-up) or the latest of them (``no_catchup``), as KFP's
own enable would. A crash between 2 and 3 leaves an old, disabled one beside the new: the
next deploy keeps the new one and deletes the old.

Enabling in place is only done to resume a recurring run deploy itself had enabled
(``continuing``); any other disabled one is replaced by a fresh one, because enabling it
would make KFP catch up every tick since its start (runs Airflow has already done).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from af2kfp.bridge.kfp import RecurringRun, Schedule

__all__ = [
    "CREATE",
    "UPDATE",
    "ENABLE",
    "DISABLE",
    "DELETE",
    "UNCHANGED",
    "NONE",
    "SKIP",
    "Want",
    "RecurringPlan",
    "differences",
    "plan_recurring",
    "parse_time",
]

CREATE, UPDATE, ENABLE, DISABLE, DELETE = "create", "update", "enable", "disable", "delete"
UNCHANGED, NONE, SKIP = "unchanged", "none", "skip"


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time (``Z`` or an offset) as an aware datetime; None when unset or unreadable."""
    if not value or not isinstance(value, str) or value.startswith("1970-01-01T00:00:00"):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True, kw_only=True)
class Want:
    """The recurring run a DAG should have.

    ``schedule`` None means none (the DAG has no schedule KFP can follow); ``skip`` says why
    none can be made now (whatever exists is then left alone); ``why`` says what decided
    ``enabled`` (``stage kfp-scheduled``, ``stage airflow``, ``paused``, ``--paused``).
    """

    name: str
    schedule: Schedule | None
    enabled: bool
    why: str
    description: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    skip: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecurringPlan:
    """The steps, in the order of the module docstring, and the one word the plan line shows."""

    action: str
    keep: RecurringRun | None = None
    stop: tuple[RecurringRun, ...] = ()
    create: bool = False
    follow: tuple[RecurringRun, ...] = ()
    enable: RecurringRun | None = None
    disable: RecurringRun | None = None
    delete: tuple[RecurringRun, ...] = ()
    changes: tuple[str, ...] = ()

    @property
    def changes_kfp(self) -> bool:
        return self.action not in (UNCHANGED, NONE, SKIP)


def _starts_in_time(run: RecurringRun, start: str | None) -> bool:
    """True when ``run`` starts no earlier than ``start`` (its own start, else its creation):
    a recurring run deploy made to follow another starts later than the DAG's start date."""
    wanted = parse_time(start)
    if wanted is None:
        return True
    effective = parse_time(run.start_time) or parse_time(run.created_at)
    return effective is not None and effective >= wanted


def differences(
    run: RecurringRun, want: Want, *, version_id: str | None, experiment_id: str | None
) -> list[str]:
    """What makes ``run`` differ from ``want`` (empty: it is the one wanted, enabled or not)."""
    schedule = want.schedule
    assert schedule is not None
    found: list[str] = []
    if run.pipeline_version_id != version_id:
        found.append("pipeline version")
    if run.experiment_id != experiment_id:
        found.append("experiment")
    if (run.cron or None) != schedule.cron_expression:
        found.append(f"cron {run.cron!r} -> {schedule.cron_expression!r}")
    if run.interval_second != schedule.interval_second:
        found.append(f"interval {run.interval_second} -> {schedule.interval_second}")
    if not _starts_in_time(run, schedule.start_time):  # type: ignore[arg-type]
        found.append(f"start_time -> {schedule.start_time}")
    if parse_time(run.end_time) != parse_time(schedule.end_time):
        found.append(f"end_time {run.end_time} -> {schedule.end_time}")
    if run.max_concurrency != schedule.max_concurrency:
        found.append(f"max_concurrency {run.max_concurrency} -> {schedule.max_concurrency}")
    if run.no_catchup != bool(schedule.no_catchup):
        found.append(f"no_catchup {run.no_catchup} -> {bool(schedule.no_catchup)}")
    parameters = (run.raw.get("runtime_config") or {}).get("parameters") or {}
    if dict(parameters) != dict(want.parameters):
        found.append("parameters")
    return found


def plan_recurring(
    want: Want,
    existing: list[RecurringRun],
    *,
    version_id: str | None,
    experiment_id: str | None,
    continuing: str | None = None,
) -> RecurringPlan:
    """The steps that turn ``existing`` (the DAG's recurring runs on KFP) into ``want``.

    ``version_id``/``experiment_id`` are what the recurring run must point at (None when
    they do not exist yet: nothing existing can match). ``continuing`` is the id of the
    recurring run the state file says deploy left enabled (see the module docstring).
    """
    if want.skip is not None:
        return RecurringPlan(action=SKIP)
    if want.schedule is None:
        if not existing:
            return RecurringPlan(action=NONE)
        return RecurringPlan(
            action=DELETE, stop=tuple(r for r in existing if r.enabled), delete=tuple(existing),
            changes=("the DAG has no recurring schedule any more",),
        )
    diffs = {r.recurring_run_id: differences(r, want, version_id=version_id, experiment_id=experiment_id)
             for r in existing}
    matching = [r for r in existing if not diffs[r.recurring_run_id]]
    if want.enabled:
        keep = next((r for r in matching if r.enabled), None) or next(
            (r for r in matching if r.recurring_run_id == continuing), None
        )
    else:
        keep = next((r for r in matching if not r.enabled), None) or next(iter(matching), None)
    if keep is not None:
        return _keep(want, keep, [r for r in existing if r is not keep])
    stop = tuple(r for r in existing if r.enabled)
    follow: tuple[RecurringRun, ...] = ()
    if want.enabled:
        follow = stop + tuple(r for r in existing if not r.enabled and r.recurring_run_id == continuing)
    changes = sorted({d for r in existing for d in diffs[r.recurring_run_id]})
    if want.enabled and existing and not follow:
        changes.append("enabled from now (a disabled one would catch up every tick since its start)")
    return RecurringPlan(
        action=UPDATE if existing else CREATE, stop=stop, create=True, follow=follow,
        delete=tuple(existing), changes=tuple(changes),
    )


def _keep(want: Want, keep: RecurringRun, others: list[RecurringRun]) -> RecurringPlan:
    """``keep`` is the one wanted: set its mode, and remove the others (disabled first)."""
    stop = tuple(r for r in others if r.enabled)
    enable = keep if want.enabled and not keep.enabled else None
    disable = keep if not want.enabled and keep.enabled else None
    changes = (f"{len(others)} other recurring run(s) of the DAG removed",) if others else ()
    if enable is not None:
        action = ENABLE
    elif disable is not None:
        action = DISABLE
    else:
        action = UPDATE if others else UNCHANGED
    return RecurringPlan(
        action=action, keep=keep, stop=stop, enable=enable, disable=disable, delete=tuple(others), changes=changes
    )
