"""Stages decide the recurring run: only ``kfp-scheduled`` enables it, ``paused`` and
``--paused`` keep it disabled, moving back disables it; a changed schedule replaces it with
no gap and no overlap (checked tick by tick under a fast server clock), also across a crash
between the two steps; an enabled recurring run the state file does not know is left alone."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from ruamel.yaml import YAML

from af2kfp.bridge.kfp import KfpClient, RecurringRunSpec, RunSpec, Schedule
from af2kfp.bridge.kfp_server import RunningServer, start_server
from af2kfp.bridge.migration.state import MigrationState

from .conftest import FAST, FastClock, af2kfp, convert, wait_for

DAG = '''\
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="{dag_id}",
    schedule={schedule},
    start_date=datetime(2024, 1, 1),
    catchup={catchup},{extra}
):
    BashOperator(task_id="sync", bash_command="echo {dag_id}")
'''


class Project:
    """A folder of DAG files, its convert output and its state file."""

    def __init__(self, root: Path) -> None:
        self.dags, self.out, self.state = root / "dags", root / "out", root / "af2kfp-migration.yaml"
        self.dags.mkdir(parents=True)

    def dag(self, dag_id: str, schedule: str | None = "0 2 * * *", *, catchup: bool = False, extra: str = "") -> None:
        text = DAG.format(dag_id=dag_id, schedule=repr(schedule), catchup=catchup, extra=extra)
        (self.dags / f"{dag_id}.py").write_text(text)

    def convert(self) -> None:
        convert(self.dags, self.out)

    def set(self, dag_id: str, **fields: Any) -> None:
        """Edit the DAG's entry as a person would (other keys and comments untouched)."""
        yaml = YAML()
        document = yaml.load(self.state.read_text())
        document["dags"][dag_id].update(fields)
        with self.state.open("w") as stream:
            yaml.dump(document, stream)

    def deploy(self, capsys: Any, server: RunningServer, *extra: str) -> Any:
        return af2kfp(capsys, "deploy", self.out, "--host", server.url, "--state", self.state, *extra)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "repo")


def recurring(kfp: KfpClient, name: str) -> list[Any]:
    return [r for r in kfp.list_recurring_runs(page_size=200).items if r.display_name == name]


def only_one(kfp: KfpClient, name: str) -> Any:
    found = recurring(kfp, name)
    assert len(found) == 1, found
    return found[0]


def test_only_kfp_scheduled_enables_the_recurring_run(capsys, project, server, kfp):
    project.dag("nightly_sync")
    project.convert()
    first = project.deploy(capsys, server)
    assert first.code == 0, first.err
    assert "recurring run create (disabled: stage airflow)" in first.out
    created = only_one(kfp, "nightly_sync")
    assert not created.enabled and created.cron == "0 0 2 * * *" and created.start_time == "2024-01-01T00:00:00Z"

    for stage in ("shadow", "kfp"):
        project.set("nightly_sync", stage=stage)
        result = project.deploy(capsys, server)
        assert f"recurring run unchanged (disabled: stage {stage})" in result.out, result.out
        assert only_one(kfp, "nightly_sync").recurring_run_id == created.recurring_run_id

    project.set("nightly_sync", stage="kfp-scheduled")
    result = project.deploy(capsys, server)
    assert result.code == 0 and "recurring run update (enabled: stage kfp-scheduled" in result.out
    scheduled = only_one(kfp, "nightly_sync")  # replaced: enabling the old one would catch up since 2024
    assert scheduled.enabled and scheduled.recurring_run_id != created.recurring_run_id
    assert scheduled.start_time is None  # counts from its creation: no backfill of what Airflow ran
    assert kfp.list_runs(page_size=10).items == ()
    entry = MigrationState.load(project.state).entry("nightly_sync")
    assert entry.deployed.recurring_run_id == scheduled.recurring_run_id and entry.deployed.recurring_run_enabled

    again = project.deploy(capsys, server)
    assert "recurring run unchanged (enabled: stage kfp-scheduled)" in again.out and "nothing to change" in again.out

    project.set("nightly_sync", stage="kfp")  # moving back: Airflow schedules it again
    back = project.deploy(capsys, server)
    assert "recurring run disable (disabled: stage kfp)" in back.out
    assert not only_one(kfp, "nightly_sync").enabled
    assert only_one(kfp, "nightly_sync").recurring_run_id == scheduled.recurring_run_id

    project.set("nightly_sync", stage="kfp-scheduled")
    forward = project.deploy(capsys, server)
    assert "enabled from now" in forward.out
    assert only_one(kfp, "nightly_sync").enabled

    paused = project.deploy(capsys, server, "--paused")
    assert "recurring run disable (disabled: --paused)" in paused.out
    assert not only_one(kfp, "nightly_sync").enabled


