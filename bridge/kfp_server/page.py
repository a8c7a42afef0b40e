"""The page at ``/``: where the run links the tools print land.

``af2kfp run`` and the Airflow provider link to a run as the KFP UI does,
``{host}/#/runs/details/{run_id}``; a browser asks this server for ``/``. The
page lists the newest runs, each row's id being the fragment of its link (the
browser scrolls to it and ``:target`` marks it), with its state, whether it
was simulated or executed, and a link to the run's API object. No script.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["CONTENT_SECURITY_POLICY", "MAX_RUNS", "render"]

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
MAX_RUNS = 500
_STYLE = (
    "body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}"
    "tr:target{background:#ffe9a8}code{font-size:12px}"
)


def _row(run: dict[str, Any]) -> str:
    note = (run.get("plugins_output") or {}).get("af2kfp-kfp-server") or {}
    execution = ((note.get("entries") or {}).get("execution") or {}).get("value", "")
    run_id = str(run["run_id"])
    cells = [
        html.escape(run.get("display_name", "")),
        html.escape(run.get("state", "")),
        html.escape(str(execution)),
        html.escape(run.get("created_at", "")),
        html.escape(run.get("scheduled_at", "") if run.get("recurring_run_id") else ""),
        f'<a href="/apis/v2beta1/runs/{html.escape(run_id)}"><code>{html.escape(run_id)}</code></a>',
        html.escape((run.get("error") or {}).get("message", "") or note.get("state_message", "")),
    ]
    return f'<tr id="/runs/details/{html.escape(run_id)}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _recurring_row(recurring: dict[str, Any]) -> str:
    trigger = recurring.get("trigger") or {}
    cron, periodic = trigger.get("cron_schedule") or {}, trigger.get("periodic_schedule") or {}
    when = f"cron {cron.get('cron', '')}" if cron else f"every {periodic.get('interval_second', '?')} s"
    bounds = cron or periodic
    window = " to ".join(str(bounds[k]) for k in ("start_time", "end_time") if bounds.get(k))
    recurring_id = str(recurring["recurring_run_id"])
    cells = [
        html.escape(recurring.get("display_name", "")),
        html.escape(when),
        html.escape(window),
        html.escape(recurring.get("status", "")),
        html.escape(str(recurring.get("max_concurrency", ""))),
        f'<a href="/apis/v2beta1/recurringruns/{html.escape(recurring_id)}"><code>{html.escape(recurring_id)}</code></a>',
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def render(api: Any) -> str:
    """The page: this server, its recurring runs, then its newest runs (at most :data:`MAX_RUNS`)."""
    runs = api.list_runs({"sort_by": "created_at desc", "page_size": str(MAX_RUNS)}).get("runs") or []
    rows = "\n".join(_row(r) for r in runs) or '<tr><td colspan="7">no runs yet</td></tr>'
    recurring = api.recurring.list({"sort_by": "created_at desc", "page_size": str(MAX_RUNS)}).get("recurringRuns")
    schedules = "\n".join(_recurring_row(r) for r in recurring or ()) or '<tr><td colspan="6">none</td></tr>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>af2kfp kfp-server</title><style>{_STYLE}</style></head>
<body><h1>af2kfp kfp-server</h1>
<p>A local KFP API (v2beta1) for tests and demos; it has no KFP UI. Each run is also at
<code>/apis/v2beta1/runs/RUN_ID</code>. Runs marked <b>simulated</b> ran nothing: their state follows
a scripted fate. Runs marked <b>kfp.local</b> were executed on this machine (server started with
<code>--execute</code>).</p>
<h2>Recurring runs</h2>
<table><thead><tr><th>recurring run</th><th>schedule (UTC)</th><th>between</th><th>status</th>
<th>max concurrency</th><th>id (API object)</th></tr></thead>
<tbody>
{schedules}
</tbody></table>
<h2>Runs</h2>
<table><thead><tr><th>run</th><th>state</th><th>execution</th><th>created</th><th>scheduled for</th>
<th>id (API object)</th><th>note</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
