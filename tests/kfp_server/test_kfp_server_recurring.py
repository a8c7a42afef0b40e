"""Recurring runs of the local server, driven by a clock the test moves: what is triggered
when (a 1-minute cron, catch-up or not, max_concurrency, start/end, enable/disable), what
a triggered run carries, restarts, and never two runs for one tick."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from af2kfp.bridge.kfp_server.api import KfpApi, Policy, Settings
from af2kfp.bridge.kfp_server.errors import ApiError
from af2kfp.bridge.kfp_server.store import Store

from .conftest import wait_for


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def z(text: str) -> str:
    """``2024-03-05 10:01`` as the API writes it: ``2024-03-05T10:01:00Z``."""
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """The server's time, moved by the test."""

    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock("2024-03-05 10:00:30")


def make_api(path: Path | str | None, clock: Clock, **policy: bool) -> KfpApi:
    settings = Settings(run_seconds=20.0, pending_seconds=0.0, cancel_seconds=0.0)
    return KfpApi(Store(str(path) if path else None), settings=settings, clock=clock, policy=Policy(run_fates=True, **policy))


@pytest.fixture
def api(tmp_path: Path, clock: Clock) -> Iterator[KfpApi]:
    made = make_api(tmp_path / "kfp.db", clock)
    yield made
    made.store.close()


def create(api: KfpApi, spec: dict[str, Any], trigger: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"display_name": "nightly", "pipeline_spec": spec, "trigger": trigger, "max_concurrency": "10",
            "mode": "ENABLE", **fields}
    return api.recurring.create({}, body)


def every_minute(**bounds: str) -> dict[str, Any]:
    return {"cron_schedule": {"cron": "0 * * * * *", **bounds}}


def runs(api: KfpApi) -> list[dict[str, Any]]:
    """Every run, by the time it was scheduled for (runs of one catch-up share a creation time)."""
    found = api.list_runs({"sort_by": "created_at", "page_size": "1000"})["runs"]
    return sorted(found, key=lambda r: (r["scheduled_at"], r["created_at"]))


def scheduled(api: KfpApi) -> list[str]:
    return [r["scheduled_at"] for r in runs(api)]


def run_for(api: KfpApi, clock: Clock, seconds: float, step: float = 10.0) -> None:
    """Let the scheduler look every ``step`` seconds of server time."""
    end = clock.now + seconds
    while clock.now < end:
        clock.advance(step)
        api.recurring.trigger_due()


def test_a_one_minute_cron_starts_a_run_on_each_minute_carrying_its_tick(api: KfpApi, clock: Clock, spec) -> None:
    recurring = create(api, spec, every_minute(), description="ignored by runs", no_catchup=True)
    assert recurring["status"] == "ENABLED" and recurring["max_concurrency"] == "10"
    assert runs(api) == []  # created at 10:00:30: the first tick is 10:01:00
    run_for(api, clock, 185, step=7)  # the scheduler looks at 10:00:37, 10:00:44 ... 10:01:05 ...
    started = runs(api)
    assert [r["scheduled_at"] for r in started] == [z("2024-03-05 10:01"), z("2024-03-05 10:02"), z("2024-03-05 10:03")]
    first = started[0]
    assert first["recurring_run_id"] == recurring["recurring_run_id"]
    assert first["created_at"] == "2024-03-05T10:01:05Z"  # the first look after the tick
    assert first["experiment_id"] == recurring["experiment_id"]
    assert [r["display_name"].rsplit("-", 1)[0] for r in started] == ["nightly-1", "nightly-2", "nightly-3"]
    assert first["pipeline_spec"] == spec and first["description"] == ""
    assert api.get_run(first["run_id"], {})["scheduled_at"] == z("2024-03-05 10:01")


def test_catchup_backfills_each_missed_tick_in_order(api: KfpApi, clock: Clock, spec) -> None:
    create(api, spec, every_minute(start_time="2024-03-05T09:55:00Z"))  # no_catchup unset: KFP catches up
    assert scheduled(api) == [z(f"2024-03-05 09:{m}") for m in (56, 57, 58, 59)] + [z("2024-03-05 10:00")]


def test_no_catchup_runs_only_the_latest_missed_tick(api: KfpApi, clock: Clock, spec) -> None:
    create(api, spec, every_minute(start_time="2024-03-05T09:55:00Z"), no_catchup=True)
    assert scheduled(api) == [z("2024-03-05 10:00")]


