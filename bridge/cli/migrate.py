"""``af2kfp migrate status [OUT]``: every DAG's migration stage, deploy state, last shadow
comparison and blockers, from the state file (``af2kfp-migration.yaml``) and, when given,
the convert output. Reads files only. Exit codes: 0 done, 2 bad input, 3 internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["NAME", "HELP", "add_arguments", "run", "format_table"]

NAME = "migrate"
HELP = "the DAG-by-DAG migration: `af2kfp migrate status [OUT]` shows each DAG's stage, deploy and blockers; `af2kfp migrate stage DAG_ID... STAGE` moves DAGs"
EXIT_OK = 0



def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="migrate_command", metavar="ACTION", required=True)
    status = sub.add_parser(
        "status", help="a table of every DAG's stage, deploy state, last shadow comparison and blockers",
        description="A table of every DAG's stage, deploy state, last shadow comparison and blockers "
                    "(findings at error and warning level, counted). Reads files only.",
    )
    status.add_argument("output", nargs="?", metavar="OUT", help="the folder af2kfp convert -o wrote")
    status.add_argument(
        "--state", metavar="FILE",
        help="migration state file (default: af2kfp-migration.yaml in the repository root above the current "
             "folder; see af2kfp deploy --help)",
    )
    status.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    stage = sub.add_parser(
        "stage", help="move DAGs to a stage (the same as editing their `stage` in the state file)",
        description="Move DAGs to a stage: writes their `stage` in the state file (comments and the rest of "
                    "each entry kept). Then run af2kfp deploy and af2kfp cutover again.",
    )
    stage.add_argument("dag_ids", nargs="+", metavar="DAG_ID")
    stage.add_argument("stage", metavar="STAGE", help="airflow, shadow, kfp or kfp-scheduled")
    stage.add_argument("--state", metavar="FILE", help="migration state file (default: as for status)")


def _findings(row: Any) -> str:
    counts = row.findings
    if not row.in_output:
        return "not in OUT"
    text = f"{counts['error']} error, {counts['warning']} warning"
    return text + (" (blocked)" if row.blockers else "")


def _deploy(row: Any) -> str:
    if row.deploy == "not deployed":
        return row.deploy
    return f"{row.version} ({row.deploy})"


def format_table(rows: list[Any]) -> list[str]:
    """The rows as an aligned text table, stage counts last."""
    from af2kfp.bridge.migration.status import stage_counts

    header = ("DAG", "stage", "findings", "deployed", "recurring run", "shadow")
    cells = [
        (
            r.dag_id,
            r.stage + ("" if r.has_entry else " (no entry)") + (" paused" if r.paused else ""),
            _findings(r),
            _deploy(r),
            r.recurring_run,
            r.shadow,
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    lines = ["  ".join(str(c[i]).ljust(widths[i]) for i in range(len(header))).rstrip() for c in [header, *cells]]
    counts = stage_counts(rows)
    lines.append(f"{len(rows)} DAGs: " + ", ".join(f"{n} {stage}" for stage, n in counts.items()))
    return lines


def _status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from af2kfp.bridge.migration.output import read_output
    from af2kfp.bridge.migration.state import MigrationState, default_state_path
    from af2kfp.bridge.migration.status import stage_counts, status_rows

    output = read_output(Path(args.output)) if args.output else None
    state = MigrationState.load(Path(args.state) if args.state else default_state_path())
    err.write(f"af2kfp: state {state.path}{'' if state.existed else ' (none yet: every DAG is at stage airflow)'}\n")
    rows = status_rows(state, output)
    if args.format == "json":
        document = {
            "state_file": str(state.path),
            "output": str(output.folder) if output else None,
            "stages": stage_counts(rows),
            "dags": [r.to_json() for r in rows],
        }
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write("\n".join(format_table(rows)) + "\n")
    return EXIT_OK


def _stage(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from af2kfp.bridge.migration.state import MigrationState, default_state_path

    state = MigrationState.load(Path(args.state) if args.state else default_state_path())
    for dag_id in args.dag_ids:
        state.set_stage(dag_id, args.stage)
    state.save()
    out.write(f"{', '.join(args.dag_ids)}: stage {args.stage} ({state.path}); now run af2kfp deploy and af2kfp cutover\n")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """An unexpected exception is an internal error (exit 3): af2kfp.bridge.cli.main says so."""
    if args.migrate_command == "stage":
        return _stage(args, sys.stdout, sys.stderr)
    return _status(args, sys.stdout, sys.stderr)
