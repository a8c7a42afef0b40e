"""``af2kfp report PATH... -o FILE``: a migration report (HTML, Markdown, JSON or SARIF).

PATH is DAG files or folders (converted in a temporary folder) or one existing
``report.json`` (its generated files are read from beside it). The format comes from
FILE's suffix: ``.html``, ``.md``, ``.json``, ``.sarif``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from af2kfp.bridge.cli.inputs import add_conversion_arguments, conversion_config
from af2kfp.converters.errors import InputError

__all__ = ["NAME", "HELP", "add_arguments", "run", "load_report", "add_input_arguments"]

NAME = "report"
HELP = "Write a migration report (.html, .md, .json or .sarif) for DAG files or an existing report.json."


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared with ``af2kfp check``: what to read and how to convert it."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="DAG files or folders, or one report.json")
    add_conversion_arguments(parser)
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="worker processes for the conversion (default: CPUs available, at most 4)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="report file; its suffix picks the format: .html, .md, .json, .sarif")
    parser.add_argument("--source-root", metavar="DIR",
                        help="folder the DAG file paths in the report are relative to (default: the current folder)")
    parser.add_argument("--state", metavar="FILE",
                        help="migration state file (af2kfp-migration.yaml): the HTML and Markdown reports show each "
                             "DAG's stage and last shadow comparison (docs/migration.md)")


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read report.json: {exc}") from None
    if not isinstance(report, dict) or not {"schema_version", "summary", "dags", "findings"} <= report.keys():
        raise InputError(f"{path}: not an af2kfp report.json (schema_version, summary, dags and findings expected)")
    return report


def load_report(args: argparse.Namespace, workdir: Path) -> tuple[dict[str, Any], Path]:
    """The report and the folder holding its generated files: read, or converted into ``workdir``."""
    paths = [Path(p) for p in args.paths]
    if len(paths) == 1 and paths[0].suffix == ".json" and paths[0].is_file():
        return _read_report(paths[0]), paths[0].resolve().parent
    config = conversion_config(args, paths)  # bad input fails before the converter loads
    from af2kfp.converters.convert import convert_paths, default_jobs

    jobs = default_jobs() if args.jobs is None else args.jobs
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, not {jobs}")
    report = convert_paths(paths, workdir, config=config, jobs=jobs)
    return report, workdir


def run(args: argparse.Namespace) -> int:
    from af2kfp.converters.reports import FORMATS, write_report

    output = Path(args.output)
    if output.suffix.lower() not in FORMATS:
        raise InputError(f"{output}: unknown report format {output.suffix or '(no suffix)'!r}; use {', '.join(sorted(FORMATS))}")
    root = Path(args.source_root) if args.source_root else None
    migration = None
    if args.state:
        from af2kfp.bridge.migration.state import MigrationState
        from af2kfp.bridge.migration.status import migration_view

        path = Path(args.state)
        if not path.is_file():
            raise InputError(f"--state {path}: no such file")
        migration = migration_view(MigrationState.load(path))
    with tempfile.TemporaryDirectory(prefix="af2kfp-report-") as tmp:
        report, report_dir = load_report(args, Path(tmp))
        write_report(report, output, report_dir=report_dir, source_root=root, migration=migration)
    s = report["summary"]
    sys.stdout.write(f"af2kfp report: {s['dags']} DAGs, {s['tasks']} tasks, {s['findings']['total']} findings -> {output}\n")
    return 0
