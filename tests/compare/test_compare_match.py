"""Matching and rendering on hand-built runs: the cases a live run does not produce
(display names, bookkeeping tasks, mapped tasks, tasks on one side only, hostile names)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from af2kfp.bridge.compare import RunRecord, TaskRun, compare_runs, kfp_run_record, load_report_dag, render
from af2kfp.bridge.compare.airflow_api import airflow_outcome
from af2kfp.bridge.compare.model import fold_instances, parse_time
from af2kfp.bridge.kfp import Run
from af2kfp.converters.errors import InputError

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
EVIL = "<script>alert(1)</script>|`x`"


def task(name: str, outcome: str, state: str | None = None, **kw) -> TaskRun:
    return TaskRun(
        name=name, state=state or outcome, outcome=outcome, start=T0, end=T0 + timedelta(seconds=3), **kw
    )


def dag(*tasks: tuple[str, str | None, str]) -> dict:
    """(airflow task id, kfp task name or None, fate) -> a report.json dags[] entry."""
    return {
        "dag_id": "d",
        "airflow": {"tasks": [{"task_id": a, "kfp_task": k, "fate": f} for a, k, f in tasks]},
        "kfp": {
            "pipeline_name": "d",
            "tasks": [{"name": k, "display_name": a, "airflow_task_ids": [a]} for a, k, _ in tasks if k],
        },
    }


def runs(airflow_tasks: list[TaskRun], kfp_tasks: list[TaskRun], kfp_outcome: str = "success") -> tuple:
    airflow = RunRecord(
        system="airflow", run_id="r", state="success", outcome="success", tasks=tuple(airflow_tasks)
    )
    kfp = RunRecord(
        system="kfp", run_id="k", state=kfp_outcome.upper(), outcome=kfp_outcome, tasks=tuple(kfp_tasks)
    )
    return airflow, kfp


def test_kfp_tasks_found_by_name_or_display_name_and_bookkeeping_ignored():
    entry = dag(("extract_data", "extract-data", "converted"), ("load", "load", "converted"))
    airflow, kfp = runs(
        [task("extract_data", "success"), task("load", "success")],
        [
            task("extract_data", "success", "SUCCEEDED"),
            task("load", "success", "SUCCEEDED"),
            task("root", "success"),
            task("load-driver", "success"),
        ],
    )
    comparison = compare_runs(airflow, kfp, entry)
    assert [(r.airflow_task_id, r.kfp_task, r.verdict) for r in comparison.rows] == [
        ("extract_data", "extract-data", "same"),
        ("load", "load", "same"),
    ]
    assert comparison.verdict == "same"


def test_the_run_context_the_conversion_added_is_no_missing_task():
    entry = dag(("load", "load", "converted"))
    entry["kfp"]["tasks"].insert(0, {"name": "run-context", "display_name": "run context (added by af2kfp)",
                                     "airflow_task_ids": [], "added_by": "af2kfp"})
    airflow, kfp = runs([task("load", "success")], [task("run context (added by af2kfp)", "success", "SUCCEEDED"),
                                                    task("load", "success", "SUCCEEDED")])
    comparison = compare_runs(airflow, kfp, entry)
    assert [(r.airflow_task_id, r.verdict) for r in comparison.rows] == [("load", "same")]
    assert comparison.verdict == "same"


def test_upstream_failed_matches_a_kfp_task_that_never_started():
    entry = dag(("a", "a", "converted"), ("b", "b", "converted"))
    airflow, kfp = runs(
        [task("a", "failed"), task("b", "not_run", "upstream_failed")],
        [task("a", "failed", "FAILED", error="boom")],
        kfp_outcome="failed",
    )
    airflow = RunRecord(system="airflow", run_id="r", state="failed", outcome="failed", tasks=airflow.tasks)
    comparison = compare_runs(airflow, kfp, entry)
    assert [r.verdict for r in comparison.rows] == ["same", "same"]
    assert comparison.rows[1].kfp_outcome == "not_run"
    assert comparison.verdict == "same"
    assert airflow_outcome("upstream_failed") == "not_run" and airflow_outcome(None) == "not_run"


def test_a_still_running_kfp_run_is_not_reported_as_not_run():
    entry = dag(("a", "a", "converted"), ("b", "b", "converted"))
    airflow, kfp = runs(
        [task("a", "success"), task("b", "success")], [task("a", "running", "RUNNING")], kfp_outcome="running"
    )
    rows = compare_runs(airflow, kfp, entry).rows
    assert [r.kfp_outcome for r in rows] == ["running", "running"]
    assert rows[1].note == "Airflow success, KFP running"


def test_tasks_on_one_side_only_are_missing_and_the_overall_verdict_incomplete():
    entry = dag(("a", "a", "converted"), ("gone", "gone", "converted"))
    airflow, kfp = runs(
        [task("a", "success"), task("new_task", "success")],
        [task("a", "success"), task("gone", "success"), task("extra-step", "success")],
    )
    comparison = compare_runs(airflow, kfp, entry)
    verdicts = {(r.airflow_task_id, r.kfp_task): (r.verdict, r.note) for r in comparison.rows}
    assert verdicts[("gone", "gone")] == ("missing", "no task instance in the Airflow run")
    assert verdicts[("new_task", None)][0] == "missing"
    assert verdicts[(None, "extra-step")] == (
        "missing",
        "KFP task not in report.json (another pipeline version?)",
    )
    assert comparison.verdict == "incomplete"
    assert comparison.counts() == {"same": 1, "differs": 0, "missing": 3, "folded": 0}


def test_mapped_instances_fold_into_the_worst_outcome():
    first = task("m", "success", attempts=1)
    second = TaskRun(
        name="m",
        state="failed",
        outcome="failed",
        start=T0 + timedelta(seconds=1),
        end=T0 + timedelta(seconds=9),
        attempts=3,
    )
    folded = fold_instances("m", [first, second])
    assert (folded.outcome, folded.instances, folded.attempts, folded.duration) == ("failed", 2, 3, 9.0)
    assert "failed x2" in render(
        compare_runs(*runs([folded], [task("m", "failed")]), dag(("m", "m", "converted"))), "md"
    )


def test_kfp_run_record_from_the_api_json():
    run = Run.from_json(
        {
            "run_id": "k1",
            "display_name": "x",
            "state": "FAILED",
            "error": {"message": "task 'b' failed"},
            "created_at": "2024-05-01T12:00:00Z",
            "finished_at": "2024-05-01T12:00:09Z",
            "state_history": [{"update_time": "2024-05-01T12:00:01Z", "state": "RUNNING"}],
            "run_details": {
                "task_details": [
                    {
                        "display_name": "b",
                        "state": "FAILED",
                        "start_time": "2024-05-01T12:00:02Z",
                        "end_time": "1970-01-01T00:00:00Z",
                        "error": {"message": "OOMKilled"},
                        "child_tasks": [{"pod_name": "b-1"}, {"pod_name": "b-2"}],
                    }
                ]
            },
        }
    )
    record = kfp_run_record(run, url="http://ui/#/runs/details/k1")
    assert (record.outcome, record.error, record.duration) == ("failed", "task 'b' failed", 8.0)
    b = record.task("b")
    assert (b.outcome, b.attempts, b.end, b.error) == ("failed", 2, None, "OOMKilled")
    assert parse_time("2024-05-01T12:00:02.123456Z") == T0 + timedelta(seconds=2, microseconds=123456)


def test_hostile_names_are_escaped_in_html_and_markdown():
    entry = dag((EVIL, "evil", "converted"))
    airflow, kfp = runs(
        [task(EVIL, "success")],
        [task("evil", "failed", "FAILED", error="</td><img src=x>\nline")],
        kfp_outcome="failed",
    )
    comparison = compare_runs(airflow, kfp, entry)
    page = render(comparison, "html")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    markdown = render(comparison, "md")
    row = next(line for line in markdown.splitlines() if "alert" in line)
    assert "<script>" not in row and "\\|" in row and "\\`x\\`" in row
    assert row.count(" | ") == 13  # 14 cells: nothing split a cell
    assert json.loads(render(comparison, "json"))["tasks"][0]["airflow_task_id"] == EVIL


def test_load_report_dag_errors(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        load_report_dag(path, "d")
    path.write_text(json.dumps({"dags": [{"dag_id": "a"}, {"dag_id": "b"}]}))
    with pytest.raises(InputError, match="no DAG 'c'; it holds: a, b"):
        load_report_dag(path, "c")
    assert load_report_dag(path, "b") == {"dag_id": "b"}


def test_a_run_of_another_pipeline_is_flagged():
    entry = dag(("a", "a", "converted"))
    airflow = RunRecord(
        system="airflow", run_id="r", state="success", outcome="success", tasks=(task("a", "success"),)
    )
    kfp = RunRecord(
        system="kfp",
        run_id="k",
        state="SUCCEEDED",
        outcome="success",
        pipeline_name="other-pipeline",
        tasks=(task("a", "success"),),
    )
    comparison = compare_runs(airflow, kfp, entry)
    assert comparison.warnings == (
        "the KFP run ran pipeline 'other-pipeline', but DAG 'd' became 'd' in report.json: is this the right run?",
    )
    assert "**Warning:** the KFP run ran pipeline 'other-pipeline'" in render(comparison, "md")
    assert "<li class=warn><b>Warning</b>: the KFP run ran pipeline &#x27;other-pipeline&#x27;" in render(
        comparison, "html"
    )
