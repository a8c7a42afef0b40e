"""DAG schedules -> KFP recurring run specs (schedule.json)."""

from __future__ import annotations

import inspect

import pytest
from kfp import Client

from af2kfp.converters.graph import DagInfo
from af2kfp.converters.schedule import (
    ASSET_SCHEDULE,
    CRON_INVALID,
    CRON_UNSUPPORTED,
    CUSTOM_TIMETABLE,
    PRESETS,
    SCHEDULE_DIFFERS,
    SCHEDULE_UNKNOWN,
    recurring_run_spec,
)
from af2kfp.converters.cron import kfp_cron
from af2kfp.converters.values import Call, DateTime, Duration, Symbolic

START = DateTime(iso="2024-01-01T00:00:00")


def _spec(schedule, **kwargs):
    info = DagInfo(dag_id="sales", file="dags/sales.py", line=7, schedule=schedule,
                   start_date=kwargs.pop("start_date", START), **kwargs)
    return recurring_run_spec(info)


@pytest.mark.parametrize("preset,cron", [
    ("@hourly", "0 0 * * * *"), ("@daily", "0 0 0 * * *"), ("@weekly", "0 0 0 * * 0"),
    ("@monthly", "0 0 0 1 * *"), ("@quarterly", "0 0 0 1 */3 *"), ("@yearly", "0 0 0 1 1 *"),
    ("@annually", "0 0 0 1 1 *"), ("@midnight", "0 0 0 * * *"),
])
def test_presets_become_six_field_cron(preset, cron):
    spec = _spec(preset)
    assert spec.findings == [] and spec.data["recurring_run"]["cron_expression"] == cron
    assert spec.data["recurring_run"]["interval_second"] is None


def test_every_preset_is_covered():
    assert set(PRESETS) == {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@quarterly", "@yearly",
                            "@annually"}


def test_cron_gets_a_seconds_field_and_sunday_seven_becomes_zero():
    assert kfp_cron("*/15 6-18 * * 1-5").cron == "0 */15 6-18 * * 1-5"
    assert kfp_cron("0 3 * * 7").cron == "0 0 3 * * 0"
    assert kfp_cron("0 3 * * 5,7").cron == "0 0 3 * * 0,5"
    assert kfp_cron("0 0 * * 5-7").cron == "0 0 0 * * 0,5-6"


def test_cron_syntax_kfp_lacks_is_flagged_and_writes_no_recurring_run():
    spec = _spec("0 0 L * *")
    assert [f.code for f in spec.findings] == [CRON_UNSUPPORTED]
    assert spec.data["recurring_run"] is None
    assert _spec("0 0 1 1 * * 2030").findings[0].code == CRON_UNSUPPORTED


@pytest.mark.parametrize("cron", ["61 * * * *", "0 25 * * *", "0 0 * * * 2024", "every day", "0 0 32 * *"])
def test_cron_airflow_rejects_is_an_error_and_no_recurring_run(cron):
    spec = _spec(cron)
    assert [(f.code, f.severity.value) for f in spec.findings] == [(CRON_INVALID, "error")]
    assert spec.data["recurring_run"] is None and "not a valid cron" in spec.findings[0].message


def test_full_spec_fields_and_create_recurring_run_accepts_them():
    spec = _spec("@daily", end_date=DateTime(iso="2024-12-31T00:00:00+00:00"), catchup=True,
                 extra={"max_active_runs": 3})
    run = spec.data["recurring_run"]
    assert run == {
        "job_name": "sales", "description": "Converted from the schedule of Airflow DAG sales",
        "start_time": "2024-01-01T00:00:00Z", "end_time": "2024-12-31T00:00:00+00:00",
        "cron_expression": "0 0 0 * * *", "interval_second": None, "max_concurrency": 3, "no_catchup": False,
        "enabled": True,
    }
    inspect.signature(Client.create_recurring_run).bind(None, experiment_id="e", pipeline_package_path="p.yaml",
                                                        **run)
    assert spec.data["dag_id"] == "sales" and spec.data["airflow_schedule"] == "@daily"


