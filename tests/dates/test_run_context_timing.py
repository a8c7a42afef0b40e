"""The run context dates a run as Airflow's own timetables do, from the run's time or the override.

Expected values come from Airflow's timetables (``CronTriggerTimetable``,
``CronDataIntervalTimetable``, ``DeltaTriggerTimetable``, ``DeltaDataIntervalTimetable``): the
run they schedule at a time (a recurring run's scheduled time) and the run whose logical date
is the override.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from af2kfp.converters.config import Config
from af2kfp.converters.graph import DagInfo
from af2kfp.converters.run_context import Timing, timing
from af2kfp.converters.values import Call, Duration
from tests.dates.run_context_exec import values

pytest.importorskip("airflow")

from airflow.timetables.base import DataInterval, TimeRestriction  # noqa: E402
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable  # noqa: E402
from airflow.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable  # noqa: E402

DATES = {name: name for name in ("ds", "ts", "logical_date", "data_interval_start", "data_interval_end",
                                 "ds_nodash", "ts_nodash", "ts_nodash_with_tz")}
UTC = timezone.utc


def _airflow_timetable(t: Timing):
    if t.semantics == "interval":
        return CronDataIntervalTimetable(t.cron, "UTC") if t.cron else DeltaDataIntervalTimetable(
            timedelta(seconds=t.delta))
    return CronTriggerTimetable(t.cron, timezone="UTC") if t.cron else DeltaTriggerTimetable(timedelta(seconds=t.delta))


def _scheduled_at(t: Timing, run_after: datetime):
    """Airflow's run that its scheduler starts at ``run_after`` (an aligned time): (logical date, interval)."""
    timetable = _airflow_timetable(t)
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(
        earliest=run_after - timedelta(days=400), latest=None, catchup=True))
    while info.run_after < run_after:
        info = timetable.next_dagrun_info(last_automated_data_interval=info.data_interval, restriction=TimeRestriction(
            earliest=run_after - timedelta(days=400), latest=None, catchup=True))
    assert info.run_after == run_after
    return info.logical_date, info.data_interval


def _expected(logical: datetime, interval: DataInterval) -> dict[str, str]:
    """The context text Airflow's task runner derives from a run (airflow.sdk.execution_time.task_runner)."""
    ts = logical.isoformat()
    return {"ds": logical.strftime("%Y-%m-%d"), "ts": ts, "logical_date": str(logical),
            "data_interval_start": str(interval.start), "data_interval_end": str(interval.end),
            "ds_nodash": logical.strftime("%Y%m%d"), "ts_nodash": logical.strftime("%Y%m%dT%H%M%S"),
            "ts_nodash_with_tz": ts.replace("-", "").replace(":", "")}


TIMINGS = [
    Timing(semantics="trigger", cron="0 0 * * *"),
    Timing(semantics="trigger", cron="30 6 * * 1-5"),
    Timing(semantics="trigger", delta=6 * 3600),
    Timing(semantics="interval", cron="0 0 * * *"),
    Timing(semantics="interval", cron="30 6 * * 1-5"),
    Timing(semantics="interval", cron="0 0 1 * *"),
    Timing(semantics="interval", delta=6 * 3600),
]
RUNS = [datetime(2024, 3, 5, 6, 30, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 4, 6, 0, tzinfo=UTC)]


def _aligned(t: Timing) -> list[datetime]:
    from croniter import croniter

    if t.cron:
        return [r for r in RUNS if croniter.match(t.cron, r)] or [croniter(t.cron, RUNS[0]).get_next(datetime)]
    return [r for r in RUNS if r.hour % 6 == 0 and r.minute == 0]


@pytest.mark.parametrize("t", TIMINGS, ids=lambda t: f"{t.semantics}-{t.cron or t.delta}")
def test_a_recurring_run_gets_the_dates_of_airflows_run_at_its_scheduled_time(t):
    for run_after in _aligned(t):
        logical, interval = _scheduled_at(t, run_after)
        scheduled = run_after.strftime("%Y-%m-%dT%H:%M:%SZ")  # as the KFP backend writes it
        got = values(t, DATES, schedule=scheduled, create="2030-01-01T00:00:07Z")
        assert got == _expected(logical, interval), run_after


@pytest.mark.parametrize("t", TIMINGS, ids=lambda t: f"{t.semantics}-{t.cron or t.delta}")
def test_the_logical_date_parameter_gives_airflows_run_of_that_logical_date(t):
    for run_after in _aligned(t):
        logical, interval = _scheduled_at(t, run_after)
        got = values(t, DATES, override=logical.isoformat(), schedule="2030-01-01T00:00:00Z")
        assert got == _expected(logical, interval)


