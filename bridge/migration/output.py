"""What ``af2kfp deploy`` and ``af2kfp migrate status`` read from an ``af2kfp convert`` output.

Every field of ``report.json`` (docs/report-json.md) and ``schedule.json``
(docs/schedules.md) used here is read by one small function below, so a change of the
convert output is one edit. A DAG's verdict and blockers come from
:func:`af2kfp.converters.reports.model.dag_views`, the definition every report uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from af2kfp.bridge.kfp import ScheduleError
from af2kfp.converters.errors import InputError
from af2kfp.converters.reports.model import BLOCKED, dag_views

__all__ = ["REPORT_NAME", "DagOutput", "ConvertOutput", "read_output", "read_schedule", "has_recurring_run"]

REPORT_NAME = "report.json"


@dataclass(frozen=True, kw_only=True)
class DagOutput:
    """One DAG of a convert output, as deploy needs it.

    ``blockers`` say why it must not be deployed (empty when it may be): the report's
    ``blocked`` verdict (error findings, no compiled pipeline, unsupported tasks) or a
    missing ``pipeline.yaml``. ``severities`` counts its findings by severity.
    """

    dag_id: str
    source: str  # file:line of the DAG
    pipeline_name: str
    package: Path | None  # pipeline.yaml
    schedule: Path | None  # schedule.json
    verdict: str
    blockers: tuple[str, ...]
    severities: Mapping[str, int]
    paused_upon_creation: bool


@dataclass(frozen=True)
class ConvertOutput:
    folder: Path
    dags: tuple[DagOutput, ...]

    def dag(self, dag_id: str) -> DagOutput | None:
        return next((d for d in self.dags if d.dag_id == dag_id), None)


# -- one function per field read ----------------------------------------------------------


def _kfp(dag: Mapping[str, Any]) -> Mapping[str, Any]:
    return dag.get("kfp") or {}


def _pipeline_name(dag: Mapping[str, Any]) -> str:
    return str(_kfp(dag).get("pipeline_name") or dag["dag_id"])


def _package(folder: Path, dag: Mapping[str, Any]) -> Path | None:
    path = _kfp(dag).get("yaml")
    return folder / path if path else None


def _schedule(folder: Path, dag: Mapping[str, Any]) -> Path | None:
    path = _kfp(dag).get("schedule")
    return folder / path if path else None


def _source(dag: Mapping[str, Any]) -> str:
    return f"{dag.get('file')}:{dag.get('line')}"


def _paused_upon_creation(dag: Mapping[str, Any]) -> bool:
    """The DAG's ``is_paused_upon_creation``: True unless it is literally False or unset
    (a value the analyzer could not know keeps the DAG paused)."""
    extra = ((dag.get("graph") or {}).get("dag") or {}).get("extra") or {}
    value = extra.get("is_paused_upon_creation")
    return value is not None and value is not False


def _first_error(findings: list[Mapping[str, Any]]) -> str | None:
    for finding in findings:
        if finding.get("severity") == "error":
            where = f"{finding.get('file')}:{finding.get('line')}" if finding.get("line") else finding.get("file")
            return f"{finding.get('code')} at {where}"
    return None


def read_schedule(path: Path | None) -> Mapping[str, Any] | None:
    """The ``schedule.json`` document (its ``recurring_run`` may be null), or None without one."""
    if path is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScheduleError(f"{path}: cannot read the schedule: {exc}") from None
    if not isinstance(document, dict):
        raise ScheduleError(f"{path}: not a schedule.json (expected an object with recurring_run)")
    return document


def has_recurring_run(schedule: Mapping[str, Any] | None) -> bool:
    return bool(schedule and schedule.get("recurring_run"))


# -- the whole output ---------------------------------------------------------------------


def _load_report(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (give the folder af2kfp convert -o wrote)")
    path = folder / REPORT_NAME
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder}: no {REPORT_NAME}; is it an af2kfp convert output folder?") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not readable as JSON: {exc}") from None
    if not isinstance(report, dict) or not isinstance(report.get("dags"), list):
        raise InputError(f"{path}: not an af2kfp report (no `dags` list)")
    return report


def read_output(folder: Path) -> ConvertOutput:
    """The DAGs of the convert output in ``folder`` (``InputError`` naming the file when it is not one)."""
    folder = Path(folder)
    report = _load_report(folder)
    try:
        views = dag_views(report)
    except (KeyError, TypeError) as exc:
        raise InputError(f"{folder / REPORT_NAME}: not an af2kfp report (missing {exc})") from None
    dags = []
    seen: dict[str, str] = {}
    for view in views:
        dag = view.dag
        package = _package(folder, dag)
        blockers = list(view.reasons) if view.verdict == BLOCKED else []
        if str(dag["dag_id"]) in seen:
            blockers.insert(0, f"duplicate dag_id (first defined at {seen[str(dag['dag_id'])]})")
        seen.setdefault(str(dag["dag_id"]), _source(dag))
        first = _first_error(view.findings)
        if blockers and first:
            blockers[0] += f" (first: {first})"
        if package is not None and not package.is_file() and not blockers:
            blockers.append(f"{package} is missing; convert again")
        if package is None and not blockers:
            blockers.append("no pipeline.yaml")
        dags.append(
            DagOutput(
                dag_id=str(dag["dag_id"]),
                source=_source(dag),
                pipeline_name=_pipeline_name(dag),
                package=package,
                schedule=_schedule(folder, dag),
                verdict=view.verdict,
                blockers=tuple(blockers),
                severities=dict(view.severities),
                paused_upon_creation=_paused_upon_creation(dag),
            )
        )
    return ConvertOutput(folder, tuple(dags))
