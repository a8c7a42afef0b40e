"""What the client sends for a recurring run: :class:`Schedule`, :class:`RecurringRunSpec`
(from ``schedule.json`` too) and the ``V2beta1RecurringRun`` body, checked against the
published ``kfp_server_api`` models and against what ``kfp.Client`` itself sends."""

from __future__ import annotations

import json
import types
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from af2kfp.bridge.kfp import (
    PipelineSourceError,
    RecurringRun,
    RecurringRunSpec,
    RunSpec,
    Schedule,
    ScheduleError,
    build_recurring_run_body,
)
from af2kfp.bridge.kfp.models import PipelineVersion

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "expected"


def deserialize(body: dict[str, Any], model: str) -> Any:
    """``body`` read by kfp_server_api's own deserializer, as kfp.Client reads an answer."""
    import kfp_server_api

    class Answer:
        data = json.dumps(body)

    return kfp_server_api.ApiClient().deserialize(Answer(), model)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of cron_expression and interval_second"),
        ({"cron_expression": "@daily", "interval_second": 60}, "exactly one"),
        ({"interval_second": 0}, "whole number of seconds >= 1"),
        ({"interval_second": 1.5}, "whole number"),
        ({"cron_expression": "@daily", "max_concurrency": 11}, "between 1 and 10"),
        ({"cron_expression": "@daily", "max_concurrency": 0}, "between 1 and 10"),
        ({"cron_expression": "@daily", "start_time": "soon"}, "not an RFC 3339 time"),
        ({"cron_expression": "@daily", "start_time": "2024-02-01T00:00:00Z", "end_time": "2024-01-01T00:00:00Z"},
         "end_time 2024-01-01T00:00:00Z is before start_time"),
    ],
)
def test_a_schedule_kfp_would_refuse_is_a_clear_input_error(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule(**fields)


def test_schedule_times_are_utc_seconds_and_the_trigger_is_v2beta1() -> None:
    from kfp_server_api.models import V2beta1CronSchedule, V2beta1PeriodicSchedule, V2beta1Trigger

    naive = Schedule(cron_expression=" 0 0 2 * * * ", start_time=datetime(2024, 1, 1, 2, 30, 15, 999))
    assert naive.start_time == "2024-01-01T02:30:15Z" and naive.cron_expression == "0 0 2 * * *"
    offset = Schedule(interval_second=3600, start_time="2024-01-01T02:00:00+02:00", end_time="2025-01-01T00:00:00Z")
    assert offset.trigger() == {"periodic_schedule": {"interval_second": "3600", "start_time": "2024-01-01T00:00:00Z",
                                                      "end_time": "2025-01-01T00:00:00Z"}}
    assert set(offset.trigger()) <= set(V2beta1Trigger.attribute_map.values())
    assert set(offset.trigger()["periodic_schedule"]) <= set(V2beta1PeriodicSchedule.attribute_map.values())
    assert set(naive.trigger()["cron_schedule"]) <= set(V2beta1CronSchedule.attribute_map.values())
    read = deserialize(offset.trigger(), "V2beta1Trigger")
    assert read.periodic_schedule.interval_second == "3600"
    assert read.periodic_schedule.start_time == datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_spec_from_a_schedule_json_written_by_convert() -> None:
    path = SAMPLES / "docker_sales_etl" / "schedule.json"
    spec = RecurringRunSpec.from_schedule(path, experiment_name="etl", parameters={})
    assert spec.run.display_name == "docker_sales_etl" and spec.run.package == path.parent / "pipeline.yaml"
    assert spec.run.description == "Converted from the schedule of Airflow DAG docker_sales_etl"
    assert spec.schedule == Schedule(cron_expression="0 0 2 * * *", start_time="2024-01-01T00:00:00Z",
                                     max_concurrency=10, no_catchup=True, enabled=True)
    renamed = RecurringRunSpec.from_schedule(json.loads(path.read_text()), display_name="etl-nightly",
                                             pipeline_name="etl", experiment_name="etl")
    assert renamed.run.display_name == "etl-nightly" and renamed.run.package is None
    assert renamed.with_schedule(enabled=False).schedule.enabled is False

    with pytest.raises(ScheduleError, match="has no recurring run: schedule=None: the DAG runs only when triggered"):
        RecurringRunSpec.from_schedule(SAMPLES / "dependency_styles" / "schedule.json")
    with pytest.raises(ScheduleError, match="unknown recurring_run key"):
        RecurringRunSpec.from_schedule({"recurring_run": {"job_name": "x", "cron_expression": "@daily", "paused": 1}},
                                       package=path.parent / "pipeline.yaml")
    with pytest.raises(ScheduleError, match="cannot read"):
        RecurringRunSpec.from_schedule(path.parent / "absent.json")


def test_follow_latest_version_needs_an_uploaded_pipeline_without_version() -> None:
    when = Schedule(cron_expression="@daily")
    with pytest.raises(PipelineSourceError, match="follow_latest_version needs an uploaded pipeline"):
        RecurringRunSpec(run=RunSpec(display_name="x", package="p.yaml"), schedule=when, follow_latest_version=True)
    with pytest.raises(PipelineSourceError, match="follow_latest_version"):
        RecurringRunSpec(run=RunSpec(display_name="x", pipeline_name="p", pipeline_version_name="v1"), schedule=when,
                         follow_latest_version=True)


def test_bodies_are_v2beta1_recurring_runs_kfp_server_api_reads() -> None:
    from kfp_server_api.models import V2beta1RecurringRun, V2beta1RuntimeConfig

    spec = RecurringRunSpec(
        run=RunSpec(display_name="nightly", pipeline_id="p", parameters={"a": 1}, pipeline_root="gs://b",
                    service_account="sa", description="d"),
        schedule=Schedule(cron_expression="0 0 2 * * *", start_time="2024-01-01T00:00:00Z", max_concurrency=3,
                          no_catchup=True, enabled=False),
    )
    version = PipelineVersion("p", "v", "v", "v", None)
    pinned = build_recurring_run_body(spec, experiment_id="e", version=version)
    latest = build_recurring_run_body(spec, experiment_id="e", pipeline_id="p")
    inline = build_recurring_run_body(spec, experiment_id="e", pipeline_spec={"root": {}})
    for body in (pinned, latest, inline):
        assert set(body) <= set(V2beta1RecurringRun.attribute_map.values())
        assert set(body["runtime_config"]) <= set(V2beta1RuntimeConfig.attribute_map.values())
    assert pinned["pipeline_version_reference"] == {"pipeline_id": "p", "pipeline_version_id": "v"}
    assert latest["pipeline_version_reference"] == {"pipeline_id": "p"} and inline["pipeline_spec"] == {"root": {}}
    read = deserialize(pinned, "V2beta1RecurringRun")
    assert (read.mode, read.max_concurrency, read.no_catchup, read.trigger.cron_schedule.cron) == (
        "DISABLE", "3", True, "0 0 2 * * *",
    )
    assert read.runtime_config.parameters == {"a": 1} and read.service_account == "sa"
    with pytest.raises(PipelineSourceError, match="needs a pipeline spec"):
        build_recurring_run_body(spec, experiment_id="e")


def test_the_body_says_what_kfp_client_create_recurring_run_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same schedule.json keywords, same package: kfp.Client's body and ours mean the same."""
    import kfp
    import kfp_server_api

    single_user = types.SimpleNamespace(multi_user=False)
    monkeypatch.setattr(kfp.Client, "get_kfp_healthz", lambda self, *a, **k: single_user)  # no server needed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        client = kfp.Client(host="http://kfp.invalid")
    sent: list[Any] = []
    monkeypatch.setattr(client._recurring_run_api, "recurring_run_service_create_recurring_run",
                        lambda recurring_run: sent.append(recurring_run))
    folder = SAMPLES / "docker_sales_etl"
    keywords = json.loads((folder / "schedule.json").read_text())["recurring_run"]
    client.create_recurring_run("e", pipeline_package_path=str(folder / "pipeline.yaml"), params={}, **keywords)
    theirs = kfp_server_api.ApiClient().sanitize_for_serialization(sent[0])

    from af2kfp.bridge.kfp.packages import load_package

    spec = RecurringRunSpec.from_schedule(folder / "schedule.json", parameters={})
    ours = build_recurring_run_body(spec, experiment_id="e", pipeline_spec=load_package(spec.run.package).run_spec())
    theirs["max_concurrency"] = str(theirs["max_concurrency"])  # int64: a number or a string, both protojson
    assert ours == theirs


def test_recurring_run_view_reads_what_kfp_answers() -> None:
    answer = {
        "recurring_run_id": "r1", "display_name": "nightly", "experiment_id": "e", "namespace": "team",
        "max_concurrency": "3", "no_catchup": True, "mode": "ENABLE", "status": "DISABLED",
        "trigger": {"periodic_schedule": {"interval_second": "60", "start_time": "2024-01-01T00:00:00Z"}},
        "pipeline_version_reference": {"pipeline_id": "p", "pipeline_version_id": "v"},
        "created_at": "2024-01-01T00:00:00Z", "error": {"code": 9, "message": "boom"},
    }
    assert deserialize(answer, "V2beta1RecurringRun").status == "DISABLED"  # a published shape
    view = RecurringRun.from_json(answer)
    assert (view.enabled, view.interval_second, view.cron, view.max_concurrency, view.no_catchup) == (
        False, 60, None, 3, True,
    )
    assert (view.start_time, view.end_time, view.pipeline_version_id, view.error) == (
        "2024-01-01T00:00:00Z", None, "v", "boom",
    )
    camel = RecurringRun.from_json({"recurringRunId": "r2", "displayName": "x", "mode": "ENABLE",
                                    "trigger": {"cronSchedule": {"cron": "@daily", "startTime": "1970-01-01T00:00:00Z"}}})
    assert (camel.recurring_run_id, camel.enabled, camel.cron, camel.start_time) == ("r2", True, "@daily", None)
    assert view.summary()["interval_second"] == 60

