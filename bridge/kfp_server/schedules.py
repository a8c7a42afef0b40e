"""When a recurring run is due, computed as KFP's ScheduledWorkflow controller does.

Pure functions over epoch seconds (UTC), no I/O, so a test can move time at will.
KFP (``backend/src/crd/controller/scheduledworkflow/util``) reads a cron with
robfig/cron v1: six fields, seconds first (five fields mean seconds to months, the day of
week left ``*``), ``?`` for "any", month and weekday names, descriptors (``@daily``,
``@every 1h30m``); no ``L``, ``W``, ``#`` or ``H``. :func:`parse_trigger` checks that
syntax and :func:`next_tick` gives the next tick:

- the ticks count from the last triggered tick, else from ``start_time``, else from the
  recurring run's creation; never before ``start_time`` and never after ``end_time``;
- a cron's next tick is the first strictly after that point; an interval's is that
  point plus the interval;
- with catch-up (KFP's default) every missed tick comes, one after the other; without,
  only the latest one that is due (an interval that fell behind restarts from now).
"""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import datetime
from typing import Any, Mapping

from croniter import croniter

__all__ = ["ScheduleError", "Trigger", "parse_trigger", "next_tick", "epoch_seconds"]


class ScheduleError(ValueError):
    """A trigger KFP would refuse; the message says why, as KFP's does."""


_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
_MONTHS = {n: i + 1 for i, n in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_WEEKDAYS = {n: i for i, n in enumerate("SUN MON TUE WED THU FRI SAT".split())}
# (name, low, high, names) of robfig/cron's six fields
_FIELDS = (
    ("second", 0, 59, {}),
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _WEEKDAYS),
)
_PART = re.compile(r"^(?P<range>\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(?P<step>[0-9]+))?$")
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trigger:
    """A recurring run's trigger, bounds in epoch seconds: ``cron`` (six fields, as croniter
    reads them), ``every`` (a cron ``@every``: a tick every so many seconds) or ``interval``
    (a periodic schedule, which restarts from now when it fell behind without catch-up)."""

    cron: str | None = None
    every: int | None = None
    interval: int | None = None
    start_time: int | None = None
    end_time: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Trigger":
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


def epoch_seconds(value: Any, what: str) -> int | None:
    """An RFC 3339 time (as protojson reads a Timestamp) in whole epoch seconds; None if unset."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ScheduleError(f"{what} must be an RFC 3339 time string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"{what} {value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ScheduleError(f"{what} {value!r} has no time zone (RFC 3339 needs Z or an offset)")
    return math.floor(moment.timestamp())


def _go_duration(text: str) -> int:
    """Whole seconds of a Go duration (``1h30m``), as robfig/cron's ``@every`` rounds it (>= 1)."""
    parts = _GO_DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ScheduleError(f"@every {text!r} is not a duration such as 90s, 15m or 1h30m")
    return max(1, int(sum(float(number) * _GO_UNITS[unit] for number, unit in parts)))


def _value(token: str, field: tuple[str, int, int, Mapping[str, int]]) -> int:
    name, low, high, names = field
    number = names.get(token.upper()) if not token.isdigit() else int(token)
    if number is None:
        raise ScheduleError(f"{name} {token!r} is not a number{' or a name' if names else ''}")
    if not low <= number <= high:
        raise ScheduleError(f"{name} {number} is outside {low}-{high}")
    return number


def _field(text: str, field: tuple[str, int, int, Mapping[str, int]]) -> str:
    """One cron field checked against robfig/cron's grammar, written the way croniter reads
    it with the same meaning (``N/step`` is ``N-max/step`` in robfig/cron)."""
    name, low, high, _ = field
    written = []
    for part in text.split(","):
        match = _PART.match(part)
        if match is None:
            raise ScheduleError(f"{name} {part!r} is not supported (robfig/cron has no L, W, # or H)")
        span, step = match.group("range"), match.group("step")
        if step is not None and int(step) < 1:
            raise ScheduleError(f"{name} step {step!r} must be at least 1")
        if span in ("*", "?"):
            written.append("*" + (f"/{step}" if step else ""))
            continue
        first, _, last = span.partition("-")
        start = _value(first, field)
        end = _value(last, field) if last else (high if step else start)
        if end < start:
            raise ScheduleError(f"{name} range {span!r} runs backwards")
        written.append((f"{start}-{end}" if end != start else str(start)) + (f"/{step}" if step else ""))
    return ",".join(written)


