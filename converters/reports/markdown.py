"""The Markdown report: short enough to paste into a pull request.

A summary table and one line counting what the DAGs' schedules became (with a migration state
file: the DAGs at each stage, and those past ``airflow`` with their last shadow comparison), then the DAGs that
are not ready (blocked first) with their warning and error findings and their schedule (the
checklist's schedule item). Lists are capped (DAG rows, findings per DAG, findings overall,
total characters) and every cap says how many items it left out. Text from DAG files is
escaped so it cannot break the table or inject markup; what a message quotes in backticks
stays a code span, unescaped (a code span shows a backslash as it is: ``\_`` there is a stray
``\``), with only its pipes escaped, and only in a table row, where GFM removes that backslash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from af2kfp.converters.reports.model import (BLOCKED, FATE_MEANING, FATES, READY, REVIEW, SCHEDULE_STATUSES, VERDICTS, DagView,
                                      dag_views, file_findings, plain_message, runs_as_is, schedule_item,
                                      schedule_status)
from af2kfp.converters.reports.migration import STAGES, MigrationView
from af2kfp.converters.reports.sources import Sources
from af2kfp.converters.text import visible

__all__ = ["Limits", "render_markdown"]

_STATUS_WORDS = {"recurring run": "with a recurring run to create", "not converted": "not converted",
                 "no recurring run": "with nothing recurring", "no schedule": "without schedule",
                 "to recreate": "to recreate by hand"}
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#!~])")
_SPAN = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Caps that keep the report pasteable (GitHub comments stop at 65,536 characters)."""

    dag_rows: int = 50
    findings_per_dag: int = 5
    findings: int = 100
    chars: int = 60_000


def _md(text: Any, limit: int = 300, *, table: bool = False) -> str:
    """One line of text, shortened to ``limit`` characters: escaped so it cannot form markup,
    except its backtick-quoted parts, which stay code spans (``table``: it is a table cell)."""
    value = visible(" ".join(str(text).split()))
    if len(value) > limit:
        value = value[: limit - 1] + "\u2026"
    parts, end = [], 0
    for span in _SPAN.finditer(value):
        parts += [_SPECIAL.sub(r"\\\1", value[end:span.start()]), _span(span.group(1), table)]
        end = span.end()
    return "".join(parts) + _SPECIAL.sub(r"\\\1", value[end:])


def _code(text: Any, limit: int = 120, *, table: bool = False) -> str:
    """An inline code span (ids, paths): no backticks inside (``table``: it is a table cell)."""
    value = visible(" ".join(str(text).split())).replace("`", "'")
    if len(value) > limit:
        value = value[: limit - 1] + "\u2026"
    return _span(value, table)


def _span(value: str, table: bool) -> str:
    """A code span shows its text as it is: nothing escaped but a pipe in a table cell."""
    return "`" + (value.replace("|", "\\|") if table else value) + "`"


def _where(finding: dict[str, Any]) -> str:
    return f"{finding['file']}:{finding['line']}" if finding.get("line") else finding["file"]


def _finding(finding: dict[str, Any]) -> str:
    task = f" task {_code(finding['task_id'], 80)}:" if finding.get("task_id") else ""
    return (f"- **{finding['severity']}** {_md(finding['code'], 10)} {_code(_where(finding))}:{task} "
            f"{_md(plain_message(finding))}  \n  \u2192 {_md(finding['suggestion'])}")


def _schedules(views: list[DagView], specs: dict[int, dict[str, Any] | None]) -> str:
    """One line: how many DAGs got a recurring run to create, and which got none (they are listed)."""
    by_status: dict[str, list[str]] = {}
    for view in views:
        by_status.setdefault(schedule_status(view, specs[view.index]), []).append(view.dag["dag_id"])
    parts = []
    for status in SCHEDULE_STATUSES:
        ids = by_status.get(status, [])
        if not ids:
            continue
        named = "" if status in ("recurring run", "no schedule") else (
            " (" + ", ".join(_code(i, 80) for i in ids[:10]) + (f", {len(ids) - 10} more" if len(ids) > 10 else "") + ")")
        parts.append(f"{len(ids)} {_STATUS_WORDS[status]}{named}")
    return "Schedules (each DAG's `schedule.json`, a KFP recurring run spec): " + ", ".join(parts) + "."


