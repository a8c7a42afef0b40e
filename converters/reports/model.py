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

from converters.findings import CODES, FindingCode

__all__ = [
    "READY",
    "REVIEW",
    "BLOCKED",
    "VERDICTS",
    "FATES",
    "SEVERITIES",
    "DagView",
    "ChecklistItem",
    "verdict",
    "dag_views",
    "file_findings",
    "operator_coverage",
    "findings_by_code",
    "checklist",
    "finding_codes",
    "is_branch",
    "plain_message",
]

READY, REVIEW, BLOCKED = "ready", "needs review", "blocked"
VERDICTS = (READY, REVIEW, BLOCKED)
FATES = ("converted", "folded", "review", "unsupported")
SEVERITIES = ("error", "warning", "info")
_BRANCH = re.compile(r"(Branch\w*Operator|ShortCircuitOperator|task\.branch\w*|task\.short_circuit)$")
# Info codes that still change what the pipeline does at run time.
_BEHAVIOUR_INFO = ("M216", "M217", "M218")
# Modules that declare finding codes with register_code (importing them fills CODES).
_CODE_MODULES = ("converters.analysis.codes", "converters.mappings.codes", "converters.emit.compile", "converters.convert")


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


def _schedule(view: DagView) -> str | None:
    schedule = ((view.dag.get("graph") or {}).get("dag") or {}).get("schedule")
    if schedule in (None, "", "@once") or isinstance(schedule, dict):
        return None
    return str(schedule)


def checklist(view: DagView, codes: dict[str, FindingCode]) -> list[ChecklistItem]:
    """What a person must do before production, from the KFP tasks and the findings.

    Secrets to create, images to verify, the schedule to recreate, placeholders to
    replace, then one item per behaviour difference (warning/error codes, and the info
    codes that change behaviour), each naming the tasks it touches.
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
    schedule = _schedule(view)
    if schedule:
        items.append(ChecklistItem(kind="schedule", text=f"Create a KFP recurring run for the Airflow schedule '{schedule}' "
                                   "(KFP cron expressions have a seconds field)"))
    placeholders = [t["display_name"] for t in kfp_tasks if t.get("kind") == "placeholder"]
    if placeholders:
        items.append(ChecklistItem(kind="placeholder", text="Replace the placeholder components (they fail when run) "
                                   "with real ones", tasks=tuple(placeholders)))
    by_code: dict[str, list[dict[str, Any]]] = {}
    for finding in view.findings:
        if finding["code"] in ("M201", "M207"):  # covered by the placeholder and secret items
            continue
        if finding["severity"] != "info" or finding["code"] in _BEHAVIOUR_INFO:
            by_code.setdefault(finding["code"], []).append(finding)
    for code, found in sorted(by_code.items(), key=lambda kv: (SEVERITIES.index(kv[1][0]["severity"]), kv[0])):
        entry = codes.get(code)
        title = entry.title if entry else found[0]["message"]
        names = sorted({f["task_id"] for f in found if f.get("task_id")})
        items.append(ChecklistItem(kind="behaviour", text=f"{code} {title}: {found[0]['suggestion']}", tasks=tuple(names)))
    return items
