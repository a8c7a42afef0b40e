"""Airflow cron -> KFP cron: robfig/cron v1's grammar as KFP's controller parses it, and the
converted schedule firing on exactly the minutes croniter (Airflow's reader) fires, day by day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from croniter import croniter

from af2kfp.converters.cron import kfp_cron, robfig_values

# robfig/cron v1.2.0 (parser.go, spec.go): bounds, names, "N/step" = "N-max/step", ranges never wrap.
@pytest.mark.parametrize("text,place,values,star", [
    ("*", 5, set(range(7)), True), ("?", 3, set(range(1, 32)), True), ("mon-fri", 5, {1, 2, 3, 4, 5}, False),
    ("SUN", 5, {0}, False), ("jan-mar", 4, {1, 2, 3}, False), ("5/15", 1, {5, 20, 35, 50}, False),
    ("*/20", 1, {0, 20, 40}, True), ("1-10/3,20", 3, {1, 4, 7, 10, 20}, False),
])
def test_robfig_reads_these_fields(text, place, values, star):
    assert robfig_values(text, place) == (frozenset(values), star)


@pytest.mark.parametrize("text,place", [
    ("7", 5), ("5-7", 5), ("0", 3), ("32", 3), ("60", 1), ("6-1", 5), ("L", 3), ("1#2", 5), ("15W", 3),
    ("*/0", 1), ("1-2-3", 1), ("1/2/3", 1), ("x", 1), ("*-3", 1), ("", 1),
])
def test_robfig_rejects_these_fields(text, place):
    assert robfig_values(text, place) is None


def _robfig_fires(cron: str, day: datetime) -> list[datetime]:
    """The minutes of ``day`` robfig's SpecSchedule matches (spec.go: dayMatches and the field bit sets)."""
    fields = cron.split()
    parsed = [robfig_values(f, i) for i, f in enumerate(fields)]
    assert all(p is not None for p in parsed), cron
    (sec, _), (minute, _), (hour, _), (dom, dom_star), (month, _), (dow, dow_star) = parsed  # type: ignore[misc]
    assert sec == {0}
    dom_match, dow_match = day.day in dom, (day.weekday() + 1) % 7 in dow
    day_ok = (dom_match and dow_match) if dom_star or dow_star else (dom_match or dow_match)
    if not day_ok or day.month not in month:
        return []
    return [day.replace(hour=h, minute=m) for h in sorted(hour) for m in sorted(minute)]


def _croniter_fires(cron: str, day: datetime) -> list[datetime]:
    it = croniter(cron, day - timedelta(seconds=1))
    out = []
    while (when := it.get_next(datetime)) < day + timedelta(days=1):
        out.append(when)
    return out


@pytest.mark.parametrize("cron", [
    "0 0 * * 5-7", "0 12 * * 6-1", "0 22-2 * * *", "*/15 6-18 * * 1-5", "0 0 */2 * 1", "0 0 1 * 0-7",
    "0 0 1,15 * mon", "0 3 * * 7", "5/15 * * * *", "0 0 1-31/2 * sat", "0 0 ? * *", "30 6 1 jan-mar *",
    "0 0 * * sun-sat", "0 0 13 * 5", "0 9-17/2 * * 1-5", "0 0 1 */3 *", "0 4 8-14 * *",
])
def test_kfp_cron_fires_when_airflow_would(cron):
    converted = kfp_cron(cron)
    assert converted.cron is not None and not converted.problems, converted
    day = datetime(2024, 1, 1)
    for _ in range(400):  # every day of a leap year and more: each day of month falls on each weekday
        assert _robfig_fires(converted.cron, day) == _croniter_fires(cron, day), (cron, converted.cron, day)
        day += timedelta(days=1)


def test_fields_robfig_reads_alike_are_kept_as_written():
    assert kfp_cron("*/15 6-18 * * mon-fri").cron == "0 */15 6-18 * * mon-fri"
    assert kfp_cron("0 0 */2 * 1").cron == "0 0 0 1-31/2 * 1"  # a leading * would make robfig intersect


@pytest.mark.parametrize("cron,why", [
    ("0 0 L * *", "L (last day"), ("0 0 15W * *", "W (nearest weekday)"), ("0 0 * * 1#2", "n-th"),
    ("0 0 * * L5", "last weekday"), ("0 0 1 1 * * 2030", "year field"),
])
def test_what_kfp_cannot_express_has_no_cron(cron, why):
    result = kfp_cron(cron)
    assert result.cron is None and not result.invalid and why in result.problems[0]


def test_a_seconds_field_moves_first():
    assert kfp_cron("0 0 * * * 30").cron == "30 0 0 * * *"
