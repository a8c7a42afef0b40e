"""The real kfp.Client's recurring-run calls against the local server over HTTP: the
``schedule.json`` that ``af2kfp convert`` writes, passed as its keywords; and a 1-minute
cron triggering runs under a fast clock."""

from __future__ import annotations

import json
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from kfp_server_api.exceptions import ApiException

from af2kfp.bridge.kfp_server import RunningServer, start_server

from .conftest import FAST, wait_for

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "expected"


def keywords(sample: str) -> dict[str, Any]:
    """``create_recurring_run``'s keywords, as ``af2kfp convert`` wrote them for ``sample``."""
    return json.loads((SAMPLES / sample / "schedule.json").read_text())["recurring_run"]


def client(server: RunningServer) -> Any:
    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return kfp.Client(host=server.url)


def test_create_recurring_run_from_schedule_json_list_disable_enable_delete(kfp_client: Any) -> None:
    experiment = kfp_client.create_experiment("nightly")
    schedule = keywords("docker_sales_etl")
    assert schedule["cron_expression"] == "0 0 2 * * *" and schedule["no_catchup"] is True
    created = kfp_client.create_recurring_run(
        experiment_id=experiment.experiment_id,
        pipeline_package_path=str(SAMPLES / "docker_sales_etl" / "pipeline.yaml"),
        params={},
        **schedule,
    )
    assert created.display_name == "docker_sales_etl" and created.status == "ENABLED" and created.mode == "ENABLE"
    assert created.trigger.cron_schedule.cron == "0 0 2 * * *"
    assert created.trigger.cron_schedule.start_time == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert created.max_concurrency == "10" and created.no_catchup is True
    spec = created.pipeline_spec.get("pipeline_spec", created.pipeline_spec)  # with its platform spec
    assert spec["pipelineInfo"]["name"] == "docker-sales-etl"

    # no catch-up from 2024-01-01: exactly the latest 02:00 UTC runs at once
    now = datetime.now(timezone.utc)
    latest = now.replace(hour=2, minute=0, second=0, microsecond=0)
    latest -= timedelta(days=1) if latest > now else timedelta(0)
    (run,) = kfp_client.list_runs(experiment_id=experiment.experiment_id).runs
    assert run.recurring_run_id == created.recurring_run_id and run.scheduled_at == latest
    assert run.display_name.startswith("docker_sales_etl-1-")

    fetched = kfp_client.get_recurring_run(created.recurring_run_id)
    assert fetched.to_dict() == created.to_dict()
    listed = kfp_client.list_recurring_runs(experiment_id=experiment.experiment_id)
    assert listed.total_size == 1 and listed.recurring_runs[0].recurring_run_id == created.recurring_run_id
    by_name = kfp_client.list_recurring_runs(
        filter=json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": "docker_sales_etl"}]})
    )
    assert [r.display_name for r in by_name.recurring_runs] == ["docker_sales_etl"]
    assert kfp_client.list_recurring_runs(namespace="elsewhere").recurring_runs is None

    kfp_client.disable_recurring_run(created.recurring_run_id)
    assert kfp_client.get_recurring_run(created.recurring_run_id).status == "DISABLED"
    kfp_client.enable_recurring_run(created.recurring_run_id)
    assert kfp_client.get_recurring_run(created.recurring_run_id).status == "ENABLED"
    assert len(kfp_client.list_runs(experiment_id=experiment.experiment_id).runs) == 1  # the tick ran already
    kfp_client.delete_recurring_run(created.recurring_run_id)
    with pytest.raises(ApiException) as missing:
        kfp_client.get_recurring_run(created.recurring_run_id)
    assert missing.value.status == 404
    assert kfp_client.get_run(run.run_id).recurring_run_id == created.recurring_run_id  # its runs stay


def test_an_interval_schedule_on_an_uploaded_version_ends_at_its_end_time(kfp_client: Any) -> None:
    schedule = keywords("schedule_every_six_hours")
    assert schedule["interval_second"] == 21600 and schedule["end_time"] == "2025-06-01T00:00:00Z"
    pipeline = kfp_client.upload_pipeline(str(SAMPLES / "schedule_every_six_hours" / "pipeline.yaml"), "six-hours")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    experiment = kfp_client.create_experiment("six")
    created = kfp_client.create_recurring_run(
        experiment.experiment_id, pipeline_id=pipeline.pipeline_id, version_id=version.pipeline_version_id, **schedule
    )
    periodic = created.trigger.periodic_schedule
    assert periodic.interval_second == "21600" and periodic.end_time == datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert created.pipeline_version_reference.pipeline_version_id == version.pipeline_version_id
    assert kfp_client.list_runs(experiment_id=experiment.experiment_id).runs is None  # its end is past