def test_max_concurrency_counts_the_runs_not_finished(api: KfpApi, clock: Clock, spec) -> None:
    recurring = create(api, spec, every_minute(), max_concurrency="2",
                       runtime_config={"parameters": {"af2kfp.fate": "hang"}})
    run_for(api, clock, 300)
    hanging = runs(api)
    assert [r["state"] for r in hanging] == ["RUNNING", "RUNNING"]
    assert [r["scheduled_at"] for r in hanging] == [z("2024-03-05 10:01"), z("2024-03-05 10:02")]
    api.terminate_run(hanging[0]["run_id"], {})  # one ends: the next missed tick (caught up) may start
    api.recurring.trigger_due()
    assert scheduled(api)[-1] == z("2024-03-05 10:03") and len(runs(api)) == 3
    assert api.recurring.get(recurring["recurring_run_id"], {})["status"] == "ENABLED"


def test_disable_stops_and_enable_catches_up_or_not(api: KfpApi, clock: Clock, spec) -> None:
    backfills = create(api, spec, every_minute(), mode="DISABLE", display_name="backfills")
    skips = create(api, spec, every_minute(), mode="DISABLE", display_name="skips", no_catchup=True)
    assert backfills["status"] == "DISABLED" and backfills["mode"] == "DISABLE"
    run_for(api, clock, 300)
    assert runs(api) == []
    api.recurring.enable(backfills["recurring_run_id"], {})
    api.recurring.enable(skips["recurring_run_id"], {})
    by_name: dict[str, list[str]] = {}
    for run in runs(api):
        by_name.setdefault(run["display_name"].split("-")[0], []).append(run["scheduled_at"])
    assert by_name["backfills"] == [z(f"2024-03-05 10:0{m}") for m in range(1, 6)]
    assert by_name["skips"] == [z("2024-03-05 10:05")]
    api.recurring.disable(backfills["recurring_run_id"], {})
    run_for(api, clock, 120)
    assert len([r for r in runs(api) if r["display_name"].startswith("backfills")]) == 5
    assert api.recurring.get(backfills["recurring_run_id"], {})["status"] == "DISABLED"


def test_start_and_end_time(api: KfpApi, clock: Clock, spec) -> None:
    create(api, spec, every_minute(start_time="2024-03-05T10:03:00Z", end_time="2024-03-05T10:05:00Z"))
    run_for(api, clock, 150)  # 10:03:00 is the start, not a tick: the first tick is after it
    assert runs(api) == []
    run_for(api, clock, 600)
    assert scheduled(api) == [z("2024-03-05 10:04"), z("2024-03-05 10:05")]


def test_a_periodic_schedule(api: KfpApi, clock: Clock, spec) -> None:
    create(api, spec, {"periodic_schedule": {"interval_second": 90}}, no_catchup=True)
    run_for(api, clock, 200, step=5)
    assert scheduled(api) == ["2024-03-05T10:02:00Z", "2024-03-05T10:03:30Z"]