def _migration(views: list[DagView], migration: MigrationView, limit: int) -> list[str]:
    """The stage counts, then each DAG that has left stage airflow with its last shadow comparison."""
    counts = migration.counts(v.dag["dag_id"] for v in views)
    lines = [f"Migration stages ({_code(migration.state_file)}): "
             + ", ".join(f"{n} {stage}" for stage, n in counts.items()) + ".", ""]
    moved = [v for v in views if migration.stage(v.dag["dag_id"]) != STAGES[0]]
    if moved:
        lines += ["| DAG | stage | last shadow comparison |", "|---|---|---|"]
        for view in moved[:limit]:
            dag_id = view.dag["dag_id"]
            shadow = migration.shadow(dag_id)
            differences = migration.differences(dag_id)
            if differences:
                shadow += ": " + "; ".join(differences[:3]) + ("; ..." if len(differences) > 3 else "")
            lines.append(f"| {_code(dag_id, 80, table=True)} | {migration.stage(dag_id)} | {_md(shadow, table=True)} |")
        if len(moved) > limit:
            lines.append(f"\n_{len(moved) - limit} more DAGs past stage airflow are not listed._")
        lines.append("")
    return lines


def render_markdown(
    report: dict[str, Any], limits: Limits = Limits(), sources: Sources | None = None,
    migration: MigrationView | None = None,
) -> str:
    """The Markdown report of a ``report.json`` document; ``sources`` reads each DAG's ``schedule.json``;
    ``migration`` adds each DAG's migration stage and last shadow comparison."""
    s = report["summary"]
    views = dag_views(report)
    specs = {v.index: sources.generated_json(v.dag["kfp"].get("schedule")) if sources else None for v in views}
    verdicts = {v: sum(1 for view in views if view.verdict == v) for v in VERDICTS}
    f = s["findings"]
    done, total, percent = runs_as_is(s)
    lines = [
        "## af2kfp migration report",
        "",
        "| files | DAGs | tasks | " + " | ".join(FATES) + " | compiled | ready | needs review | blocked | errors | warnings | info |",
        "|" + "---:|" * (11 + len(FATES) - 1),
        f"| {s['files']} | {s['dags']} | {s['tasks']} | " + " | ".join(str(s.get(x, 0)) for x in FATES)
        + f" | {s['compiled']}/{s['dags']} | {verdicts[READY]} | {verdicts[REVIEW]} | {verdicts[BLOCKED]} "
        f"| {f['error']} | {f['warning']} | {f['info']} |",
        "",
        f"Tasks that run as is (converted + folded): **{done} of {total} ({percent:.0f}%)**. Fate: "
        + "; ".join(f"**{fate}** = {FATE_MEANING[fate]}" for fate in FATES) + ".",
        "",
        "Verdict: **blocked** = an error finding, a pipeline that did not compile or an unsupported task; "
        "**needs review** = a warning finding or a task to review; **ready** = neither.",
        "",
        _schedules(views, specs),
        "",
    ]
    if migration is not None:
        lines += _migration(views, migration, limits.dag_rows)
    pending = sorted((v for v in views if v.verdict != READY), key=lambda v: (-VERDICTS.index(v.verdict), v.index))
    if pending:
        lines += ["| verdict | DAG | file | tasks | unsupported | review | errors | warnings |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for view in pending[: limits.dag_rows]:
            dag_id, file = _code(view.dag["dag_id"], 80, table=True), _code(view.dag["file"], table=True)
            lines.append(f"| {view.verdict} | {dag_id} | {file} "
                         f"| {len(view.dag['airflow']['tasks'])} | {view.fates['unsupported']} | {view.fates['review']} "
                         f"| {view.severities['error']} | {view.severities['warning']} |")
        if len(pending) > limits.dag_rows:
            lines.append(f"\n_{len(pending) - limits.dag_rows} more DAGs not ready are not listed._")
        lines.append("")
    body: list[str] = []
    budget, left_out = limits.findings, 0
    file_level = [x for x in file_findings(report) if x["severity"] != "info"]
    if file_level:
        body += ["### Files", ""]
        for finding in file_level:
            if budget > 0:
                body.append(_finding(finding))
                budget -= 1
            else:
                left_out += 1
        body.append("")
    for view in pending:
        serious = [x for x in view.findings if x["severity"] != "info"]
        if not serious:
            continue
        shown = serious[: min(limits.findings_per_dag, max(budget, 0))]
        left_out += len(serious) - len(shown)
        if not shown:
            continue
        budget -= len(shown)
        body += [f"### {_code(view.dag['dag_id'], 80)} ({view.verdict})", ""]
        body += [_finding(x) for x in shown]
        if len(serious) > len(shown):
            body.append(f"- _{len(serious) - len(shown)} more findings for this DAG not shown_")
        body.append(f"- schedule: {_md(schedule_item(view, specs[view.index]).text, 600)}")
        body.append("")
    text = "\n".join(lines + body).rstrip()
    if len(text) > limits.chars:
        cut = text.rfind("\n", 0, limits.chars - 300)
        left_out += text[cut:].count("\n- **")
        text = text[:cut].rstrip()
    notes = []
    if left_out:
        notes.append(f"{left_out} warning/error findings left out")
    if f["info"]:
        notes.append(f"{f['info']} info findings only counted")
    if notes:
        text += f"\n\n_{'; '.join(notes)}: the HTML report has everything._"
    return text + "\n"
