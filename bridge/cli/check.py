"""``af2kfp check PATH... --fail-on warning|error``: the CI gate and pre-commit hook.

Analyzes, maps and emits the DAGs without compiling or writing anything (kfp is not even
imported: a pre-commit hook runs this many times a day), or with ``--compile`` converts in a
temporary folder as ``convert`` does, or reads a ``report.json``. Prints each finding as
``file:line: severity code message`` and exits 1 when one is at or above ``--fail-on``
(0 otherwise, 2 on bad input).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from af2kfp.bridge.cli.inputs import conversion_config
from af2kfp.bridge.cli.report import add_input_arguments, load_report
from af2kfp.converters.findings import Severity
from af2kfp.converters.reports.model import plain_message
from af2kfp.converters.text import visible

__all__ = ["NAME", "HELP", "add_arguments", "run", "failing", "print_findings"]

NAME = "check"
HELP = "Check DAG files for conversion findings; exit 1 when one is at or above --fail-on (for CI and pre-commit)."
LEVELS = ("info", "warning", "error")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--fail-on", choices=("warning", "error"), default="error",
                        help="exit 1 when a finding at or above this severity exists (default: error)")
    parser.add_argument("--show", choices=LEVELS, default="warning",
                        help="print findings at or above this severity (default: warning)")
    parser.add_argument("--compile", action="store_true",
                        help="also compile each pipeline with kfp, as convert does (adds what only compiling finds: "
                             "E301, E311, placeholders for tasks kfp rejects; slower)")


def failing(report: dict[str, Any], fail_on: str) -> list[dict[str, Any]]:
    """The findings at or above ``fail_on``."""
    threshold = Severity(fail_on).rank
    return [f for f in report["findings"] if Severity(f["severity"]).rank >= threshold]


def print_findings(findings: list[dict[str, Any]], stream: TextIO) -> None:
    """``file:line: severity code message``, one line each, as editors and CI logs link them."""
    for f in findings:
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        stream.write(visible(f"{where}: {f['severity']} {f['code']} {plain_message(f)}") + "\n")


def _report(args: argparse.Namespace) -> dict[str, Any]:
    paths = [Path(p) for p in args.paths]
    if args.compile or (len(paths) == 1 and paths[0].suffix == ".json" and paths[0].is_file()):
        with tempfile.TemporaryDirectory(prefix="af2kfp-check-") as tmp:
            return load_report(args, Path(tmp))[0]
    config = conversion_config(args, paths)  # bad input fails before the converter loads
    from af2kfp.converters.check import check_paths

    return check_paths(paths, config)


def run(args: argparse.Namespace) -> int:
    report = _report(args)
    show = Severity(args.show).rank
    print_findings([f for f in report["findings"] if Severity(f["severity"]).rank >= show], sys.stdout)
    bad = failing(report, args.fail_on)
    counts = report["summary"]["findings"]
    verdict = f"FAILED: {len(bad)} at or above {args.fail_on}" if bad else "passed"
    sys.stdout.write(f"af2kfp check: {report['summary']['dags']} DAGs, {counts['error']} error, {counts['warning']} warning, "
                     f"{counts['info']} info; --fail-on {args.fail_on}: {verdict}\n")
    return 1 if bad else 0
