"""Verdicts, counts and checklists: the facts every report format shows."""

from __future__ import annotations

import pytest

from af2kfp.converters.reports.model import (BLOCKED, READY, REVIEW, checklist, dag_views, finding_codes, findings_by_code,
                                      operator_coverage)
from tests.reports import crafted as c


def _verdict(tasks, findings=(), compiled=True):
    report = c.report([c.dag("d", tasks, [], compiled=compiled)], list(findings))
    return dag_views(report)[0]


def test_ready_when_every_task_converted_and_no_warning():
    view = _verdict([c.task("a"), c.task("b", "folded")], [c.finding("M203", "info", task_id="a")])
    assert view.verdict == READY


@pytest.mark.parametrize("tasks, findings, compiled", [
    ([c.task("a")], [c.finding("M201", "error", task_id="a")], True),      # error finding
    ([c.task("a")], [], False),                                             # not compiled
    ([c.task("a", "unsupported")], [], True),                               # unsupported task, no finding
])
def test_blocked(tasks, findings, compiled):
    view = _verdict(tasks, findings, compiled)
    assert view.verdict == BLOCKED, view.reasons


@pytest.mark.parametrize("tasks, findings", [
    ([c.task("a")], [c.finding("M205", "warning", task_id="a")]),
    ([c.task("a", "review")], []),
    ([c.task("a")], [c.finding("E304", "warning")]),  # a DAG-level warning counts too
])
def test_needs_review(tasks, findings):
    assert _verdict(tasks, findings).verdict == REVIEW


def test_findings_are_attached_by_file_and_dag_id():
    one = c.dag("same", [c.task("a")], [], file="dags/one.py")
    two = c.dag("same", [c.task("a")], [], file="dags/two.py")
    report = c.report([one, two], [c.finding("M201", "error", dag_id="same", task_id="a", file="dags/two.py"),
                                   c.finding("A103", "info", dag_id=None, file="dags/three.py")])
    first, second = dag_views(report)
    assert (first.verdict, second.verdict) == (READY, BLOCKED)
    assert second.task_findings["a"][0]["code"] == "M201" and not first.findings


def test_checklist_lists_secrets_images_schedule_placeholders_and_behaviour():
    tasks = [c.task("load"), c.task("sql", "unsupported", label="SQLExecuteQueryOperator")]
    kfp = [c.kfp_task(tasks[0], image="registry.example.com/loader:1.0", secrets=["warehouse-credentials"]),
           c.kfp_task(tasks[1], kind="placeholder")]
    dag = c.dag("d", tasks, [("load", "sql")], kfp_tasks=kfp, schedule="0 6 * * *")
    findings = [c.finding("M208", "warning", task_id="load", suggestion="use a PVC"),
                c.finding("M217", "info", task_id="load"), c.finding("M203", "info", task_id="load"),
                c.finding("M201", "error", task_id="sql")]
    items = checklist(dag_views(c.report([dag], findings))[0], finding_codes())
    kinds = [item.kind for item in items]
    assert kinds == ["secret", "image", "schedule", "placeholder", "behaviour", "behaviour"]
    text = "\n".join(item.text for item in items)
    assert "'warehouse-credentials'" in text and "'registry.example.com/loader:1.0'" in text and "'0 6 * * *'" in text
    assert "M208" in text and "use a PVC" in text and "M217" in text
    assert "M203" not in text  # a dropped Airflow-only argument needs nothing done
    assert items[3].tasks == ("sql",)


def test_samples_counts_add_up(samples):
    _, report = samples
    views = dag_views(report)
    assert sum(sum(v.fates.values()) for v in views) == report["summary"]["tasks"]
    coverage = dict(operator_coverage(report))
    assert sum(sum(c.values()) for c in coverage.values()) == report["summary"]["tasks"]
    # No native mapping: the original operator runs through the Airflow fallback, for review (the
    # type of its connection, which decides the hook and so the provider it needs, is not supplied).
    assert coverage["SQLExecuteQueryOperator"]["review"] >= 2
    assert coverage["SQLExecuteQueryOperator"].get("unsupported", 0) == 0
    by_code = {code: n for code, _, _, n in findings_by_code(report, finding_codes())}
    assert sum(by_code.values()) == report["summary"]["findings"]["total"]
    verdicts = {v.dag["dag_id"]: v.verdict for v in views}
    assert verdicts["sql_unsupported_operator"] == REVIEW
    placeholder_dags = {f["dag_id"] for f in report["findings"] if f["code"] == "M201"}
    assert placeholder_dags and all(verdicts[dag_id] == BLOCKED for dag_id in placeholder_dags)
    assert verdicts["docker_sales_etl"] == REVIEW
    assert verdicts["k8s_train_recommender"] == READY
