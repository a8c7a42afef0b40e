"""A :class:`~af2kfp.bridge.compare.match.Comparison` as JSON, Markdown or one self-contained HTML page.

The HTML has no script and no external resource; every value from either system or
from report.json is escaped (a task id is data, never markup). Markdown cells escape
``|``, backticks and line breaks so a table row cannot be broken by a task name or an
error text.
"""

from __future__ import annotations

import html
import json
from typing import Callable

from af2kfp.bridge.compare.match import Comparison, TaskRow
from af2kfp.bridge.compare.model import RunRecord, TaskRun, iso

__all__ = ["to_json", "to_markdown", "to_html", "render", "FORMATS"]

_HEAD = (
    "Airflow task",
    "KFP task",
    "Airflow state",
    "start",
    "end",
    "duration",
    "tries",
    "KFP state",
    "start",
    "end",
    "duration",
    "attempts",
    "verdict",
    "note",
)


def to_json(comparison: Comparison) -> str:
    return json.dumps(comparison.to_json(), indent=2) + "\n"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def _time(task: TaskRun | RunRecord | None, which: str) -> str:
    value = getattr(task, which, None) if task is not None else None
    text = iso(value) or ""
    return text.replace("+00:00", "Z")


def _state(task: TaskRun | None, absent: str | None) -> str:
    if task is None:
        return (absent or "").replace("_", " ") or "-"
    text = task.state
    return text + (f" x{task.instances}" if task.instances > 1 else "")


def _cells(row: TaskRow) -> list[str]:
    a, k = row.airflow, row.kfp
    return [
        row.airflow_task_id or "-",
        row.kfp_task or ("(folded)" if row.verdict == "folded" else "-"),
        _state(a, None),
        _time(a, "start"),
        _time(a, "end"),
        _duration(a.duration) if a else "",
        str(a.attempts) if a and a.attempts is not None else "",
        _state(k, row.kfp_absent if row.verdict != "folded" else None),
        _time(k, "start"),
        _time(k, "end"),
        _duration(k.duration) if k else "",
        str(k.attempts) if k and k.attempts is not None else "",
        row.verdict,
        row.note,
    ]


def _summary_lines(c: Comparison) -> list[tuple[str, str, str]]:
    return [
        (
            "Airflow",
            f"DAG run {c.airflow.run_id}",
            f"{c.airflow.state}, {_duration(c.airflow.duration) or '-'}",
        ),
        (
            "KFP",
            f"run {c.kfp.run_id}",
            f"{c.kfp.state}, {_duration(c.kfp.duration) or '-'}"
            + (f": {c.kfp.error}" if c.kfp.error else ""),
        ),
    ]


def _md(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("`", "\\`")
        .replace("\r", " ")
        .replace("\n", " ")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def to_markdown(c: Comparison) -> str:
    counts = c.counts()
    lines = [
        f"## Runtime comparison: `{_md(c.dag_id)}`",
        "",
        f"**Verdict: {c.verdict}** ({counts['same']} same, {counts['differs']} differ, "
        f"{counts['missing']} missing, {counts['folded']} folded)",
        "",
    ]
    for system, what, state in _summary_lines(c):
        lines.append(f"- {system}: {_md(what)}: {_md(state)}")
    for warning in c.warnings:
        lines.append(f"- **Warning:** {_md(warning)}")
    lines += ["", "| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    for row in c.rows:
        lines.append("| " + " | ".join(_md(cell) for cell in _cells(row)) + " |")
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right}.v-same{background:#e7f6e7}.v-differs{background:#fde2e2}
.v-missing{background:#fff4d6}.v-folded{color:#777}.verdict{font-size:1.2em;font-weight:bold}
.sep{border-left:3px solid #888}.warn{color:#a40}@media print{body{margin:0}}
"""


def to_html(c: Comparison) -> str:
    e = html.escape
    counts = c.counts()
    runs = "".join(f"<li><b>{e(s)}</b>: {e(w)}: {e(st)}</li>" for s, w, st in _summary_lines(c))
    runs += "".join(f"<li class=warn><b>Warning</b>: {e(w)}</li>" for w in c.warnings)
    links = "".join(
        f'<li><a href="{e(r.url)}">{e(name)} run</a></li>'
        for name, r in (("Airflow", c.airflow), ("KFP", c.kfp))
        if r.url and r.url.startswith(("http://", "https://"))
    )
    head = "".join(f'<th{" class=sep" if i in (2, 7, 12) else ""}>{e(h)}</th>' for i, h in enumerate(_HEAD))
    body = []
    for row in c.rows:
        cells = "".join(
            f'<td class="{"num " if i in (5, 6, 10, 11) else ""}{"sep" if i in (2, 7, 12) else ""}">{e(cell)}</td>'
            for i, cell in enumerate(_cells(row))
        )
        body.append(f'<tr class="v-{e(row.verdict)}">{cells}</tr>')
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>af2kfp compare: {e(c.dag_id)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Runtime comparison: {e(c.dag_id)}</h1>"
        f'<p class=verdict>Verdict: <span class="v-{e(c.verdict)}">{e(c.verdict)}</span></p>'
        f"<p>{counts['same']} same, {counts['differs']} differ, {counts['missing']} missing, "
        f"{counts['folded']} folded</p><ul>{runs}{links}</ul>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>\n"
    )


FORMATS: dict[str, Callable[[Comparison], str]] = {"json": to_json, "md": to_markdown, "html": to_html}


def render(comparison: Comparison, fmt: str) -> str:
    """The comparison in ``fmt`` (``json``, ``md``, ``html``)."""
    try:
        return FORMATS[fmt](comparison)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}") from None
