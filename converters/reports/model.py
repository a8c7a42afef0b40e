"""What every report shows, computed once from ``report.json``: verdicts, counts, checklists.

The HTML, Markdown and SARIF writers only lay out what this module derives, so the
three never disagree. The verdict of a DAG (documented in ``docs/reports.md``):

- **blocked**: an error finding about the DAG or its tasks, or the pipeline did not
  compile, or a task is unsupported (a placeholder that fails when run);
- **needs review**: otherwise, a warning finding, or a task whose fate is ``review``;
- **ready**: neither.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from af2kfp.converters.findings import CODES, FindingCode

__all__ = [
    "READY",
    "REVIEW",
    "BLOCKED",
    "VERDICTS",
    "FATES",
    "FATE_MEANING",
    "runs_as_is",
    "SEVERITIES",
    "DagView",
    "ChecklistItem",
    "verdict",
    "dag_views",
    "file_findings",
    "operator_coverage",
    "findings_by_code",
    "checklist",
    "schedule_item",
    "schedule_status",
    "SCHEDULE_STATUSES",
    "finding_codes",
    "is_branch",
    "plain_message",
]

READY, REVIEW, BLOCKED = "ready", "needs review", "blocked"
# What each fate means (af2kfp.converters.mappings.base.fate_of decides them; docs/report-json.md, "Fates").
FATE_MEANING = {
    "converted": "runs as is: no finding above info about the task",
    "folded": "merged into the edges (an EmptyOperator), no finding above info",
    "review": "runs, but a person must check the warning or error finding named on the task",
    "unsupported": "a placeholder that fails when run",
}
VERDICTS = (READY, REVIEW, BLOCKED)
FATES = ("converted", "folded", "review", "unsupported")
SEVERITIES = ("error", "warning", "info")
_BRANCH = re.compile(r"(Branch\w*Operator|ShortCircuitOperator|task\.branch\w*|task\.short_circuit)$")
# Info codes that still change what the pipeline does at run time.
_BEHAVIOUR_INFO = ("M216", "M217", "M218")
# Schedule findings that leave no recurring run (converters/schedule.py).
_SCHEDULE_NOT_CONVERTED = ("S401", "S402", "S403", "S404", "S406")
# What convert produced for a DAG's schedule (schedule_status), in the order reports count them.
SCHEDULE_STATUSES = ("recurring run", "not converted", "no recurring run", "no schedule", "to recreate")
# Modules that declare finding codes with register_code (importing them fills CODES).
_CODE_MODULES = ("af2kfp.converters.analysis.codes", "af2kfp.converters.mappings.codes", "af2kfp.converters.emit.compile", "af2kfp.converters.convert")


def finding_codes() -> dict[str, FindingCode]:
    """Every registered finding code, importing the modules that declare them."""
    for name in _CODE_MODULES:
        importlib.import_module(name)
    return dict(CODES)


def plain_message(finding: dict[str, Any]) -> str:
    """The message on one line, without the ``file:line:`` some messages start with (reports show it apart)."""
    message = " ".join(str(finding["message"]).split())
    where = f"{finding['file']}:{finding['line']}" if finding.get("line") else finding["file"]
    for prefix in (f"{where}: ", f"{finding['file']}: "):
        message = message.removeprefix(prefix)
    return message


def is_branch(operator: str) -> bool:
    """True for Airflow operators that choose which downstream tasks run."""
    return bool(_BRANCH.search(operator or ""))


@dataclass(frozen=True, kw_only=True)
class ChecklistItem:
    """One thing a person must do before running the pipeline in production."""

    kind: str  # "secret", "image", "schedule", "placeholder", "behaviour"
    text: str
    tasks: tuple[str, ...] = ()
    code: str = ""  # a statement to copy (the schedule's create_recurring_run call)


@dataclass(kw_only=True)
class DagView:
    """One DAG of the report with its findings sorted out and its verdict."""

    index: int
    dag: dict[str, Any]
    findings: list[dict[str, Any]]
    verdict: str
    reasons: list[str]
    fates: dict[str, int]
    severities: dict[str, int]
    task_findings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dag_findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """A stable HTML id that owes nothing to the dag_id's characters."""
        return f"dag-{self.index}"


