"""When a recurring run is due: KFP's ScheduledWorkflow rules over epoch seconds (no I/O)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from af2kfp.bridge.kfp_server.schedules import ScheduleError, Trigger, next_tick, parse_trigger


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def iso(epoch: int | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def cron(expression: str, **bounds: str) -> Trigger:
    return parse_trigger({"cron_schedule": {"cron": expression, **bounds}})


def ticks(trigger: Trigger, *, created: str, now: str, catchup: bool, limit: int = 10) -> list[str]:
    """The ticks a scheduler looking at ``now`` would start one after the other."""
    started, last = [], None
    while len(started) < limit:
        tick = next_tick(trigger, last=last, created=at(created), now=at(now), catchup=catchup)
        if tick is None or tick > at(now):
            break
        started.append(iso(tick))
        last = tick
    return started


def test_a_one_minute_cron_ticks_on_each_minute_after_creation() -> None:
    every_minute = cron("0 * * * * *")
    assert ticks(every_minute, created="2024-03-05 10:00:30", now="2024-03-05 10:03:10", catchup=True) == [
        "2024-03-05 10:01:00", "2024-03-05 10:02:00", "2024-03-05 10:03:00",
    ]
    # the next tick is strictly after the last one: a tick at the creation second is not run
    assert ticks(every_minute, created="2024-03-05 10:00:00", now="2024-03-05 10:00:59", catchup=True) == []


def test_catchup_backfills_every_missed_tick_and_no_catchup_only_the_latest() -> None:
    daily = cron("0 0 2 * * *", start_time="2024-01-01T00:00:00Z")
    backfill = ticks(daily, created="2024-03-05 10:00:00", now="2024-01-04 03:00:00", catchup=True)
    assert backfill == ["2024-01-01 02:00:00", "2024-01-02 02:00:00", "2024-01-03 02:00:00", "2024-01-04 02:00:00"]
    latest = ticks(daily, created="2024-03-05 10:00:00", now="2024-03-05 10:00:00", catchup=False)
    assert latest == ["2024-03-05 02:00:00"]


def test_start_and_end_time_bound_the_ticks() -> None:
    bounded = cron("0 0 * * * *", start_time="2024-03-05T12:00:00Z", end_time="2024-03-05T14:00:00Z")
    assert ticks(bounded, created="2024-03-01 00:00:00", now="2024-03-05 11:59:59", catchup=True) == []
    assert ticks(bounded, created="2024-03-01 00:00:00", now="2024-03-06 00:00:00", catchup=True) == [
        "2024-03-05 13:00:00", "2024-03-05 14:00:00",
    ]
    assert ticks(bounded, created="2024-03-01 00:00:00", now="2024-03-06 00:00:00", catchup=False) == [
        "2024-03-05 14:00:00",
    ]
    assert next_tick(bounded, last=at("2024-03-05 14:00:00"), created=0, now=at("2024-04-01 00:00:00"), catchup=True) is None


def test_a_periodic_schedule_counts_from_start_and_restarts_from_now_when_behind() -> None:
    hourly = parse_trigger({"periodic_schedule": {"interval_second": "3600", "start_time": "2024-03-05T00:00:00Z"}})
    assert ticks(hourly, created="2024-03-01 00:00:00", now="2024-03-05 02:30:00", catchup=True) == [
        "2024-03-05 01:00:00", "2024-03-05 02:00:00",
    ]
    # without catch-up KFP runs "now" once it is a whole interval behind, then counts from there
    assert ticks(hourly, created="2024-03-01 00:00:00", now="2024-03-05 02:30:00", catchup=False) == [
        "2024-03-05 02:30:00",
    ]
    assert ticks(hourly, created="2024-03-01 00:00:00", now="2024-03-05 01:30:00", catchup=False) == [
        "2024-03-05 01:00:00",
    ]
    no_start = parse_trigger({"periodic_schedule": {"interval_second": 60}})  # kfp.Client sends a number
    assert ticks(no_start, created="2024-03-05 00:00:10", now="2024-03-05 00:02:20", catchup=True) == [
        "2024-03-05 00:01:10", "2024-03-05 00:02:10",
    ]


def test_robfig_cron_forms_kfp_accepts() -> None:
    assert cron("0 0 2 * *").cron == "0 0 2 * * *"  # five fields: seconds to months (robfig/cron v1)
    assert cron("@daily").cron == "0 0 0 * * *"
    assert cron("5/15 * * ? JAN-mar mon-FRI").cron == "5-59/15 * * * 1-3 1-5"
    weekdays = cron("0 30 9 ? * MON-FRI")
    assert ticks(weekdays, created="2024-03-08 10:00:00", now="2024-03-12 10:00:00", catchup=True) == [
        "2024-03-11 09:30:00", "2024-03-12 09:30:00",  # Saturday and Sunday skipped
    ]
    either_day = cron("0 0 0 1 * SUN")  # day of month and day of week both set: either one (as robfig/cron)
    assert ticks(either_day, created="2024-03-29 12:00:00", now="2024-04-08 00:00:00", catchup=True) == [
        "2024-03-31 00:00:00", "2024-04-01 00:00:00", "2024-04-07 00:00:00",
    ]
    every = cron("@every 1h30m")
    assert ticks(every, created="2024-03-05 00:00:00", now="2024-03-05 04:00:00", catchup=True) == [
        "2024-03-05 01:30:00", "2024-03-05 03:00:00",
    ]
    assert ticks(every, created="2024-03-05 00:00:00", now="2024-03-05 04:00:00", catchup=False) == [
        "2024-03-05 03:00:00",
    ]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"cron_schedule": {"cron": "0 0 0 L * *"}}, "day of month 'L'"),
        ({"cron_schedule": {"cron": "0 0 0 ? * 7"}}, "day of week 7 is outside 0-6"),
        ({"cron_schedule": {"cron": "0 0 0 ? * 1#2"}}, "no L, W, # or H"),
        ({"cron_schedule": {"cron": "H * * * * *"}}, "second 'H'"),
        ({"cron_schedule": {"cron": "0 61 * * * *"}}, "minute 61 is outside 0-59"),
        ({"cron_schedule": {"cron": "* * *"}}, "Expected 5 to 6 fields, found 3"),
        ({"cron_schedule": {"cron": "@often"}}, "unknown descriptor"),
        ({"cron_schedule": {"cron": ""}}, "cron is empty"),
        ({"periodic_schedule": {"interval_second": "0"}}, "Set at interval to least 1 second"),
        ({"periodic_schedule": {"interval_second": "soon"}}, "whole number"),
        ({"cron_schedule": {"cron": "@daily"}, "periodic_schedule": {"interval_second": 1}}, "not both"),
        ({}, "needs a trigger"),
        (None, "needs a trigger"),
        ({"cron_schedule": {"cron": "@daily", "start_time": "tomorrow"}}, "not an RFC 3339 time"),
        ({"cron_schedule": {"cron": "@daily", "start_time": "2024-01-01T00:00:00"}}, "no time zone"),
    ],
)
def test_triggers_kfp_refuses_are_refused_with_its_words(trigger, message) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_trigger(trigger)
    assert message in str(refused.value)


def test_a_bad_cron_is_refused_in_kfp_words() -> None:
    with pytest.raises(ScheduleError, match=r"^Schedule cron is not a supported format\(https://godoc.org/github.com/robfig/cron\)"):
        cron("0 0 0 L * *")