def test_kfp_client_refusals(kfp_client: Any, package: Path) -> None:
    experiment = kfp_client.create_experiment("bad")
    for wrong, message in (
        ({"cron_expression": "0 0 0 L * *"}, "Schedule cron is not a supported format"),
        ({"cron_expression": "@daily", "max_concurrency": 11}, "at least 1 and at most 10"),
        ({"interval_second": -5}, "Set at interval to least 1 second"),
    ):
        with pytest.raises(ApiException) as refused:
            kfp_client.create_recurring_run(experiment.experiment_id, "bad", pipeline_package_path=str(package), **wrong)
        assert refused.value.status == 400 and message in json.loads(refused.value.body)["message"]


class FastClock:
    """Server time running ``speed`` times faster than real time, from ``start``."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.origin, self.start, self.speed = time.monotonic(), start.timestamp(), speed

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.origin) * self.speed


@pytest.fixture
def fast_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server whose minute lasts 0.1 s (and whose runs 3 server seconds), looking every 0.02 s."""
    clock = FastClock(datetime(2024, 3, 5, 10, 0, 30, tzinfo=timezone.utc), speed=600)
    with start_server(tmp_path / "kfp.db", clock=clock, schedule_tick=0.02, **{**FAST, "run_seconds": 3.0}) as server:
        yield server


def test_a_one_minute_cron_triggers_a_run_each_minute_under_a_fast_clock(fast_server: RunningServer, package: Path) -> None:
    kfp_client = client(fast_server)
    experiment = kfp_client.create_experiment("minutely")
    created = kfp_client.create_recurring_run(
        experiment.experiment_id, "minutely", cron_expression="0 * * * * *", max_concurrency=1, no_catchup=False,
        start_time="2024-03-05T10:00:00Z", pipeline_package_path=str(package), params={"a": 4},
    )

    def started() -> list[Any]:
        return sorted(kfp_client.list_runs(experiment_id=experiment.experiment_id, page_size=100).runs or [],
                      key=lambda r: r.scheduled_at)

    runs = wait_for(lambda: len(found := started()) >= 5 and found, timeout=30)
    ticks = [r.scheduled_at for r in runs]
    assert ticks[0] == datetime(2024, 3, 5, 10, 1, tzinfo=timezone.utc)
    assert all(later - earlier == timedelta(minutes=1) for earlier, later in zip(ticks, ticks[1:]))
    assert all(r.recurring_run_id == created.recurring_run_id and r.created_at >= r.scheduled_at for r in runs)
    assert all(r.runtime_config.parameters == {"a": 4} for r in runs)
    assert wait_for(lambda: kfp_client.get_run(runs[0].run_id).state == "SUCCEEDED")

    page = httpx.get(fast_server.url + "/").text
    assert "cron 0 * * * * *" in page and "2024-03-05T10:01:00Z" in page

    kfp_client.disable_recurring_run(created.recurring_run_id)
    stopped = len(started())
    time.sleep(0.5)  # five server minutes
    assert len(started()) == stopped


def test_the_command_schedules_and_a_restarted_process_goes_on(tmp_path: Path, spec: dict[str, Any]) -> None:
    """``af2kfp kfp-server --schedule-tick``: a real process starts the runs of a 1-second
    interval; stopped (SIGTERM) and started again on the same database, it goes on from the
    last tick, catching up the ones it missed, each once; ``--schedule-tick 0`` starts none."""
    from af2kfp.bridge.kfp_server import start_server_process

    def started(url: str) -> list[dict[str, Any]]:
        found = httpx.get(f"{url}/apis/v2beta1/runs", params={"page_size": 200}).json().get("runs") or []
        return sorted(found, key=lambda r: r["scheduled_at"])

    db = tmp_path / "kfp.db"
    body = {"display_name": "each-second", "pipeline_spec": spec, "max_concurrency": "10", "mode": "ENABLE",
            "trigger": {"periodic_schedule": {"interval_second": "1"}}}
    fast = ["--schedule-tick", "0.1", "--run-seconds", "0.2", "--pending-seconds", "0"]
    with start_server_process(db, args=fast) as first:
        assert httpx.post(f"{first.url}/apis/v2beta1/recurringruns", json=body).status_code == 200
        wait_for(lambda: len(started(first.url)) >= 2, timeout=20)
    assert first.process.returncode == 0
    time.sleep(2.5)  # ticks missed while nothing serves
    with start_server_process(db, args=fast) as second:
        runs = wait_for(lambda: len(found := started(second.url)) >= 6 and found, timeout=20)
        ticks = [datetime.fromisoformat(r["scheduled_at"].replace("Z", "+00:00")).timestamp() for r in runs]
        assert [b - a for a, b in zip(ticks, ticks[1:])] == [1.0] * (len(ticks) - 1)  # none lost, none twice
        indexes = [int(r["display_name"].split("-")[2]) for r in runs]
        assert indexes == list(range(1, len(runs) + 1))
    with start_server_process(db, args=["--schedule-tick", "0"]) as idle:
        before = len(started(idle.url))
        time.sleep(1.5)
        assert len(started(idle.url)) == before
