"""Match an Airflow DAG run and a KFP run task by task through ``report.json``.

The conversion report says, per DAG, which KFP task each Airflow task became
(``airflow.tasks[].kfp_task``, ``kfp.tasks[].airflow_task_ids``) and which were folded
into edges (EmptyOperator). KFP may report a task under its task name or under its
display name (the Airflow task id); both are recognised. KFP's own bookkeeping entries
(``root``, ``*-driver``) that the report does not know are left out, and so are the tasks
the conversion added (``added_by``: the run context).

Verdict per row: ``same`` (same outcome on both sides), ``differs``, ``missing`` (one
side has no such task at all), ``folded`` (no KFP counterpart by design). A task the
report maps but the KFP run never started counts as ``not_run`` on that side, so an
Airflow ``upstream_failed`` task matches a KFP task that never started. Overall:
``differs`` when a task or the runs' own outcomes differ, else ``incomplete`` when a
task is missing, else ``same``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from af2kfp.bridge.compare.model import RunRecord, TaskRun
from af2kfp.converters.errors import InputError

__all__ = ["TaskRow", "Comparison", "Verdict", "load_report_dag", "compare_runs"]

Verdict = Literal["same", "differs", "missing", "folded"]


@dataclass(frozen=True, kw_only=True)
class TaskRow:
    """One line of the comparison."""

    airflow_task_id: str | None
    kfp_task: str | None
    fate: str | None
    airflow: TaskRun | None
    kfp: TaskRun | None
    verdict: Verdict
    note: str = ""
    kfp_absent: str | None = None  # outcome shown for a mapped KFP task the run has no record of

    @property
    def airflow_outcome(self) -> str | None:
        return self.airflow.outcome if self.airflow else None

    @property
    def kfp_outcome(self) -> str | None:
        return self.kfp.outcome if self.kfp is not None else self.kfp_absent

    def to_json(self) -> dict[str, Any]:
        return {
            "airflow_task_id": self.airflow_task_id,
            "kfp_task": self.kfp_task,
            "fate": self.fate,
            "verdict": self.verdict,
            "note": self.note,
            "airflow": self.airflow.to_json() if self.airflow else None,
            "kfp": self.kfp.to_json() if self.kfp else None,
            "airflow_outcome": self.airflow_outcome,
            "kfp_outcome": self.kfp_outcome,
        }


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Both runs, the rows, and the overall verdict."""

    dag_id: str
    pipeline_name: str | None
    airflow: RunRecord
    kfp: RunRecord
    rows: tuple[TaskRow, ...]
    verdict: Literal["same", "differs", "incomplete"]
    warnings: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        counts = {"same": 0, "differs": 0, "missing": 0, "folded": 0}
        for row in self.rows:
            counts[row.verdict] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "tool": "af2kfp compare",
            "dag_id": self.dag_id,
            "pipeline_name": self.pipeline_name,
            "verdict": self.verdict,
            "counts": self.counts(),
            "warnings": list(self.warnings),
            "airflow": self.airflow.to_json(),
            "kfp": self.kfp.to_json(),
            "tasks": [row.to_json() for row in self.rows],
        }


def load_report_dag(path: str | Path, dag_id: str) -> Mapping[str, Any]:
    """The ``dags[]`` entry of ``dag_id`` in an ``af2kfp convert`` report.json."""
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"--report {path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"--report {path}: not JSON: {exc}") from None
    dags = report.get("dags") if isinstance(report, dict) else None
    if not isinstance(dags, list):
        raise InputError(f"--report {path}: not an af2kfp report.json (no 'dags' list)")
    for dag in dags:
        if isinstance(dag, dict) and dag.get("dag_id") == dag_id:
            return dag
    known = ", ".join(sorted(str(d.get("dag_id")) for d in dags if isinstance(d, dict))) or "(none)"
    raise InputError(f"--report {path}: no DAG {dag_id!r}; it holds: {known}")


def _is_bookkeeping(name: str) -> bool:
    return name == "root" or name.endswith("-driver")


