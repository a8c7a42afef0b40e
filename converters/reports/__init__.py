"""Migration reports built from ``report.json``: HTML (side by side), Markdown (pull requests), SARIF (CI).

``write_reports(report, out_dir)`` writes ``report.html`` and ``report.md`` next to
``report.json``; ``write_report(report, path)`` writes one report in the format its suffix
names (``.html``, ``.md``, ``.json``, ``.sarif``). Layout: ``model`` (verdicts, counts,
checklists), ``layout`` + ``svg`` (the shared graph layout), ``sources`` (DAG and generated
files), ``html``/``assets``, ``markdown``, ``sarif``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from af2kfp.converters.errors import InputError
from af2kfp.converters.files import write_text_atomic

if TYPE_CHECKING:
    from af2kfp.converters.reports.migration import MigrationView

__all__ = ["FORMATS", "HTML_NAME", "MARKDOWN_NAME", "write_reports", "write_report", "render"]

HTML_NAME, MARKDOWN_NAME = "report.html", "report.md"
FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".json": "json", ".sarif": "sarif"}


def render(report: dict[str, Any], fmt: str, *, report_dir: Path, source_root: Path | None = None,
           migration: MigrationView | None = None) -> str:
    """One report as text. ``report_dir`` holds the generated files report.json points at;
    ``migration`` (HTML and Markdown) shows each DAG's migration stage."""
    # Imported here: `af2kfp check` reads report.model without loading the renderers.
    from af2kfp.converters.reports.html import render_html
    from af2kfp.converters.reports.markdown import render_markdown
    from af2kfp.converters.reports.sarif import render_sarif
    from af2kfp.converters.reports.sources import Sources

    if fmt == "html":
        return render_html(report, Sources(report_dir, source_root), migration=migration)
    if fmt == "markdown":
        return render_markdown(report, sources=Sources(report_dir, source_root), migration=migration)
    if fmt == "sarif":
        return json.dumps(render_sarif(report, source_root), indent=2) + "\n"
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    raise InputError(f"unknown report format {fmt!r}; use one of {', '.join(sorted(set(FORMATS.values())))}")


def write_report(report: dict[str, Any], path: Path, *, report_dir: Path, source_root: Path | None = None,
                 migration: MigrationView | None = None) -> Path:
    """Write one report in the format ``path``'s suffix names (``InputError`` for another suffix)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown report format {path.suffix or '(no suffix)'!r}; "
                         f"use {', '.join(sorted(FORMATS))}")
    text = render(report, fmt, report_dir=report_dir, source_root=source_root, migration=migration)
    # A lone surrogate (from an escape in a DAG file) has no UTF-8 form: shown as its escape, never a failure.
    write_text_atomic(path, text.encode("utf-8", "backslashreplace").decode("utf-8"))
    return path


def write_reports(report: dict[str, Any], out_dir: Path, *, source_root: Path | None = None,
                  migration: MigrationView | None = None) -> list[Path]:
    """Write ``report.html`` and ``report.md`` into ``out_dir`` (the folder of ``report.json``).

    DAG files named in the report are found relative to ``source_root`` (default: the
    current directory, as ``af2kfp convert`` names them), then to ``out_dir``.
    """
    out_dir = Path(out_dir)
    return [write_report(report, out_dir / name, report_dir=out_dir, source_root=source_root, migration=migration)
            for name in (HTML_NAME, MARKDOWN_NAME)]