def test_a_paused_dag_stays_disabled_until_its_entry_says_otherwise(capsys, project, server, kfp):
    project.dag("paused_feed", extra="\n    is_paused_upon_creation=True,")
    project.convert()
    assert project.deploy(capsys, server).code == 0
    entry = MigrationState.load(project.state).entry("paused_feed")
    assert entry.stage == "airflow" and entry.paused is True
    assert "paused: true" in project.state.read_text()

    project.set("paused_feed", stage="kfp-scheduled")
    held = project.deploy(capsys, server)
    assert "recurring run unchanged (disabled: paused)" in held.out, held.out
    assert not only_one(kfp, "paused_feed").enabled

    project.set("paused_feed", paused=False)
    released = project.deploy(capsys, server)
    assert "recurring run update (enabled: stage kfp-scheduled" in released.out
    assert only_one(kfp, "paused_feed").enabled


def test_an_enabled_recurring_run_the_state_file_does_not_know_is_left_alone(capsys, project, server, kfp):
    project.dag("legacy_feed")
    project.convert()
    experiment = kfp.get_or_create_experiment("Default")
    manual = kfp.submit_recurring_run(RecurringRunSpec(
        run=RunSpec(display_name="legacy_feed", package=project.out / "legacy_feed" / "pipeline.yaml",
                    experiment_id=experiment.experiment_id),
        schedule=Schedule(cron_expression="0 0 3 * * *"),
    ))
    assert manual.enabled
    result = project.deploy(capsys, server)
    assert result.code == 1
    assert "failed" in result.out and "KFP already schedules it" in result.out
    assert "`legacy_feed: {stage: kfp-scheduled}` keeps it running" in result.out
    kept = only_one(kfp, "legacy_feed")
    assert kept.recurring_run_id == manual.recurring_run_id and kept.enabled
    assert kfp.find_pipeline("legacy-feed") is None
    assert MigrationState.load(project.state).entry("legacy_feed") is None

    project.state.write_text("version: 1\ndags:\n  legacy_feed: {stage: kfp-scheduled}\n")
    adopted = project.deploy(capsys, server)
    assert adopted.code == 0, adopted.out
    now = only_one(kfp, "legacy_feed")  # replaced by deploy's own, following the manual one's last tick
    assert now.enabled and now.cron == "0 0 2 * * *"


def test_a_dag_whose_schedule_is_gone_loses_its_recurring_run(capsys, project, server, kfp):
    project.dag("adhoc_export")
    project.convert()
    assert project.deploy(capsys, server).code == 0
    assert len(recurring(kfp, "adhoc_export")) == 1
    project.dag("adhoc_export", schedule=None)
    project.convert()
    result = project.deploy(capsys, server)
    assert "recurring run delete" in result.out
    assert recurring(kfp, "adhoc_export") == []
    assert MigrationState.load(project.state).entry("adhoc_export").deployed.recurring_run_id is None
    assert "recurring run none" in project.deploy(capsys, server).out


# -- replacing an enabled recurring run, tick by tick ------------------------------------------

SERVER_START = datetime(2024, 3, 5, 10, 0, 30, tzinfo=timezone.utc)


@pytest.fixture
def fast_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server whose minute lasts half a second, looking for due ticks every 0.02 s."""
    clock = FastClock(SERVER_START, speed=120)
    with start_server(tmp_path / "fast.db", clock=clock, schedule_tick=0.02, control=True, **FAST) as running:
        yield running


class EnabledWatch(threading.Thread):
    """Counts, as often as it can, the enabled recurring runs of one name."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__(daemon=True)
        self.url, self.name = url, name
        self.most, self.looks = 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        with KfpClient(host=self.url) as kfp:
            while not self.done.is_set():
                self.most = max(self.most, sum(r.enabled for r in recurring(kfp, self.name)))
                self.looks += 1

    def __enter__(self) -> "EnabledWatch":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join(10)