def test_a_tick_never_makes_two_runs_even_from_two_servers_on_one_database(tmp_path: Path, clock: Clock, spec) -> None:
    servers = [make_api(tmp_path / "kfp.db", clock) for _ in range(2)]
    create(servers[0], spec, every_minute())
    clock.advance(300)  # five ticks due, and six schedulers looking at once
    started: list[list[str]] = []
    threads = [threading.Thread(target=lambda s=s: started.append(s.recurring.trigger_due())) for s in servers * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scheduled(servers[1]) == [z(f"2024-03-05 10:0{m}") for m in range(1, 6)]
    assert sorted(run_id for ids in started for run_id in ids) == sorted(r["run_id"] for r in runs(servers[1]))
    for server in servers:
        server.store.close()


def test_a_restarted_server_goes_on_from_the_last_tick(tmp_path: Path, clock: Clock, spec) -> None:
    first = make_api(tmp_path / "kfp.db", clock)
    recurring = create(first, spec, every_minute())
    run_for(first, clock, 125)
    assert len(runs(first)) == 2
    first.store.close()  # the server stops at 10:02:40 ...
    clock.advance(180)   # ... and starts again at 10:05:40
    second = make_api(tmp_path / "kfp.db", clock)
    backfilled = second.recurring.trigger_due()
    started = runs(second)
    assert backfilled == [r["run_id"] for r in started[2:]]  # started oldest tick first
    assert [r["scheduled_at"] for r in started] == [z(f"2024-03-05 10:0{m}") for m in range(1, 6)]
    assert [r["display_name"].rsplit("-", 1)[0] for r in started] == [f"nightly-{i}" for i in range(1, 6)]
    assert second.recurring.get(recurring["recurring_run_id"], {})["trigger"] == every_minute()
    second.store.close()


def test_an_older_database_gets_the_new_columns(tmp_path: Path, clock: Clock, spec) -> None:
    import sqlite3

    db = tmp_path / "old.db"
    api = make_api(db, clock)
    api.create_run({}, {"display_name": "before", "pipeline_spec": spec})
    api.store.close()
    with sqlite3.connect(db) as old:  # as a server of the previous release left it
        old.execute("DROP TABLE recurring_runs")
        old.execute("DROP INDEX runs_by_recurring_run")
        old.execute("ALTER TABLE faults DROP COLUMN after")
        old.execute("ALTER TABLE runs DROP COLUMN recurring_run_id")
        old.execute("ALTER TABLE runs DROP COLUMN scheduled_at")
    api = make_api(db, clock)
    assert runs(api)[0]["scheduled_at"] == runs(api)[0]["created_at"]
    create(api, spec, every_minute())
    run_for(api, clock, 60)
    assert [r["display_name"] for r in runs(api)][0] == "before" and len(runs(api)) == 2
    api.store.close()


def test_pinned_version_and_latest_version(api: KfpApi, clock: Clock, package: Path, spec) -> None:
    data = package.read_bytes()
    pipeline = api.upload_pipeline({"name": "tiny"}, "tiny.yaml", data)
    first = api.list_pipeline_versions(pipeline["pipeline_id"], {})["pipeline_versions"][0]
    reference = {"pipeline_id": pipeline["pipeline_id"], "pipeline_version_id": first["pipeline_version_id"]}
    pinned = create(api, spec, every_minute(), display_name="pinned", pipeline_spec=None,
                    pipeline_version_reference=reference)
    follows = create(api, spec, every_minute(), display_name="follows", pipeline_spec=None,
                     pipeline_version_reference={"pipeline_id": pipeline["pipeline_id"]})
    assert "pipeline_spec" not in pinned and pinned["pipeline_version_reference"] == reference
    assert follows["pipeline_version_reference"] == {"pipeline_id": pipeline["pipeline_id"]}
    clock.advance(1)
    second = api.upload_pipeline_version({"pipelineid": pipeline["pipeline_id"], "name": "v2"}, "tiny.yaml", data)
    run_for(api, clock, 59)
    used = {r["display_name"].split("-")[0]: r["pipeline_version_reference"]["pipeline_version_id"] for r in runs(api)}
    assert used == {"pinned": first["pipeline_version_id"], "follows": second["pipeline_version_id"]}

    api.delete_pipeline(pipeline["pipeline_id"], {"cascade": "true"})  # the pinned one kept its copy
    run_for(api, clock, 60)
    assert [r["display_name"].split("-")[0] for r in runs(api)].count("pinned") == 2
    broken = api.recurring.get(follows["recurring_run_id"], {})
    assert "Failed to create a run at 2024-03-05T10:02:00Z" in broken["error"]["message"]
    assert "not found" in broken["error"]["message"]


def test_archiving_the_experiment_disables_and_deleting_it_removes(api: KfpApi, clock: Clock, spec) -> None:
    experiment = api.create_experiment({}, {"display_name": "exp"})
    recurring = create(api, spec, every_minute(), experiment_id=experiment["experiment_id"])
    api.archive_experiment(experiment["experiment_id"], {})
    assert api.recurring.get(recurring["recurring_run_id"], {})["status"] == "DISABLED"
    api.delete_experiment(experiment["experiment_id"], {})
    assert api.recurring.list({})["recurringRuns"] == []
    deleted = create(api, spec, every_minute())
    run_for(api, clock, 60)
    api.recurring.delete(deleted["recurring_run_id"], {})
    assert len(runs(api)) == 1  # its runs stay
    with pytest.raises(ApiError) as missing:
        api.recurring.get(deleted["recurring_run_id"], {})
    assert missing.value.status == 404


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"display_name": ""}, 400, "Recurring run name is empty"),
        ({"max_concurrency": "11"}, 400, "at least 1 and at most 10. Received 11"),
        ({"max_concurrency": None}, 400, "at least 1 and at most 10. Received 0"),
        ({"trigger": {"cron_schedule": {"cron": "0 0 0 L * *"}}}, 400, "Schedule cron is not a supported format"),
        ({"trigger": None}, 400, "needs a trigger"),
        ({"mode": "SOMETIMES"}, 400, "mode is invalid"),
        ({"pipeline_spec": None}, 400, "needs pipeline_spec or pipeline_version_reference"),
        ({"experiment_id": "nope"}, 404, "experiment nope not found"),
        ({"runtime_config": {"parameters": {"af2kfp.fate": "explode"}}}, 400, "explode"),
    ],
)
def test_what_kfp_refuses(api: KfpApi, spec, change: dict[str, Any], status: int, message: str) -> None:
    with pytest.raises(ApiError) as refused:
        create(api, spec, change.pop("trigger", every_minute()), **change)
    assert refused.value.status == status and message in refused.value.message
    assert api.recurring.list({}) == {"recurringRuns": [], "total_size": 0, "next_page_token": ""}