def _cron(expression: str) -> tuple[str | None, int | None]:
    """``(six-field cron, None)`` or ``(None, seconds)`` for ``@every``."""
    text = " ".join(expression.split())
    if text.startswith("@every "):
        return None, _go_duration(text.removeprefix("@every ").strip())
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ScheduleError(f"unknown descriptor {text!r}")
        text = _DESCRIPTORS[text]
    fields = text.split(" ")
    if len(fields) == 5:  # robfig/cron v1: seconds to months, the day of week optional
        fields.append("*")
    if len(fields) != 6:
        raise ScheduleError(f"Expected 5 to 6 fields, found {len(fields)}: {expression}")
    return " ".join(_field(f, spec) for f, spec in zip(fields, _FIELDS)), None


def parse_trigger(trigger: Any) -> Trigger:
    """A ``V2beta1Trigger`` JSON checked as KFP checks it; raises :class:`ScheduleError`."""
    if not isinstance(trigger, Mapping):
        raise ScheduleError("a recurring run needs a trigger: cron_schedule or periodic_schedule")
    cron_schedule, periodic = trigger.get("cron_schedule"), trigger.get("periodic_schedule")
    if cron_schedule is not None and periodic is not None:
        raise ScheduleError("a trigger has either cron_schedule or periodic_schedule, not both")
    schedule = cron_schedule if cron_schedule is not None else periodic
    if not isinstance(schedule, Mapping):
        raise ScheduleError("a recurring run needs a trigger: cron_schedule or periodic_schedule")
    start = epoch_seconds(schedule.get("start_time"), "start_time")
    end = epoch_seconds(schedule.get("end_time"), "end_time")
    if cron_schedule is not None:
        expression = schedule.get("cron")
        if not isinstance(expression, str) or not expression.strip():
            raise ScheduleError("cron_schedule.cron is empty")
        try:
            cron, every = _cron(expression)
        except ScheduleError as exc:
            raise ScheduleError(
                f"Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: {exc}"
            ) from None
        return Trigger(cron=cron, every=every, start_time=start, end_time=end)
    interval = periodic.get("interval_second")  # int64: a string in protojson, a number from kfp.Client
    if isinstance(interval, float) and interval.is_integer():
        interval = int(interval)
    if isinstance(interval, bool) or not re.fullmatch(r"[+-]?\d+", str(interval).strip()):
        raise ScheduleError(f"periodic_schedule.interval_second must be a whole number, got {interval!r}")
    seconds = int(str(interval).strip())
    if seconds < 1:
        raise ScheduleError(f"Found invalid period schedule interval {seconds}. Set at interval to least 1 second")
    return Trigger(interval=seconds, start_time=start, end_time=end)


def _after(trigger: Trigger, moment: int) -> int:
    """The first cron tick strictly after ``moment``."""
    if trigger.every is not None:
        return moment + trigger.every
    return int(croniter(trigger.cron, moment, second_at_beginning=True).get_next(float))


def _latest(trigger: Trigger, first: int, bound: int) -> int:
    """The last cron tick at or before ``bound``, counting from the tick ``first``."""
    if trigger.every is not None:
        return first + max(0, bound - first) // trigger.every * trigger.every
    return int(croniter(trigger.cron, bound + 1, second_at_beginning=True).get_prev(float))


def next_tick(trigger: Trigger, *, last: int | None, created: int, now: int, catchup: bool) -> int | None:
    """The next tick to run, in epoch seconds (due when <= ``now``), or None: no tick left
    before ``end_time``. ``last`` is the last triggered tick, ``created`` when the recurring
    run was created."""
    start, end = trigger.start_time, trigger.end_time
    point = last if last is not None else (start if start is not None else created)
    if start is not None and start > point:
        point = start
    if trigger.interval is not None:
        tick = point + trigger.interval
        if end is not None and end < tick:
            return None
        if not catchup and now >= tick + trigger.interval:  # fell behind: start again from now
            tick = now
        return tick if end is None or tick <= end else None
    tick = _after(trigger, point)
    if end is not None and end < tick:
        return None
    if not catchup:  # the latest tick that is due, skipping those in between
        latest = _latest(trigger, tick, now if end is None else min(now, end))
        tick = max(tick, latest)
    return tick
