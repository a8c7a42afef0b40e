"""The HTML report: one self-contained file (inline CSS, JS and SVG) that opens from disk.

A repository summary and a sortable, filterable DAG list come first; each DAG follows in
a collapsed ``<details>`` (so a thousand DAGs paint quickly): the Airflow and KFP graphs
side by side, then per task the Airflow source next to the generated KFP code, the
findings with their suggestions, and the checklist before production.

Every string from the report (task ids, messages, source lines) is escaped with
:func:`html.escape` (after :func:`af2kfp.converters.text.visible`: bidi marks and controls as escapes); the only JSON in a script goes through :func:`script_json`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from typing import Any

from af2kfp.converters.findings import FindingCode
from af2kfp.converters.text import visible
from af2kfp.converters.reports.assets import CSS, JS
from af2kfp.converters.reports.model import (FATE_MEANING, FATES, VERDICTS, DagView, checklist, dag_views, file_findings,
                                      findings_by_code, finding_codes, operator_coverage, plain_message, runs_as_is)
from af2kfp.converters.reports.migration import MigrationView
from af2kfp.converters.reports.sources import Excerpt, Sources, excerpt, redact, secret_env_names
from af2kfp.converters.reports.svg import ARROW_DEFS, dag_graphs, task_keys

__all__ = ["render_html", "script_json"]

_MAX_LINES = 40  # per code excerpt; longer ones are cut with a note
_OPEN_FILE_FINDINGS = 20  # more file-level findings than this start collapsed


def script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` and U+2028/2029 become escapes."""
    text = json.dumps(data, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def _e(value: Any) -> str:
    return escape(visible(str(value)), quote=True)


def _verdict(label: str) -> str:
    return f'<span class="v v-{label.replace(" ", "-")}">{_e(label)}</span>'


def _where(finding: dict[str, Any]) -> str:
    return f"{finding['file']}:{finding['line']}" if finding.get("line") else finding["file"]


def _finding_li(finding: dict[str, Any], with_where: bool = True) -> str:
    where = f' <code>{_e(_where(finding))}</code>' if with_where else ""
    if finding["severity"] == "info":  # one line; the suggestion on hover
        return (f'<li title="{_e(finding["suggestion"])}"><span class="sev-info">info</span> <b>{_e(finding["code"])}</b>'
                f'{where} {_e(plain_message(finding))}</li>')
    return (f'<li><span class="sev-{_e(finding["severity"])}">{_e(finding["severity"])}</span> '
            f'<b>{_e(finding["code"])}</b>{where} {_e(plain_message(finding))}'
            f'<br><span class="sugg">\u2192 {_e(finding["suggestion"])}</span></li>')


def _redacted(parts: list[Excerpt | str], graph_task: dict[str, Any]) -> list[Excerpt | str]:
    """Airflow source excerpts without secret values (password-like literals, private_environment values)."""
    args = graph_task.get("args") or {}
    private = args.get("private_environment")
    keys = frozenset(private) if isinstance(private, dict) else frozenset()
    keys |= secret_env_names(args)
    return [p if isinstance(p, str) else (p[0], [redact(line, keys) for line in p[1]]) for p in parts]


def _code(parts: list[Excerpt | str], *, missing: str) -> str:
    """A line-numbered code pane from excerpts (strings are notes between them)."""
    if not any(isinstance(p, tuple) for p in parts):
        return f'<p class="nosrc">{_e(missing)}</p>'
    numbers, text = [], []
    for part in parts:
        if isinstance(part, str):
            numbers.append("")
            text.append(f'<span class="gap">{_e(part)}</span>')
            continue
        first, lines = part
        numbers.extend(str(first + i) for i in range(len(lines)))
        text.extend(escape(visible(line), quote=False) for line in lines)
    return (f'<div class="code"><pre class="ln" aria-hidden="true">{chr(10).join(numbers)}</pre>'
            f'<pre>{chr(10).join(text)}</pre></div>')


def _cut_note(span: list[int] | tuple[int, int] | None, shown: Excerpt | None) -> list[str]:
    if not span or not shown or len(span) < 2:
        return []
    total = span[1] - span[0] + 1
    return [f"\u2026 {total - len(shown[1])} more lines"] if total > len(shown[1]) else []


def _airflow_code(task: dict[str, Any], graph_task: dict[str, Any], lines: list[str] | None) -> list[Excerpt | str]:
    parts: list[Excerpt | str] = []
    span = [graph_task.get("line") or task.get("line"), graph_task.get("end_line") or graph_task.get("line") or task.get("line")]
    call = excerpt(lines, span[0], span[1], _MAX_LINES)
    python = graph_task.get("python") or {}
    if python.get("line") and python.get("file") == graph_task.get("file"):
        size = len(str(python.get("source") or "").splitlines()) or 1
        pspan = [python["line"], python["line"] + size - 1]
        if call and pspan[0] <= span[1] and span[0] <= pspan[1]:  # overlapping: show once
            span = [min(span[0], pspan[0]), max(span[1], pspan[1])]
            call = excerpt(lines, span[0], span[1], _MAX_LINES)
        else:
            body = excerpt(lines, pspan[0], pspan[1], _MAX_LINES)
            if body:
                parts += [body, *_cut_note(pspan, body), "\u22ee"]
    if call:
        parts += [call, *_cut_note(span, call)]
    return parts


def _kfp_code(kfp: dict[str, Any] | None, lines: list[str] | None, shown_components: dict[str, str]) -> list[Excerpt | str]:
    if not kfp:
        return []
    parts: list[Excerpt | str] = []
    spans = kfp.get("lines") or {}
    component = spans.get("component") or []
    if len(component) == 2:
        owner = shown_components.get(kfp.get("component") or "")
        if owner is not None:
            parts.append(f"# component {kfp.get('component')}: shown with task {owner}")
        else:
            shown_components[kfp.get("component") or ""] = kfp["display_name"]
            body = excerpt(lines, component[0], component[1], _MAX_LINES)
            if body:
                parts += [body, *_cut_note(component, body), "\u22ee"]
    task_span = spans.get("task") or []
    if len(task_span) == 2:
        body = excerpt(lines, task_span[0], task_span[1], _MAX_LINES)
        if body:
            parts += [body, *_cut_note(task_span, body)]
    return parts


def _task_section(view: DagView, task: dict[str, Any], key: str, kfp: dict[str, Any] | None, graph_task: dict[str, Any],
                  dag_lines: list[str] | None, py_lines: list[str] | None, shown: dict[str, str],
                  seen: dict[tuple[Any, ...], tuple[str, str]]) -> str:
    target = f" \u2192 <code>{_e(kfp['name'])}</code>" if kfp else " \u2192 <i>folded into the edges</i>"
    head = (f'<h4><code>{_e(task["task_id"])}</code> <span class="op">{_e(task.get("label") or task["operator"])}, '
            f'line {_e(task.get("line"))}</span>{target} <span class="v t-{_e(task["fate"])}">{_e(task["fate"])}</span></h4>')
    left_parts = _redacted(_airflow_code(task, graph_task, dag_lines), graph_task)
    where = (view.dag["file"], tuple((p[0], len(p[1])) for p in left_parts if isinstance(p, tuple)))
    anchor = f"{view.anchor}-{key}"
    if where[1] and where in seen:  # e.g. tasks made by one factory or loop: show the source once
        first, name = seen[where]
        left = f'<p class="nosrc">Same Airflow source as <a href="#{first}">{_e(name)}</a>.</p>'
    else:
        seen.setdefault(where, (anchor, task["task_id"]))
        left = _code(left_parts, missing="Airflow source not available")
    if kfp:
        right = _code(_kfp_code(kfp, py_lines, shown), missing="generated code not available")
    else:
        right = '<p class="nosrc">No KFP task: its upstream tasks connect directly to its downstream tasks.</p>'
    found = view.task_findings.get(task["task_id"], [])
    findings = f'<ul class="findings">{"".join(_finding_li(f, False) for f in found)}</ul>' if found else ""
    return (f'<div class="task" id="{anchor}" data-ks="{key}">{head}'
            f'<div class="sbs"><div>{left}</div><div>{right}</div></div>{findings}</div>')


def _dag_section(view: DagView, sources: Sources, codes: dict[str, FindingCode],
                 seen: dict[tuple[Any, ...], tuple[str, str]], migration: MigrationView | None = None) -> str:
    dag = view.dag
    kfp = dag["kfp"]
    graphs = dag_graphs(dag, sources.generated_text(kfp.get("yaml")) if kfp.get("compiled") else None)
    keys = task_keys(dag)
    dag_lines = sources.dag_file(dag["file"])
    py_lines = sources.generated(kfp.get("python"))
    kfp_of = {i: t for t in kfp["tasks"] for i in (t.get("airflow_task_ids") or [])[:1]}
    graph_tasks = {t.get("task_id"): t for t in (dag.get("graph") or {}).get("tasks") or []}
    schedule = ((dag.get("graph") or {}).get("dag") or {}).get("schedule")
    code_at = f', code in <code>{_e(kfp["python"])}</code>' if kfp.get("python") else ""
    when = f"; schedule <code>{_e(schedule)}</code>" if isinstance(schedule, str) else ""
    counts = " \u00b7 ".join(f"{view.fates[f]} {f}" for f in FATES if view.fates[f])
    out = [
        f'<details class="dag" id="{view.anchor}" data-verdict="{_e(view.verdict)}"><summary>{_verdict(view.verdict)} '
        f'<code>{_e(dag["dag_id"])}</code> <span class="mute">{_e(dag["file"])}:{_e(dag["line"])} \u00b7 {counts}</span></summary>',
        f'<p>Verdict: {_verdict(view.verdict)} because {_e("; ".join(view.reasons))}. '
        f'KFP pipeline <code>{_e(kfp.get("pipeline_name"))}</code>: '
        f'{"compiled" if kfp.get("compiled") else "<b>not compiled</b>"}'
        f'{code_at}{when}.</p>' + _stage_line(dag["dag_id"], migration),
        f'<div class="sbs"><figure><figcaption>Airflow DAG ({graphs.airflow_nodes} tasks)</figcaption>'
        f'<div class="gbox">{graphs.airflow_svg}</div></figure>'
        f'<figure><figcaption>KFP pipeline ({graphs.kfp_nodes} tasks)</figcaption>'
        f'<div class="gbox">{graphs.kfp_svg}</div></figure></div>',
        '<h3>Tasks</h3>',
    ]
    shown: dict[str, str] = {}
    for task in dag["airflow"]["tasks"]:
        out.append(_task_section(view, task, keys[task["task_id"]], kfp_of.get(task["task_id"]),
                                 graph_tasks.get(task["task_id"]) or {}, dag_lines, py_lines, shown, seen))
    out.append(_added(kfp))
    if view.dag_findings:
        out.append(f'<h3>DAG findings</h3><ul class="findings">{"".join(_finding_li(f) for f in view.dag_findings)}</ul>')
    items = checklist(view, codes, sources.generated_json(kfp.get("schedule")))
    if items:
        out.append("<h3>Before production</h3><ul class=\"check\">")
        for item in items:
            tasks = f' <span class="mute">({_e(", ".join(item.tasks))})</span>' if item.tasks else ""
            code = f'<pre class="call"><code>{_e(item.code)}</code></pre>' if item.code else ""
            out.append(f'<li data-kind="{_e(item.kind)}"><label><input type="checkbox"> {_e(item.text)}</label>{tasks}{code}</li>')
        out.append("</ul>")
    out.append("</details>")
    return "".join(out)


def _added(kfp: dict[str, Any]) -> str:
    """The KFP tasks the conversion added (no Airflow task behind them), and the tasks that read them."""
    rows = []
    for t in kfp["tasks"]:
        if not t.get("added_by"):
            continue
        readers = sorted(v for u, v in kfp.get("edges") or [] if u == t["name"])
        read = f'; read by {", ".join(f"<code>{_e(r)}</code>" for r in readers)}' if readers else ""
        rows.append(f'<li><code>{_e(t["name"])}</code> ({_e(t["display_name"])}): no Airflow task, added by '
                    f'{_e(t["added_by"])} to compute the run\'s dates once (docs/templating.md){read}</li>')
    return f'<h3>Added by the conversion</h3><ul class="added">{"".join(rows)}</ul>' if rows else ""


def _bar(counts: dict[str, int]) -> str:
    total = sum(counts.values()) or 1
    spans = "".join(f'<span class="f-{f}" style="width:{100 * counts[f] / total:.2f}%" title="{f}: {counts[f]}"></span>'
                    for f in FATES if counts[f])
    return f'<div class="bar">{spans}</div>'


def _migration(views: list[DagView], migration: MigrationView | None) -> str:
    """The stage counts as cards, with the state file they come from."""
    if migration is None:
        return ""
    counts = migration.counts(v.dag["dag_id"] for v in views)
    cards = "".join(f'<div class="card"><b>{n}</b>stage {_e(stage)}</div>' for stage, n in counts.items())
    return (f'<h3>Migration stages</h3><div class="cards">{cards}</div>'
            f'<p class="mute">From <code>{_e(migration.state_file)}</code> (docs/migration.md); a DAG without an '
            'entry is at stage airflow.</p>')


def _stage_line(dag_id: str, migration: MigrationView | None) -> str:
    if migration is None:
        return ""
    differences = "".join(f"<li>{_e(d)}</li>" for d in migration.differences(dag_id))
    return (f'<p>Migration stage <b>{_e(migration.stage(dag_id))}</b>; last shadow comparison: '
            f'{_e(migration.shadow(dag_id))}.</p>' + (f'<ul class="findings">{differences}</ul>' if differences else ""))


def _summary(report: dict[str, Any], views: list[DagView], migration: MigrationView | None = None) -> str:
    s = report["summary"]
    fates = {f: s.get(f, 0) for f in FATES}
    verdicts = {v: sum(1 for view in views if view.verdict == v) for v in VERDICTS}
    done, total, percent = runs_as_is(s)
    cards = [("files", s["files"]), ("DAGs", s["dags"]), ("tasks", s["tasks"])] + [(f, fates[f]) for f in FATES] + [
        ("run as is (converted + folded)", f"{percent:.0f}% ({done}/{total})"),
        ("pipelines compiled", f'{s["compiled"]}/{s["dags"]}')] + [(v, verdicts[v]) for v in VERDICTS]
    legend = "".join(f'<span title="{_e(FATE_MEANING[f])}"><i class="f-{f}"></i>{f}</span>' for f in FATES)
    findings = s["findings"]
    return (
        '<section id="summary"><h2>Repository summary</h2><div class="cards">'
        + "".join(f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards)
        + f'</div>{_bar(fates)}<div class="legend">{legend}</div>'
        f'<p>Findings: <span class="sev-error">{findings["error"]} error</span>, '
        f'<span class="sev-warning">{findings["warning"]} warning</span>, <span class="sev-info">{findings["info"]} info</span>.</p>'
        '<p class="mute">Fate per task: ' + "; ".join(f"<b>{f}</b> = {_e(FATE_MEANING[f])}" for f in FATES) + '.</p>'
        '<p class="mute">Verdict per DAG: <b>blocked</b> = an error finding, a pipeline that did not compile or an unsupported '
        'task; <b>needs review</b> = a warning finding or a task to review; <b>ready</b> = neither.</p>'
        + _migration(views, migration) + '</section>'
    )


def _dag_list(views: list[DagView], migration: MigrationView | None = None) -> str:
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in VERDICTS)
    head = ('<tr><th data-sort="s">verdict</th><th data-sort="s">DAG</th><th data-sort="s">file</th>'
            + "".join(f'<th class="n" data-sort="n">{f}</th>' for f in ("tasks", *FATES, "errors", "warnings"))
            + '<th data-sort="s">compiled</th>'
            + ('<th data-sort="s">stage</th><th data-sort="s">last shadow</th>' if migration else "") + '</tr>')
    rows = []
    for view in views:
        dag = view.dag
        rank = VERDICTS.index(view.verdict)
        nums = [len(dag["airflow"]["tasks"]), *(view.fates[f] for f in FATES), view.severities["error"], view.severities["warning"]]
        rows.append(
            f'<tr data-verdict="{_e(view.verdict)}" data-q="{_e((dag["dag_id"] + " " + dag["file"]).lower())}">'
            f'<td data-v="{rank}">{_verdict(view.verdict)}</td><td><a href="#{view.anchor}">{_e(dag["dag_id"])}</a></td>'
            f'<td>{_e(dag["file"])}</td>' + "".join(f'<td class="n">{n}</td>' for n in nums)
            + f'<td>{"yes" if dag["kfp"].get("compiled") else "<b>no</b>"}</td>'
            + (f'<td>{_e(migration.stage(dag["dag_id"]))}</td><td>{_e(migration.shadow(dag["dag_id"]))}</td>'
               if migration else "") + '</tr>'
        )
    return (
        '<section id="dags"><h2>DAGs</h2><div class="filters"><input id="filter" type="search" '
        'placeholder="filter by DAG id or file" aria-label="filter DAGs"><select id="verdict" aria-label="verdict">'
        f'<option value="">every verdict</option>{options}</select><span id="shown" class="mute">{len(views)} shown</span></div>'
        f'<table id="daglist"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _coverage(report: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td>{_e(label)}</td><td class="n">{sum(c.values())}</td>' + "".join(f'<td class="n">{c[f]}</td>' for f in FATES)
        + f'<td>{_bar(c)}</td></tr>'
        for label, c in operator_coverage(report)
    )
    head = "<tr><th>operator</th><th class=\"n\">tasks</th>" + "".join(f'<th class="n">{f}</th>' for f in FATES) + "<th></th></tr>"
    return f'<section id="coverage"><h2>Operator coverage</h2><table>{head}{rows}</table></section>'