def verdict(dag: dict[str, Any], findings: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The DAG's verdict and the reasons for it (see the module docstring)."""
    fates = Counter(t["fate"] for t in dag["airflow"]["tasks"])
    severities = Counter(f["severity"] for f in findings)
    blocked = []
    if severities["error"]:
        blocked.append(f"{severities['error']} error finding(s)")
    if not dag["kfp"].get("compiled"):
        blocked.append("the pipeline did not compile")
    if fates["unsupported"]:
        blocked.append(f"{fates['unsupported']} unsupported task(s)")
    if blocked:
        return BLOCKED, blocked
    review = []
    if severities["warning"]:
        review.append(f"{severities['warning']} warning finding(s)")
    if fates["review"]:
        review.append(f"{fates['review']} task(s) to review")
    if review:
        return REVIEW, review
    return READY, ["every task converted, no warning or error"]


def runs_as_is(summary: dict[str, Any]) -> tuple[int, int, float]:
    """``(tasks that run as is, tasks, percent)``: converted + folded, out of every Airflow task."""
    total = int(summary.get("tasks", 0))
    done = int(summary.get("converted", 0)) + int(summary.get("folded", 0))
    return done, total, 100.0 * done / total if total else 0.0


def _dag_key(finding: dict[str, Any]) -> tuple[str, str] | None:
    return (finding["file"], finding["dag_id"]) if finding.get("dag_id") is not None else None


def dag_views(report: dict[str, Any]) -> list[DagView]:
    """One view per DAG, findings attached by (file, dag_id), in the report's order."""
    by_dag: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        key = _dag_key(finding)
        if key is not None:
            by_dag.setdefault(key, []).append(finding)
    views = []
    for index, dag in enumerate(report["dags"], 1):
        found = by_dag.get((dag["file"], dag["dag_id"]), [])
        label, reasons = verdict(dag, found)
        view = DagView(
            index=index,
            dag=dag,
            findings=found,
            verdict=label,
            reasons=reasons,
            fates={fate: sum(1 for t in dag["airflow"]["tasks"] if t["fate"] == fate) for fate in FATES},
            severities={s: sum(1 for f in found if f["severity"] == s) for s in SEVERITIES},
        )
        for finding in found:
            if finding.get("task_id"):
                view.task_findings.setdefault(finding["task_id"], []).append(finding)
            else:
                view.dag_findings.append(finding)
        views.append(view)
    return views


def file_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings about files rather than DAGs (parse errors, files without a DAG)."""
    return [f for f in report["findings"] if f.get("dag_id") is None]


def operator_coverage(report: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    """Per operator label, its tasks counted by fate; most used operators first."""
    counts: dict[str, Counter] = {}
    for dag in report["dags"]:
        for t in dag["airflow"]["tasks"]:
            counts.setdefault(t.get("label") or t["operator"], Counter())[t["fate"]] += 1
    rows = [(label, {fate: c[fate] for fate in FATES}) for label, c in counts.items()]
    return sorted(rows, key=lambda row: (-sum(row[1].values()), row[0]))


def findings_by_code(report: dict[str, Any], codes: dict[str, FindingCode]) -> list[tuple[str, str, str, int]]:
    """``(code, severity, title, count)`` for every code found; most severe, then most frequent first."""
    counts = Counter(f["code"] for f in report["findings"])
    severity = {f["code"]: f["severity"] for f in report["findings"]}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    rows = [(code, severity[code], codes[code].title if code in codes else code, n) for code, n in counts.items()]
    return sorted(rows, key=lambda r: (rank.get(r[1], 9), -r[3], r[0]))


def _airflow_schedule(value: Any) -> str:
    """schedule.json's ``airflow_schedule`` as it reads in the DAG file."""
    if isinstance(value, dict) and "timedelta_seconds" in value:
        return f"timedelta(seconds={value['timedelta_seconds']:g})"
    if isinstance(value, list):
        return "[" + ", ".join(_airflow_schedule(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _recurring_run(spec: dict[str, Any], path: str, package: str) -> tuple[str, str]:
    """What the recurring run does, in words, and the ``create_recurring_run`` call that creates it."""
    run = spec["recurring_run"]
    trigger = (f"cron {run['cron_expression']!r}" if run.get("cron_expression") is not None
               else f"every {run.get('interval_second')}s")
    words = [f"Airflow {_airflow_schedule(spec.get('airflow_schedule'))} -> {trigger}",
             f"from {run.get('start_time') or 'the time it is created'}",
             f"until {run['end_time']}" if run.get("end_time") else "no end",
             f"max_concurrency {run.get('max_concurrency')}",
             "no_catchup=True (Airflow catchup=False)" if run.get("no_catchup")
             else "no_catchup=False: missed intervals are caught up (Airflow catchup=True)"]
    text = f"Create the KFP recurring run of {path}: " + ", ".join(words)
    notes = [n for n in spec.get("notes") or [] if not n.startswith("Airflow ")]  # the cron note is said above
    if notes:
        text += "; " + "; ".join(notes)
    keywords = ", ".join(f"{key}={value!r}" for key, value in run.items())
    return text, (f"kfp.Client().create_recurring_run(experiment_id=..., pipeline_package_path={package!r}, "
                  f"{keywords})")


def _airflow_of(view: DagView, spec: dict[str, Any] | None) -> Any:
    if isinstance(spec, dict):
        return spec.get("airflow_schedule")
    return ((view.dag.get("graph") or {}).get("dag") or {}).get("schedule")


def schedule_status(view: DagView, spec: dict[str, Any] | None) -> str:
    """One of :data:`SCHEDULE_STATUSES` for the DAG, from its ``schedule.json`` (``None``: unreadable or absent).

    ``recurring run``: a spec to create; ``not converted``: an S401/S402/S403/S404/S406 finding;
    ``no recurring run``: nothing recurs (``@once``); ``no schedule``: ``schedule=None``;
    ``to recreate``: no ``schedule.json`` to read, the Airflow schedule must be recreated by hand.
    """
    if isinstance(spec, dict) and spec.get("recurring_run"):
        return "recurring run"
    if any(f["code"] in _SCHEDULE_NOT_CONVERTED for f in view.dag_findings):
        return "not converted"
    if _airflow_of(view, spec) is None:
        return "no schedule"
    return "no recurring run" if isinstance(spec, dict) else "to recreate"


def schedule_item(view: DagView, spec: dict[str, Any] | None) -> ChecklistItem:
    """The checklist's schedule item: what ``af2kfp convert`` produced for the DAG's schedule.

    ``spec`` is the DAG's ``schedule.json`` (``dags[].kfp.schedule``), ``None`` when it was not
    written or cannot be read. The item names the recurring run (trigger, start/end,
    concurrency, catch-up) with its ``create_recurring_run`` call, or the S4xx finding that
    kept the schedule from converting, or says the DAG has no schedule.
    """
    kfp = view.dag["kfp"]
    path = kfp.get("schedule")
    package = kfp.get("yaml") or f"{view.dag.get('folder') or view.dag['dag_id']}/pipeline.yaml"
    schedule_findings = [f for f in view.dag_findings if f["code"].startswith("S4")]
    why = "; ".join(f"{f['code']} {plain_message(f)}" for f in schedule_findings)
    status = schedule_status(view, spec)
    if status == "recurring run" and isinstance(spec, dict):
        text, code = _recurring_run(spec, path or "schedule.json", package)
        return ChecklistItem(kind="schedule", text=text + (f". Also: {why}" if why else ""), code=code)
    if status == "not converted":
        first = next(f for f in schedule_findings if f["code"] in _SCHEDULE_NOT_CONVERTED)
        return ChecklistItem(kind="schedule", text=f"No recurring run was produced: {why}. {first['suggestion']}")
    if status == "no schedule":
        return ChecklistItem(kind="schedule", text="No schedule (schedule=None): the DAG runs only when triggered; "
                                                   "there is no recurring run to create")
    airflow = _airflow_schedule(_airflow_of(view, spec))
    if isinstance(spec, dict):
        return ChecklistItem(kind="schedule",
                             text=f"No recurring run for Airflow {airflow}: {'; '.join(spec.get('notes') or []) or 'nothing recurs'}")
    where = f"{path} cannot be read beside this report" if path else "no schedule.json was written"
    return ChecklistItem(kind="schedule", text=f"Recreate the Airflow schedule {airflow} as a KFP recurring run "
                                               f"({where}; see docs/schedules.md)")


def checklist(view: DagView, codes: dict[str, FindingCode],
              schedule: dict[str, Any] | None = None) -> list[ChecklistItem]:
    """What a person must do before production, from the KFP tasks and the findings.

    Secrets to create, images to verify, the schedule (:func:`schedule_item`, from the DAG's
    ``schedule.json`` given as ``schedule``), placeholders to replace, then one item per
    behaviour difference (warning/error codes other than the schedule's, and the info codes
    that change behaviour), each naming the tasks it touches.
    """
    items: list[ChecklistItem] = []
    kfp_tasks = view.dag["kfp"]["tasks"]
    secrets: dict[str, list[str]] = {}
    images: dict[str, list[str]] = {}
    for t in kfp_tasks:
        for secret in t.get("secrets") or []:
            secrets.setdefault(secret, []).append(t["display_name"])
        if t.get("image") and t.get("kind") != "placeholder":
            images.setdefault(t["image"], []).append(t["display_name"])
    for secret, users in sorted(secrets.items()):
        items.append(ChecklistItem(kind="secret", text=f"Create the Kubernetes Secret '{secret}' in the pipeline's namespace "
                                   "with the keys the tasks read", tasks=tuple(users)))
    for image, users in sorted(images.items()):
        items.append(ChecklistItem(kind="image", text=f"Verify that image '{image}' exists and the cluster can pull it",
                                   tasks=tuple(users)))
    items.append(schedule_item(view, schedule))
    placeholders = [t["display_name"] for t in kfp_tasks if t.get("kind") == "placeholder"]
    if placeholders:
        items.append(ChecklistItem(kind="placeholder", text="Replace the placeholder components (they fail when run) "
                                   "with real ones", tasks=tuple(placeholders)))
    by_code: dict[str, list[dict[str, Any]]] = {}
    for finding in view.findings:
        if finding["code"] in ("M201", "M207") or finding["code"].startswith("S4"):  # placeholder, secret, schedule items
            continue
        if finding["severity"] != "info" or finding["code"] in _BEHAVIOUR_INFO:
            by_code.setdefault(finding["code"], []).append(finding)
    for code, found in sorted(by_code.items(), key=lambda kv: (SEVERITIES.index(kv[1][0]["severity"]), kv[0])):
        entry = codes.get(code)
        title = entry.title if entry else found[0]["message"]
        names = sorted({f["task_id"] for f in found if f.get("task_id")})
        items.append(ChecklistItem(kind="behaviour", text=f"{code} {title}: {found[0]['suggestion']}", tasks=tuple(names)))
    return items