def test_list_filters_sorts_and_pages(api: KfpApi, spec) -> None:
    exp = api.create_experiment({}, {"display_name": "exp"})
    for name in ("b", "a", "c"):
        create(api, spec, every_minute(), display_name=name, mode="DISABLE")
    create(api, spec, every_minute(), display_name="d", mode="DISABLE", experiment_id=exp["experiment_id"])
    listed = api.recurring.list({"sort_by": "name", "page_size": "2"})
    assert [r["display_name"] for r in listed["recurringRuns"]] == ["a", "b"] and listed["total_size"] == 4
    rest = api.recurring.list({"sort_by": "name", "page_size": "2", "page_token": listed["next_page_token"]})
    assert [r["display_name"] for r in rest["recurringRuns"]] == ["c", "d"]
    assert [r["display_name"] for r in api.recurring.list({"experiment_id": exp["experiment_id"]})["recurringRuns"]] == ["d"]
    named = api.recurring.list({"filter": '{"predicates": [{"key": "display_name", "operation": 1, "stringValue": "c"}]}'})
    assert [r["display_name"] for r in named["recurringRuns"]] == ["c"]


def test_an_executed_pipeline_reads_its_scheduled_and_creation_times(tmp_path: Path, clock: Clock) -> None:
    """With --execute, KFP's time placeholders get the tick and the run's creation time,
    as the KFP driver gives them (kfp.local alone resolves neither)."""
    from kfp import compiler

    from . import pipelines

    package = tmp_path / "times.yaml"
    compiler.Compiler().compile(pipelines.run_times, str(package))
    import yaml

    spec = yaml.safe_load(package.read_text())
    api = make_api(tmp_path / "kfp.db", clock, execute=True)
    create(api, spec, every_minute(start_time="2024-03-05T09:58:00Z"), no_catchup=True)
    (run,) = runs(api)
    assert run["scheduled_at"] == z("2024-03-05 10:00")
    done = wait_for(lambda: api.run_outputs(run["run_id"])["pipeline"] is not None, timeout=120)
    outputs = api.run_outputs(run["run_id"])["tasks"]["stamp"]
    assert outputs == {"Output": "scheduled 2024-03-05T10:00:00Z created 2024-03-05T10:00:30Z"}, done
    manual = api.create_run({}, {"display_name": "by hand", "pipeline_spec": spec})
    wait_for(lambda: api.run_outputs(manual["run_id"])["pipeline"] is not None, timeout=120)
    assert api.run_outputs(manual["run_id"])["tasks"]["stamp"]["Output"] == (
        "scheduled 2024-03-05T10:00:30Z created 2024-03-05T10:00:30Z"
    )
    api.store.close()


def test_the_scheduler_thread_triggers_on_its_own(tmp_path: Path, spec) -> None:
    """The real-time path: a server whose scheduler looks every 0.1 s, a 1-second interval."""
    from af2kfp.bridge.kfp_server import start_server

    with start_server(tmp_path / "kfp.db", schedule_tick=0.1, run_seconds=0.2, pending_seconds=0.0) as server:
        server.api.recurring.create({}, {"display_name": "fast", "pipeline_spec": spec, "max_concurrency": "1",
                                         "mode": "ENABLE", "trigger": {"periodic_schedule": {"interval_second": "1"}}})
        started = wait_for(lambda: len(found := runs(server.api)) >= 3 and found, timeout=20)
        seconds = [datetime.fromisoformat(r["scheduled_at"].replace("Z", "+00:00")).timestamp() for r in started[:3]]
        assert seconds[1] - seconds[0] == 1 and seconds[2] - seconds[1] == 1
        time.sleep(0.1)
