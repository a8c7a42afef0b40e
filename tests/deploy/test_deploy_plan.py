"""The recurring-run decision alone (no server): keep, enable, disable, replace (and what the
replacement follows), delete, skip; and the content hash that names versions."""

from __future__ import annotations

from typing import Any

import pytest

from af2kfp.bridge.kfp import RecurringRun, Schedule, parse_package
from af2kfp.bridge.migration.plan import (
    CREATE, DELETE, DISABLE, ENABLE, NONE, SKIP, UNCHANGED, UPDATE, Want, differences, plan_recurring,
)
from af2kfp.bridge.migration.versions import content_sha256, version_name

SCHEDULE = Schedule(cron_expression="0 0 2 * * *", start_time="2024-01-01T00:00:00Z", max_concurrency=3, no_catchup=True)


def run(rid: str, *, enabled: bool, version: str = "v1", experiment: str = "e1", cron: str = "0 0 2 * * *",
        start: str | None = "2024-01-01T00:00:00Z", created: str = "2024-06-01T00:00:00Z") -> RecurringRun:
    trigger: dict[str, Any] = {"cron": cron}
    if start:
        trigger["start_time"] = start
    return RecurringRun.from_json({
        "recurring_run_id": rid, "display_name": "sales", "experiment_id": experiment,
        "status": "ENABLED" if enabled else "DISABLED", "trigger": {"cron_schedule": trigger},
        "max_concurrency": "3", "no_catchup": True, "created_at": created,
        "pipeline_version_reference": {"pipeline_id": "p1", "pipeline_version_id": version},
    })


def want(enabled: bool, schedule: Schedule | None = SCHEDULE, skip: str | None = None) -> Want:
    return Want(name="sales", schedule=schedule, enabled=enabled, why="stage x", skip=skip)


def plan(wanted: Want, existing: list[RecurringRun], continuing: str | None = None):
    return plan_recurring(wanted, existing, version_id="v1", experiment_id="e1", continuing=continuing)


def test_the_same_recurring_run_is_kept_as_it_is():
    assert plan(want(True), [run("a", enabled=True)]).action == UNCHANGED
    assert plan(want(False), [run("a", enabled=False)]).action == UNCHANGED


def test_nothing_there_is_created():
    made = plan(want(False), [])
    assert made.action == CREATE and made.create and made.delete == () and made.follow == ()


def test_disabling_is_done_in_place():
    decided = plan(want(False), [run("a", enabled=True)])
    assert decided.action == DISABLE and decided.disable.recurring_run_id == "a" and not decided.create


def test_a_disabled_one_is_enabled_in_place_only_when_deploy_itself_had_enabled_it():
    resumed = plan(want(True), [run("a", enabled=False)], continuing="a")
    assert resumed.action == ENABLE and resumed.enable.recurring_run_id == "a"
    fresh = plan(want(True), [run("a", enabled=False)])
    assert fresh.action == UPDATE and fresh.create and fresh.follow == () and [r.recurring_run_id for r in fresh.delete] == ["a"]
    assert "enabled from now" in " ".join(fresh.changes)


def test_a_changed_enabled_one_is_stopped_followed_and_deleted():
    decided = plan(want(True), [run("a", enabled=True, version="v0")])
    assert decided.action == UPDATE and decided.create
    assert [r.recurring_run_id for r in decided.stop] == ["a"]
    assert [r.recurring_run_id for r in decided.follow] == ["a"]
    assert [r.recurring_run_id for r in decided.delete] == ["a"]
    assert decided.changes == ("pipeline version",)


def test_after_a_crash_the_disabled_old_one_deploy_had_enabled_is_followed():
    decided = plan(want(True), [run("a", enabled=False, version="v0")], continuing="a")
    assert decided.create and decided.stop == () and [r.recurring_run_id for r in decided.follow] == ["a"]


def test_a_changed_disabled_one_is_replaced_by_a_disabled_one():
    decided = plan(want(False), [run("a", enabled=True, cron="0 0 3 * * *")])
    assert decided.action == UPDATE and decided.create and decided.follow == ()
    assert [r.recurring_run_id for r in decided.stop] == ["a"]
    assert decided.changes == ("cron '0 0 3 * * *' -> '0 0 2 * * *'",)


def test_other_recurring_runs_of_the_dag_are_removed_and_never_left_enabled_beside_the_kept_one():
    decided = plan(want(True), [run("a", enabled=True), run("b", enabled=True, version="v0"), run("c", enabled=False)])
    assert decided.action == UPDATE and decided.keep.recurring_run_id == "a" and not decided.create
    assert [r.recurring_run_id for r in decided.stop] == ["b"]
    assert sorted(r.recurring_run_id for r in decided.delete) == ["b", "c"]


def test_no_schedule_deletes_what_is_there_and_a_skip_leaves_it():
    gone = plan(want(False, schedule=None), [run("a", enabled=True)])
    assert gone.action == DELETE and [r.recurring_run_id for r in gone.stop] == ["a"]
    assert plan(want(False, schedule=None), []).action == NONE
    assert plan(want(True, skip="needs ds"), [run("a", enabled=True)]).action == SKIP


def test_a_recurring_run_deploy_started_later_than_the_dag_still_matches():
    later = run("a", enabled=True, start="2025-05-01T10:00:00Z")
    assert differences(later, want(True), version_id="v1", experiment_id="e1") == []
    unset = run("b", enabled=True, start=None, created="2025-05-01T10:00:00Z")
    assert differences(unset, want(True), version_id="v1", experiment_id="e1") == []
    earlier = run("c", enabled=True, start="2023-01-01T00:00:00Z")
    assert differences(earlier, want(True), version_id="v1", experiment_id="e1") == ["start_time -> 2024-01-01T00:00:00Z"]


def test_nothing_can_match_a_version_or_experiment_that_does_not_exist_yet():
    decided = plan_recurring(want(False), [run("a", enabled=False)], version_id=None, experiment_id=None)
    assert decided.action == UPDATE and set(decided.changes) == {"pipeline version", "experiment"}


SPEC = """\
# PIPELINE DEFINITION
# Name: sales
# Description: Converted from Airflow DAG sales (dags/sales.py:10).
pipelineInfo:
  description: Converted from Airflow DAG sales (dags/sales.py:10).
  name: sales
root:
  dag:
    tasks: {}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
"""


def test_the_content_hash_ignores_layout_comments_and_the_description_but_not_the_spec():
    digest = content_sha256(parse_package(SPEC))
    assert len(digest) == 64 and version_name(digest) == "sha256-" + digest[:12]
    reordered = "sdkVersion: kfp-2.17.3\nschemaVersion: 2.1.0\n" + SPEC.replace("sdkVersion: kfp-2.17.3\n", "").replace(
        "schemaVersion: 2.1.0\n", ""
    )
    assert content_sha256(parse_package(reordered)) == digest
    moved = SPEC.replace("(dags/sales.py:10)", "(./dags/sales.py:10)")
    assert content_sha256(parse_package(moved)) == digest
    changed = SPEC.replace("name: sales\nroot", "name: sales-v2\nroot")
    assert content_sha256(parse_package(changed)) != digest
    with_platform = SPEC + "---\nplatforms:\n  kubernetes: {}\n"
    assert content_sha256(parse_package(with_platform)) != digest


@pytest.mark.parametrize("enabled", [True, False])
def test_parameters_that_differ_make_a_replacement(enabled):
    other = RecurringRun.from_json({**run("a", enabled=enabled).raw, "runtime_config": {"parameters": {"ds": "x"}}})
    assert "parameters" in differences(other, want(enabled), version_id="v1", experiment_id="e1")