def test_timedelta_is_an_interval():
    run = _spec(Duration(seconds=5400)).data["recurring_run"]
    assert (run["interval_second"], run["cron_expression"]) == (5400, None)


def test_catchup_default_and_concurrency_cap():
    spec = _spec("@hourly", extra={"max_active_runs": 50})
    run = spec.data["recurring_run"]
    assert run["no_catchup"] is True and run["max_concurrency"] == 10
    assert any("Airflow 3 defaults to False" in n for n in spec.data["notes"])
    assert any("capped" in n for n in spec.data["notes"])
    assert _spec("@hourly").data["recurring_run"]["max_concurrency"] == 10  # Airflow's 16, capped


@pytest.mark.parametrize("schedule", [None, "@once"])
def test_no_recurring_run(schedule):
    spec = _spec(schedule)
    assert spec.data["recurring_run"] is None and spec.findings == [] and spec.data["notes"]


@pytest.mark.parametrize("schedule", [
    Call(func="airflow.sdk.Asset", args=("s3://bucket/sales",)),
    [Call(func="airflow.datasets.Dataset", args=("a",)), Call(func="airflow.datasets.Dataset", args=("b",))],
    Call(func="airflow.sdk.AssetAny", args=(Call(func="airflow.sdk.Asset", args=("a",)),)),
    Symbolic(source='Asset("a") | Asset("b")'),
])
def test_asset_schedules_are_findings(schedule):
    spec = _spec(schedule)
    assert spec.data["recurring_run"] is None
    assert [(f.code, f.file, f.line, f.dag_id) for f in spec.findings] == [(ASSET_SCHEDULE, "dags/sales.py", 7, "sales")]


def test_asset_or_time_keeps_its_timetable():
    timetable = Call(func="airflow.timetables.trigger.CronTriggerTimetable", args=("0 1 * * *",),
                     kwargs={"timezone": "UTC"})
    spec = _spec(Call(func="airflow.timetables.assets.AssetOrTimeSchedule",
                      kwargs={"timetable": timetable, "assets": [Call(func="airflow.sdk.Asset", args=("a",))]}))
    assert spec.data["recurring_run"]["cron_expression"] == "0 0 1 * * *"
    assert [f.code for f in spec.findings] == [ASSET_SCHEDULE]


def test_timetables():
    cron = Call(func="airflow.timetables.trigger.CronTriggerTimetable", args=("30 2 * * *",),
                kwargs={"timezone": "Europe/Paris"})
    spec = recurring_run_spec(DagInfo(dag_id="d", file="f.py", line=1, extra={"timetable": cron}))
    assert spec.data["recurring_run"]["cron_expression"] == "0 30 2 * * *"
    assert [f.code for f in spec.findings] == [SCHEDULE_DIFFERS]
    delta = Call(func="airflow.timetables.interval.DeltaDataIntervalTimetable", args=(Duration(seconds=600),))
    assert _spec(delta).data["recurring_run"]["interval_second"] == 600
    custom = _spec(Call(func="company.timetables.BusinessDays"))
    assert custom.data["recurring_run"] is None and [f.code for f in custom.findings] == [CUSTOM_TIMETABLE]
    assert [f.code for f in _spec("@continuous").findings] == [CUSTOM_TIMETABLE]


def test_unknown_values_are_findings_never_guesses():
    spec = _spec(Symbolic(source="pick_schedule()"))
    assert spec.data["recurring_run"] is None and [f.code for f in spec.findings] == [SCHEDULE_UNKNOWN]
    later = _spec("@daily", start_date=Symbolic(source="days_ago(1)"))
    assert later.data["recurring_run"]["start_time"] is None and [f.code for f in later.findings] == [SCHEDULE_UNKNOWN]


def test_offset_start_date_and_run_parameters_are_noted():
    spec = recurring_run_spec(DagInfo(dag_id="d", file="f.py", line=1, schedule="0 6 * * *",
                                      start_date=DateTime(iso="2024-01-01T00:00:00+02:00")), ("ds",))
    assert [f.code for f in spec.findings] == [SCHEDULE_DIFFERS, SCHEDULE_DIFFERS]
    assert "ds" in spec.findings[1].message
