"""Airflow's exceptions inside Python tasks, both sides run: AirflowSkipException skips the task
and, by trigger rule, what follows it; AirflowFailException fails the task and the run.

The DAGs (``tests/runs/dags_skip``) are written as teams write them: PythonOperator callables
importing ``airflow.exceptions`` at module level, TaskFlow tasks importing it in the body (an
alias, ``import airflow.exceptions``), Airflow 3's ``airflow.sdk.exceptions``, a shared helper
that raises. Airflow's ``dag.test()`` and ``kfp.local`` must run the same tasks, with the same
values (a skipped task's XCom is ``None`` on both sides) and the same printed lines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.runs.harness import markers, run_dags

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]

DAGS = Path(__file__).parent / "dags_skip"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "dags" / "store_sales_skip_checks.py"
IDS = ["partner_file_import", "daily_metrics_taskflow", "quality_gate_fails", "store_sales_skip_checks"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    dags = tmp_path_factory.mktemp("dags")
    for path in [*DAGS.glob("*.py"), SAMPLE]:
        shutil.copy(path, dags / path.name)
    return run_dags(dags, tmp_path_factory.mktemp("runs"), dag_ids=IDS, timeout=1200)


def _ran(side, dag_id):
    return {task_id for task_id, found in side[dag_id].tasks.items() if any(r.state == "success" for r in found)}


def _states(side, dag_id):
    return {task_id: found[0].state for task_id, found in side[dag_id].tasks.items() if found}


@pytest.mark.parametrize("dag_id", ["partner_file_import", "daily_metrics_taskflow", "store_sales_skip_checks"])
def test_both_sides_agree(runs, dag_id):
    assert runs.differences(dag_id) == []


def test_fail_exception_differs_only_by_kfps_retries(runs):
    """Airflow never retries AirflowFailException; KFP's set_retry has no per-exception rule (M295).

    The traceback Airflow logs to stdout for the failed task is its log, not a print (the harness leaves it out):
    both sides printed the same, failed the same; only the number of attempts differs."""
    assert runs.differences("quality_gate_fails") == []
    airflow, kfp = runs.airflow["quality_gate_fails"], runs.kfp["quality_gate_fails"]
    assert airflow.tasks["quality_gate"][0].printed == kfp.tasks["quality_gate"][0].printed != ()
    assert markers(runs.out / "quality_gate_fails.airflow")["quality_gate attempt"] == 1
    assert markers(runs.out / "quality_gate_fails.kfp")["quality_gate attempt"] == 3  # KFP's two retries
    assert "M295" in {f["code"] for f in runs.report["findings"] if f.get("task_id") == "quality_gate"}


def test_every_task_converted(runs):
    fates = {t["task_id"]: t["fate"] for d in runs.report["dags"] if d["dag_id"] in IDS for t in d["airflow"]["tasks"]}
    assert set(fates.values()) == {"converted"}, fates


def test_skip_exception_skips_the_task_and_all_success_after_it(runs):
    airflow, kfp = _states(runs.airflow, "partner_file_import"), _states(runs.kfp, "partner_file_import")
    assert airflow["find_globex"] == "skipped" and airflow["load_globex"] == "skipped"
    assert kfp["find_globex"] == "skipped" and "load_globex" not in kfp
    assert _ran(runs.airflow, "partner_file_import") == _ran(runs.kfp, "partner_file_import") == {
        "find_acme", "load_acme", "audit", "summarize"}
    assert runs.airflow["partner_file_import"].state == runs.kfp["partner_file_import"].state == "success"


def test_all_done_reads_none_from_a_skipped_task(runs):
    audit = runs.kfp["partner_file_import"].tasks["audit"][0]
    assert audit.value == ["globex"] and "globex skipped" in audit.printed
    report = runs.kfp["daily_metrics_taskflow"].tasks["report"][0]
    assert report.value == {"orders": [3, 5, 8], "refunds": None}


def test_trigger_rules_after_skipped_tasks(runs):
    ran = _ran(runs.kfp, "daily_metrics_taskflow")
    assert ran == _ran(runs.airflow, "daily_metrics_taskflow") == {"extract_orders", "total", "report", "notify"}


def test_fail_exception_fails_the_task_and_the_run(runs):
    airflow, kfp = runs.airflow["quality_gate_fails"], runs.kfp["quality_gate_fails"]
    assert airflow.state == kfp.state == "failed"
    assert airflow.tasks["quality_gate"][0].state == "failed"
    assert [r.state for r in kfp.tasks["quality_gate"]] == ["failed"]
    assert kfp.tasks["quality_gate"][0].printed == ("null share 0.25", "gate tripped")
    assert "publish" not in _ran(runs.kfp, "quality_gate_fails")


def test_sample_skips_one_store(runs):
    ran = _ran(runs.kfp, "store_sales_skip_checks")
    assert ran == _ran(runs.airflow, "store_sales_skip_checks") == {
        "validate_store_101", "load_store_101", "audit_exports", "publish"}
    assert runs.kfp["store_sales_skip_checks"].tasks["audit_exports"][0].value == ["store_205"]