def test_the_interval_starts_one_period_before_the_scheduled_time():
    daily = values(Timing(semantics="interval", cron="0 0 * * *"), {"ds": "ds"}, schedule="2024-03-05T00:00:00Z")
    assert daily == {"ds": "2024-03-04"}  # the day the run processes, the day before it runs
    assert values(Timing(), {"ds": "ds"}, schedule="2024-03-05T00:00:00Z") == {"ds": "2024-03-05"}
    # A manual run (created at 10:37) of a data-interval DAG: the last whole interval.
    assert values(Timing(semantics="interval", cron="0 0 * * *"), {"ds": "ds"},
                  schedule="2024-03-05T10:37:12Z") == {"ds": "2024-03-04"}


@pytest.mark.parametrize("absent", ["", "{{$.pipeline_job_schedule_time_utc}}"])
def test_an_unsubstituted_or_empty_placeholder_is_absent(absent):
    got = values(Timing(), {"ds": "ds"}, schedule=absent, create="2024-05-06T07:08:09Z")
    assert got == {"ds": "2024-05-06"}  # the creation time
    before = datetime.now(UTC)
    got = values(Timing(), {"ts": "ts"}, schedule=absent, create=absent.replace("schedule", "create"))
    assert before <= datetime.fromisoformat(got["ts"]) <= datetime.now(UTC)  # the current time


def test_the_override_wins_and_a_naive_or_date_only_value_is_utc():
    t = Timing()
    assert values(t, {"ts": "ts"}, override="2024-01-02", schedule="2024-03-05T00:00:00Z") == {
        "ts": "2024-01-02T00:00:00+00:00"}
    assert values(t, {"ts": "ts"}, override="2024-01-02T03:04:05+02:00") == {"ts": "2024-01-02T03:04:05+02:00"}


def test_a_trigger_timetables_interval_argument_reaches_back():
    got = values(Timing(cron="0 0 * * *", interval=3600), {"s": "data_interval_start", "e": "data_interval_end"},
                 schedule="2024-03-05T00:00:00Z")
    assert got == {"s": "2024-03-04 23:00:00+00:00", "e": "2024-03-05 00:00:00+00:00"}


def test_airflow_2_neighbours():
    t = Timing(semantics="interval", cron="0 0 * * *")
    names = {n: n for n in ("prev_ds", "next_ds", "yesterday_ds", "tomorrow_ds", "prev_ds_nodash",
                            "next_ds_nodash", "prev_execution_date", "next_execution_date")}
    got = values(t, names, schedule="2024-03-05T00:00:00Z")
    assert got == {"prev_ds": "2024-03-03", "next_ds": "2024-03-05", "yesterday_ds": "2024-03-03",
                   "tomorrow_ds": "2024-03-05", "prev_ds_nodash": "20240303", "next_ds_nodash": "20240305",
                   "prev_execution_date": "2024-03-03 00:00:00+00:00",
                   "next_execution_date": "2024-03-05 00:00:00+00:00"}
    trigger = values(Timing(cron="0 0 * * 1"), {"p": "prev_ds", "n": "next_ds"}, schedule="2024-03-04T00:00:00Z")
    assert trigger == {"p": "2024-02-26", "n": "2024-03-11"}  # weekly on Mondays


def _info(schedule=None, timetable=None) -> DagInfo:
    return DagInfo(dag_id="d", file="f.py", line=1, schedule=schedule,
                   extra={"timetable": timetable} if timetable is not None else {})


def test_timing_from_the_schedule_config_and_an_explicit_timetable():
    assert timing(_info("@daily"), Config()) == Timing(semantics="trigger", cron="0 0 * * *")
    assert timing(_info("@daily"), Config(create_cron_data_intervals=True)) == Timing(semantics="interval",
                                                                                     cron="0 0 * * *")
    assert timing(_info(Duration(seconds=3600)), Config(create_cron_data_intervals=True)).semantics == "trigger"
    assert timing(_info(Duration(seconds=3600)), Config(create_delta_data_intervals=True)) == Timing(
        semantics="interval", delta=3600)
    explicit = Call(func="airflow.timetables.interval.CronDataIntervalTimetable", args=("0 6 * * *",),
                    kwargs={"timezone": "UTC"})
    assert timing(_info(timetable=explicit), Config()) == Timing(semantics="interval", cron="0 6 * * *")
    trigger = Call(func="airflow.timetables.trigger.CronTriggerTimetable", args=("@hourly",),
                   kwargs={"interval": Duration(seconds=3600)})
    assert timing(_info(trigger), Config(create_cron_data_intervals=True)) == Timing(
        semantics="trigger", cron="0 * * * *", interval=3600)
    assert timing(_info(None), Config(create_cron_data_intervals=True)) == Timing()  # nothing recurs
    assert timing(_info("@once"), Config()) == Timing()