def _row(
    task_id: str,
    fate: str | None,
    kfp_name: str | None,
    airflow: TaskRun | None,
    kfp: TaskRun | None,
    kfp_finished: bool,
) -> TaskRow:
    common = dict(airflow_task_id=task_id, kfp_task=kfp_name, fate=fate, airflow=airflow, kfp=kfp)
    if fate == "folded":
        return TaskRow(**common, verdict="folded", note="folded into the pipeline's edges; no KFP task")
    if kfp_name is None:
        return TaskRow(**common, verdict="missing", note="report.json names no KFP task for it")
    if airflow is None:
        return TaskRow(**common, verdict="missing", note="no task instance in the Airflow run")
    absent = None if kfp is not None else ("not_run" if kfp_finished else "running")
    kfp_outcome = kfp.outcome if kfp is not None else absent
    if airflow.outcome == kfp_outcome:
        return TaskRow(
            **common, verdict="same", kfp_absent=absent, note="" if kfp else "never started on either side"
        )
    note = f"Airflow {airflow.outcome.replace('_', ' ')}, KFP {str(kfp_outcome).replace('_', ' ')}"
    if kfp is not None and kfp.error:
        note += f": {kfp.error}"
    return TaskRow(**common, verdict="differs", kfp_absent=absent, note=note)


def compare_runs(airflow: RunRecord, kfp: RunRecord, dag: Mapping[str, Any]) -> Comparison:
    """Rows in the report's task order, then tasks only one run knows."""
    kfp_tasks = (dag.get("kfp") or {}).get("tasks") or []
    names = {str(t["name"]) for t in kfp_tasks if t.get("name")}
    added = {str(t["name"]) for t in kfp_tasks if t.get("added_by") and t.get("name")}  # no Airflow counterpart
    by_display = {
        str(t["display_name"]): str(t["name"]) for t in kfp_tasks if t.get("display_name") and t.get("name")
    }
    observed: dict[str, TaskRun] = {}
    strangers: list[TaskRun] = []
    for task in kfp.tasks:
        name = task.name if task.name in names else by_display.get(task.name)
        if name in added:
            continue
        if name is None:
            if not _is_bookkeeping(task.name):
                strangers.append(task)
        else:
            observed.setdefault(name, task)
    kfp_finished = kfp.outcome not in ("running",)

    rows: list[TaskRow] = []
    listed: set[str] = set()
    used: set[str] = set()
    for task in (dag.get("airflow") or {}).get("tasks") or []:
        task_id = str(task.get("task_id"))
        kfp_name = task.get("kfp_task")
        listed.add(task_id)
        kfp_run = observed.get(kfp_name) if kfp_name else None
        if kfp_name:
            used.add(kfp_name)
        rows.append(_row(task_id, task.get("fate"), kfp_name, airflow.task(task_id), kfp_run, kfp_finished))
    for task in airflow.tasks:
        if task.name not in listed:
            rows.append(
                TaskRow(
                    airflow_task_id=task.name,
                    kfp_task=None,
                    fate=None,
                    airflow=task,
                    kfp=None,
                    verdict="missing",
                    note="not in report.json (the DAG changed since conversion?)",
                )
            )
    for name in sorted(set(observed) - used):
        rows.append(
            TaskRow(
                airflow_task_id=None,
                kfp_task=name,
                fate=None,
                airflow=None,
                kfp=observed[name],
                verdict="missing",
                note="no Airflow task maps to it in report.json",
            )
        )
    for task in strangers:
        rows.append(
            TaskRow(
                airflow_task_id=None,
                kfp_task=task.name,
                fate=None,
                airflow=None,
                kfp=task,
                verdict="missing",
                note="KFP task not in report.json (another pipeline version?)",
            )
        )

    verdicts = {row.verdict for row in rows}
    if "differs" in verdicts or airflow.outcome != kfp.outcome:
        overall = "differs"
    elif "missing" in verdicts:
        overall = "incomplete"
    else:
        overall = "same"
    pipeline_name = (dag.get("kfp") or {}).get("pipeline_name")
    warnings = []
    if kfp.pipeline_name and pipeline_name and kfp.pipeline_name != pipeline_name:
        warnings.append(
            f"the KFP run ran pipeline {kfp.pipeline_name!r}, but DAG {dag.get('dag_id')!r} "
            f"became {pipeline_name!r} in report.json: is this the right run?"
        )
    return Comparison(
        dag_id=str(dag.get("dag_id")),
        pipeline_name=pipeline_name,
        warnings=tuple(warnings),
        airflow=airflow,
        kfp=kfp,
        rows=tuple(rows),
        verdict=overall,
    )