def ticks(kfp: KfpClient) -> dict[str, list[datetime]]:
    """Each recurring run's ticks (its runs' scheduled times), sorted."""
    found: dict[str, list[datetime]] = {}
    for run in kfp.list_runs(page_size=500).items:
        if run.recurring_run_id:
            found.setdefault(run.recurring_run_id, []).append(
                datetime.fromisoformat(run.scheduled_at.replace("Z", "+00:00"))
            )
    return {key: sorted(value) for key, value in found.items()}


def scheduled_minutely(capsys, project: Project, server: RunningServer, kfp: KfpClient) -> Any:
    """``minutely_sync`` deployed at kfp-scheduled, once it has run three ticks."""
    project.dag("minutely_sync", schedule="* * * * *", catchup=True)
    project.convert()
    assert project.deploy(capsys, server).code == 0
    project.set("minutely_sync", stage="kfp-scheduled")
    assert project.deploy(capsys, server).code == 0
    old = only_one(kfp, "minutely_sync")
    assert old.enabled
    wait_for(lambda: len(ticks(kfp).get(old.recurring_run_id, [])) >= 3)
    project.dag("minutely_sync", schedule="*/2 * * * *", catchup=True)
    project.convert()
    return old


def assert_no_gap_no_overlap(old_ticks: list[datetime], new_ticks: list[datetime]) -> None:
    minute = timedelta(minutes=1)
    assert all(b - a == minute for a, b in zip(old_ticks, old_ticks[1:])), old_ticks
    assert all(b - a == 2 * minute for a, b in zip(new_ticks, new_ticks[1:])), new_ticks
    last = old_ticks[-1]
    after = last + minute * (1 if last.minute % 2 else 2)  # the first even minute after the old run's last tick
    assert new_ticks[0] == after, (last, new_ticks[:3])  # no gap, no overlap
    assert not set(old_ticks) & set(new_ticks)


def test_a_changed_schedule_replaces_the_recurring_run_with_no_gap_and_no_overlap(capsys, project, fast_server):
    with KfpClient(host=fast_server.url) as kfp:
        old = scheduled_minutely(capsys, project, fast_server, kfp)
        with EnabledWatch(fast_server.url, "minutely_sync") as watch:
            result = project.deploy(capsys, fast_server)
        assert result.code == 0, result.out
        assert "recurring run update (enabled: stage kfp-scheduled; cron '0 * * * * *' -> '0 */2 * * * *'" in result.out
        assert watch.looks > 0 and watch.most == 1, "two recurring runs were enabled at once"
        new = only_one(kfp, "minutely_sync")
        assert new.enabled and new.cron == "0 */2 * * * *"
        wait_for(lambda: len(ticks(kfp).get(new.recurring_run_id, [])) >= 3)
        seen = ticks(kfp)
        assert set(seen) == {old.recurring_run_id, new.recurring_run_id}
        assert_no_gap_no_overlap(seen[old.recurring_run_id], seen[new.recurring_run_id])


def test_a_crash_between_disabling_the_old_and_creating_the_new_is_made_good_by_the_next_deploy(
    capsys, project, fast_server
):
    control = fast_server.control()
    with KfpClient(host=fast_server.url) as kfp:
        old = scheduled_minutely(capsys, project, fast_server, kfp)
        control.fault("status", status=400, path="/apis/v2beta1/recurringruns", method="POST")
        crashed = project.deploy(capsys, fast_server)
        assert crashed.code == 1 and "minutely_sync" in crashed.out and "failed" in crashed.out
        assert [r.enabled for r in recurring(kfp, "minutely_sync")] == [False]  # none enabled: the crash's gap
        record = MigrationState.load(project.state).entry("minutely_sync").deployed
        assert record.recurring_run_id == old.recurring_run_id and record.recurring_run_enabled
        stopped = ticks(kfp)[old.recurring_run_id]
        time.sleep(1.6)  # three server minutes pass with nothing enabled
        assert ticks(kfp)[old.recurring_run_id] == stopped
        made_good = project.deploy(capsys, fast_server)
        assert made_good.code == 0, made_good.out
        new = only_one(kfp, "minutely_sync")
        assert new.enabled and new.recurring_run_id != old.recurring_run_id
        wait_for(lambda: len(ticks(kfp).get(new.recurring_run_id, [])) >= 4)
        seen = ticks(kfp)
        assert_no_gap_no_overlap(seen[old.recurring_run_id], seen[new.recurring_run_id])
