"""``af2kfp convert PATH... -o OUT``: DAG files -> KFP pipelines, plus ``report.json``."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from af2kfp.bridge.cli.inputs import add_conversion_arguments, conversion_config
from af2kfp.converters.errors import InputError
from af2kfp.converters.findings import Severity
from af2kfp.converters.text import visible

__all__ = ["NAME", "HELP", "add_arguments", "run", "exit_code", "format_text", "INTERNAL_CODES"]

NAME = "convert"
HELP = "Convert Airflow DAG files into KFP v2 pipelines (pipeline.py, pipeline.yaml) and report.json."
FAIL_ON = ("info", "warning", "error", "none")
SHOW = ("info", "warning", "error")
# Findings that are af2kfp's own failures (a bug to report), not the DAGs': exit 3 whatever --fail-on says.
INTERNAL_CODES = frozenset({"A115", "E302", "E303", "E310"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="DAG files or folders to convert")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    parser.add_argument("--fail-on", choices=FAIL_ON, default="error",
                        help="exit 1 when a finding at or above this severity exists (default: error)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text summary or the whole report as JSON on stdout")
    parser.add_argument("--show", choices=SHOW, default="info",
                        help="print findings at or above this severity, as `af2kfp check --show` (default: info, all; "
                             "every finding is in the reports whatever this says)")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="processes to use: this one emits, the others compile "
                             "(default: CPUs available, at most 4; 1 = all in this process)")
    parser.add_argument("--no-cache", action="store_true",
                        help="convert everything again even when nothing changed since the last run into OUT")
    parser.add_argument("--force", action="store_true",
                        help="overwrite output files changed since af2kfp wrote them (default: keep them and "
                             "write the new ones beside them as pipeline.generated.py, ...)")
    add_conversion_arguments(parser)


def exit_code(report: dict[str, Any], fail_on: str) -> int:
    """0, or 1 when a finding is at or above ``fail_on`` (never for ``none``), or 3 when af2kfp itself failed
    on some file or DAG (:data:`INTERNAL_CODES`; the rest was converted and reported)."""
    if any(f.get("code") in INTERNAL_CODES for f in report["findings"]):
        return 3
    if fail_on == "none":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(Severity(f["severity"]).rank >= threshold for f in report["findings"]) else 0


def format_text(report: dict[str, Any], out: str, stream: TextIO, show: str = "info") -> None:
    """A short summary, then each finding at or above ``show`` as ``file:line: severity code message`` and its
    suggestion, then where the report a person reads (``report.html``) is."""
    s = report["summary"]
    stream.write(
        f"af2kfp convert: {s['files']} files, {s['dags']} DAGs, {s['tasks']} tasks "
        f"({s['converted']} converted, {s['folded']} folded, {s['review']} review, {s['unsupported']} unsupported), "
        f"{s['compiled']}/{s['dags']} pipelines compiled -> {out}\n"
    )
    threshold = Severity(show).rank
    shown = [f for f in report["findings"] if Severity(f["severity"]).rank >= threshold]
    for f in shown:
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        stream.write(visible(f"{where}: {f['severity']} {f['code']} {f['message']}") +
                     f"\n    suggestion: {visible(f['suggestion'])}\n")
    counts = s["findings"]
    hidden = len(report["findings"]) - len(shown)
    from af2kfp.converters.convert import REPORT_NAME  # loaded by the conversion already; not for --help
    from af2kfp.converters.reports import HTML_NAME

    stream.write(f"findings: {counts['error']} error, {counts['warning']} warning, {counts['info']} info"
                 + (f" ({hidden} below {show} not shown)" if hidden else "") + "\n")
    html = Path(out) / HTML_NAME
    if html.is_file():
        stream.write(f"report: {html} (open it in a browser; report.md and {REPORT_NAME} beside it)\n")
    else:  # the views failed (a finding says why); the record is always written
        stream.write(f"report: {Path(out) / REPORT_NAME}\n")


class _ProgressLine:
    """One self-overwriting line on a terminal: files analyzed, then DAGs converted, each over its total
    (``files 120/1000 dags/etl.py``, ``DAGs 12/40 [=====     ] etl_daily``); cleared when the DAGs are done."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.files = ""

    def _show(self, line: str, last: bool) -> None:
        self.stream.write(f"\r{line[:79]:<79}" + ("\r" + " " * 79 + "\r" if last else ""))
        self.stream.flush()

    def file(self, done: int, total: int, name: str) -> None:
        self.files = f"files {done}/{total}"
        self._show(f"{self.files} {name}", False)

    def dag(self, done: int, total: int, dag_id: str) -> None:
        width = 20
        filled = width * done // max(total, 1)
        self._show(f"{self.files} DAGs {done}/{total} [{'=' * filled}{' ' * (width - filled)}] {dag_id}",
                   done == total)


def _collect_less() -> None:
    """A conversion builds many long-lived objects (syntax trees, graphs, kfp specs) and little
    cyclic garbage: the collector rescanning them cost ~15% of a run. The objects of the imports
    are frozen out of collection and collections come less often (a few MB more at most)."""
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)


def run(args: argparse.Namespace) -> int:
    """Convert; errors in the input raise ``InputError`` (exit 2, handled by the CLI frame)."""
    config = conversion_config(args, [Path(p) for p in args.paths])  # bad input fails before the imports
    from af2kfp.converters.convert import convert_paths, default_jobs  # here: `af2kfp --help` needs none of it

    _collect_less()
    line = _ProgressLine(sys.stderr) if sys.stderr.isatty() else None  # never into a pipe or a log file
    jobs = default_jobs() if args.jobs is None else args.jobs
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, not {jobs}")
    paths, out = [Path(p) for p in args.paths], Path(args.output)
    from af2kfp.converters.cache import lookup

    hit = None if args.no_cache else lookup(paths, out, config)
    if hit is not None:
        report = hit.report
        sys.stderr.write(f"af2kfp: cache: {hit.dags} of {hit.dags} DAGs unchanged since the last conversion into {out}; "
                         "nothing converted or rewritten (--no-cache converts again)\n")
    else:
        report = convert_paths(paths, out, config=config, progress=line and line.dag, jobs=jobs,
                               cache=not args.no_cache, force=args.force, file_progress=line and line.file)
    try:
        if args.format == "json":
            json.dump(report, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            format_text(report, args.output, sys.stdout, args.show)
        sys.stdout.flush()
    except BrokenPipeError:  # `af2kfp convert ... | head`: the reader left, the work is done
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return exit_code(report, args.fail_on)