def _codes(report: dict[str, Any], codes: dict[str, FindingCode]) -> str:
    rows = "".join(
        f'<tr><td><b>{_e(code)}</b></td><td class="sev-{_e(sev)}">{_e(sev)}</td><td>{_e(title)}'
        f'<br><span class="sugg">{_e(codes[code].help) if code in codes else ""}</span></td><td class="n">{n}</td></tr>'
        for code, sev, title, n in findings_by_code(report, codes)
    )
    return ('<section id="codes"><h2>Findings by code</h2><table><tr><th>code</th><th>severity</th><th>meaning</th>'
            f'<th class="n">count</th></tr>{rows}</table></section>')


def render_html(report: dict[str, Any], sources: Sources, *, title: str = "af2kfp migration report",
                migration: MigrationView | None = None) -> str:
    """The whole HTML report of a ``report.json`` document; ``migration`` adds each DAG's migration
    stage and last shadow comparison, and the stage counts."""
    codes = finding_codes()
    views = dag_views(report)
    files = file_findings(report)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_e(title)}</title>'
        f'<meta name="generator" content="af2kfp"><style>{CSS}</style></head><body>{ARROW_DEFS}',
        f'<header><h1>{_e(title)}</h1><p class="mute">Airflow DAGs \u2192 Kubeflow Pipelines v2, generated {stamp} by af2kfp '
        f'from report.json (schema {_e(report.get("schema_version"))}).</p></header>',
        _summary(report, views, migration),
        _dag_list(views, migration),
        _coverage(report),
        _codes(report, codes),
    ]
    if files:
        items = "".join(_finding_li(f) for f in files)
        shown = " open" if len(files) <= _OPEN_FILE_FINDINGS else ""
        parts.append(f'<section id="files"><h2>File findings</h2><details{shown}><summary>{len(files)} findings about files '
                     f'(parse errors, files without a DAG)</summary><ul class="findings">{items}</ul></details></section>')
    parts.append('<section id="details"><h2>DAG by DAG</h2><p class="tools"><button type="button" data-all="open">expand all</button>'
                 '<button type="button" data-all="close">collapse all</button> <span class="mute">Click a task in either graph '
                 'to highlight its counterpart.</span></p>')
    seen: dict[tuple[Any, ...], tuple[str, str]] = {}  # Airflow source already shown -> (anchor, task id)
    parts.extend(_dag_section(view, sources, codes, seen, migration) for view in views)
    data = {"summary": report["summary"], "dags": [{"dag_id": v.dag["dag_id"], "file": v.dag["file"], "verdict": v.verdict}
                                                   for v in views]}
    parts.append(f'</section><script type="application/json" id="af2kfp-data">{script_json(data)}</script>'
                 f"<script>{JS}</script></body></html>\n")
    return "".join(parts)
