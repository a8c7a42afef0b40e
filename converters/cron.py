"""Airflow cron -> KFP cron: read by croniter as Airflow reads it, written as KFP's robfig/cron parses it.

Airflow evaluates a schedule with croniter (five fields ``m h dom mon dow``, an optional
sixth for seconds; Sunday is 0 or 7; ranges may wrap, ``6-1``; ``L``, ``W`` and ``#``).
KFP's scheduled-workflow controller parses the recurring run's cron with robfig/cron
v1 (``cron.Parse``): six fields with seconds first, each a list of ``*``, ``?``, ``N``,
``A-B`` and ``/step`` within fixed bounds (day of week 0-6, no ``7``), month and weekday
names, and no ``L``, ``W`` or ``#``. Day of month and day of week match when either does
if neither field starts with ``*`` or ``?``, when both do otherwise; croniter makes the
same union only when neither field expands to every value.

:func:`kfp_cron` keeps each field as written when robfig reads it as croniter does, and
otherwise writes croniter's values as robfig ranges, so the two schedules fire at the
same minutes (``tests/schedule`` checks it day by day against croniter).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CronResult", "kfp_cron", "robfig_values", "BOUNDS"]

# robfig/cron v1 bounds and names per field: seconds, minutes, hours, day of month, month, day of week.
BOUNDS: tuple[tuple[int, int], ...] = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES: dict[int, dict[str, int]] = {
    4: {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                     "dec"), 1)},
    5: {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}


@dataclass(frozen=True)
class CronResult:
    """``cron``: the six-field KFP cron, ``None`` when there is none; ``invalid``: Airflow itself
    rejects the expression; ``problems``: why there is no KFP cron (or what the message says)."""

    cron: str | None
    invalid: bool = False
    problems: tuple[str, ...] = ()


def _int(text: str, names: dict[str, int]) -> int | None:
    if text.lower() in names:
        return names[text.lower()]
    return int(text) if text.isdigit() else None


def robfig_values(text: str, place: int) -> tuple[frozenset[int], bool] | None:
    """The values robfig/cron v1 reads from field ``text`` at ``place`` (0 = seconds) and whether it
    has robfig's star bit, or ``None`` when robfig rejects the field."""
    low, high = BOUNDS[place]
    names = _NAMES.get(place, {})
    values: set[int] = set()
    star = False
    for expr in (part for part in text.split(",") if part):
        range_step = expr.split("/")
        if len(range_step) > 2:
            return None
        bounds = range_step[0].split("-")
        if bounds[0] in ("*", "?"):
            if len(bounds) != 1:
                return None
            start, end, star = low, high, True
        else:
            if len(bounds) > 2:
                return None
            start = _int(bounds[0], names)
            end = _int(bounds[1], names) if len(bounds) == 2 else start
            if start is None or end is None:
                return None
        step = 1
        if len(range_step) == 2:
            if not range_step[1].isdigit():
                return None
            step = int(range_step[1])
            if len(bounds) == 1:  # "N/step" means "N-max/step"
                end = high
        if start < low or end > high or start > end or step == 0:
            return None
        values.update(range(start, end + 1, step))
    return (frozenset(values), star) if values else None


def _ranges(values: list[int]) -> str:
    """``[0, 5, 6]`` -> ``0,5-6``."""
    parts: list[str] = []
    start = prev = values[0]
    for value in values[1:] + [None]:  # type: ignore[list-item]
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if value is not None:
            start = prev = value
    return ",".join(parts)


def _field(text: str, expanded: list, place: int, starred: bool | None) -> str:
    """The robfig field for croniter's ``expanded`` values, as written when robfig reads it alike.

    ``starred``: for day of month/week, whether robfig's star bit must be set (``None``: either)."""
    low, high = BOUNDS[place]
    if expanded == ["*"]:
        wanted = frozenset(range(low, high + 1))
        if starred is not False:
            return "*"
    else:
        wanted = frozenset(int(v) % 7 if place == 5 else int(v) for v in expanded)
    read = robfig_values(text, place)
    if read is not None and read[0] == wanted and (starred is None or read[1] == starred):
        return text
    if text.startswith("*/") and starred is not True:  # "*/2" as "1-31/2": same values, no star bit
        spelled = f"{low}-{high}{text[1:]}"
        read = robfig_values(spelled, place)
        if read is not None and read[0] == wanted:
            return spelled
    return _ranges(sorted(wanted))


def kfp_cron(expression: str) -> CronResult:
    """A five-field Airflow cron (presets already expanded) as KFP's six-field cron."""
    from croniter import croniter

    text = " ".join(expression.split())
    try:
        parsed = croniter(text)
    except Exception as exc:  # noqa: BLE001 - croniter raises several types (CroniterError, ValueError...)
        return CronResult(None, invalid=True, problems=(f"{expression!r} is not a valid cron: {exc}",))
    fields, expanded = text.split(), parsed.expanded
    if len(expanded) > 6:
        return CronResult(None, problems=(f"{expression!r} has a year field; KFP's cron has none",))
    special = []
    if any(str(v).lower() == "l" for v in expanded[2]):
        special.append("L (last day of the month)")
    if getattr(parsed, "nearest_weekday", None):
        special.append("W (nearest weekday)")
    if getattr(parsed, "nth_weekday_of_month", None):
        special.append("# or L (n-th or last weekday of the month)")
    if special:
        return CronResult(None, problems=(f"{expression!r} uses {', '.join(special)}, which KFP's cron has no "
                                          "syntax for",))
    day_or = expanded[2][0] != "*" and expanded[4][0] != "*"  # croniter's union of the two day fields
    seconds = _field(fields[5], expanded[5], 0, None) if len(expanded) == 6 else "0"
    out = [seconds] + [
        _field(fields[i], expanded[i], i + 1, (False if day_or else None) if i in (2, 4) else None)
        for i in range(5)
    ]
    if not day_or and out[3] != "*" and out[5] != "*":
        # croniter intersects (one side is every value); robfig must see that side's star.
        out[3 if expanded[2][0] == "*" else 5] = "*"
    return CronResult(" ".join(out))
