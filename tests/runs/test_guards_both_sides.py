"""Repository operators' skip/fail guards, both sides run (M320, converters/mappings/guards.py).

``tests/runs/dags_guards`` holds a team's PythonOperator subclass whose ``execute`` skips the task when
its templated ``skip`` renders non-empty, when the deployment (a Variable with a default) is listed in
``skip_envs`` or a quiet-mode Variable is set, and fails it when ``require`` renders empty. Airflow's
``dag.test()`` decides with its own rendering; the converted pipeline with guard components run by
``kfp.local``. The same tasks must run, with the same values and prints; the tasks after a skipped one
follow their trigger rules on both sides. Airflow renders to text unless ``render_template_as_native_obj``:
``{{ params.count }}`` with ``count=0`` is ``"0"`` (the step skips) or ``0`` (it runs).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.runs.harness import run_dags

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]

DAGS = Path(__file__).parent / "dags_guards"
IDS = ["steps_by_params", "steps_count_as_text", "steps_count_native", "steps_fail_guard"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    dags = tmp_path_factory.mktemp("dags")
    for path in DAGS.glob("*.py"):
        shutil.copy(path, dags / path.name)
    return run_dags(dags, tmp_path_factory.mktemp("runs"), dag_ids=IDS, timeout=1200)


def _ran(side, dag_id):
    return {task_id for task_id, found in side[dag_id].tasks.items() if any(r.state == "success" for r in found)}


def test_converted_with_guard_components_not_m284(runs):
    findings = [f for f in runs.report["findings"] if f.get("dag_id") in IDS]
    assert not [f for f in findings if f["code"] == "M284"]
    guarded = {f["task_id"] for f in findings if f["code"] == "M320"}
    assert {"extract", "report", "not_in_dev", "count_gate", "checked"} <= guarded
    for dag in runs.report["dags"]:
        if dag["dag_id"] in IDS:
            assert {t["fate"] for t in dag["airflow"]["tasks"]} == {"converted"}
            guards = {t["guard_of"] for t in dag["kfp"]["tasks"] if t.get("guard_of")}
            assert guards == {t["task_id"] for t in dag["airflow"]["tasks"]}  # every step has the quiet-mode guard


@pytest.mark.parametrize("dag_id", ["steps_by_params", "steps_count_as_text", "steps_count_native"])
def test_both_sides_run_the_same_tasks(runs, dag_id):
    assert runs.differences(dag_id) == []


def test_skips_follow_trigger_rules(runs):
    """load=no skips extract and, all_success, transform; none_failed summary runs; report runs (report=yes);
    not_in_dev skips in the dev deployment (the Variable's default); all_done final runs."""
    expected = {"summary", "report", "final"}
    assert _ran(runs.airflow, "steps_by_params") == expected
    assert expected <= _ran(runs.kfp, "steps_by_params")
    assert not {"extract", "transform", "not_in_dev"} & _ran(runs.kfp, "steps_by_params")
    assert runs.kfp["steps_by_params"].tasks["extract_guard"][0].state == "skipped"  # its output False: skip


def test_text_and_native_rendering(runs):
    assert "count_gate" not in _ran(runs.airflow, "steps_count_as_text") | _ran(runs.kfp, "steps_count_as_text")
    assert "count_gate" in _ran(runs.airflow, "steps_count_native") & _ran(runs.kfp, "steps_count_native")


def test_fail_guard_fails_the_task_and_the_run(runs):
    """Airflow fails ``checked`` (AirflowFailException); in KFP its guard fails and ``checked`` never starts."""
    airflow, kfp = runs.airflow["steps_fail_guard"], runs.kfp["steps_fail_guard"]
    assert airflow.state == "failed" and airflow.tasks["checked"][0].state == "failed"
    assert kfp.state != "success" and kfp.tasks["checked_guard"][0].state == "failed"
    assert not _ran(runs.airflow, "steps_fail_guard")
    assert not {"checked", "after_checked"} & _ran(runs.kfp, "steps_fail_guard")
