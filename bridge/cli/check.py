"""``af2kfp check PATH... --fail-on warning|error``: the CI gate and pre-commit hook.

Converts in a temporary folder (or reads a ``report.json``), prints each finding as
``file:line: severity code message`` and exits 1 when one is at or above ``--fail-on``
(0 otherwise, 2 on bad input).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bridge.cli.report import add_input_arguments, load_report
from converters.findings import Severity
from converters.reports.model import plain_message
from converters.text import visible

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


def failing(report: dict[str, Any], fail_on: str) -> list[dict[str, Any]]:
    """The findings at or above ``fail_on``."""
    threshold = Severity(fail_on).rank
    return [f for f in report["findings"] if Severity(f["severity"]).rank >= threshold]


def print_findings(findings: list[dict[str, Any]], stream: TextIO) -> None:
    """``file:line: severity code message``, one line each, as editors and CI logs link them."""
    for f in findings:
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        stream.write(visible(f"{where}: {f['severity']} {f['code']} {plain_message(f)}") + "\n")


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="af2kfp-check-") as tmp:
        report, _ = load_report(args, Path(tmp))
    show = Severity(args.show).rank
    print_findings([f for f in report["findings"] if Severity(f["severity"]).rank >= show], sys.stdout)
    bad = failing(report, args.fail_on)
    counts = report["summary"]["findings"]
    verdict = f"FAILED: {len(bad)} at or above {args.fail_on}" if bad else "passed"
    sys.stdout.write(f"af2kfp check: {report['summary']['dags']} DAGs, {counts['error']} error, {counts['warning']} warning, "
                     f"{counts['info']} info; --fail-on {args.fail_on}: {verdict}\n")
    return 1 if bad else 0
