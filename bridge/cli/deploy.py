"""``af2kfp deploy OUT --host URL``: every DAG of a convert output on KFP, idempotently.

Per DAG: the pipeline (by name), a version named after its compiled content (only when that
content is new), the experiment, and the recurring run from ``schedule.json``, enabled only
at stage ``kfp-scheduled`` of the migration state file (``af2kfp-migration.yaml``). One
line per DAG, then a summary; ``--dry-run`` prints the plan and changes nothing. See
``docs/deploy.md`` and :mod:`af2kfp.bridge.migration.deploy`.

Exit codes: 0 done; 1 done, with a problem at or above ``--fail-on`` (default ``error``: a
DAG that could not be deployed; ``warning`` adds DAGs skipped as blocked and recurring runs
that cannot be made), or KFP could not be reached; 2 bad input (no convert output, a bad
state file, unknown ``--only`` DAG, refused credentials); 3 internal error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from af2kfp.bridge.cli.kfp_options import add_kfp_arguments, check_kfp_arguments, kfp_config
from af2kfp.converters.errors import InputError

__all__ = ["NAME", "HELP", "add_arguments", "run", "format_line", "exit_code"]

NAME = "deploy"
HELP = (
    "upload a convert output's pipelines to KFP (a new version only when the compiled spec changed), "
    "with their experiment and recurring runs; idempotent, --dry-run shows the plan"
)
EXIT_OK, EXIT_PROBLEMS = 0, 1
FAIL_ON = ("warning", "error", "none")
_RANK = {"warning": 1, "error": 2}



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", metavar="OUT", help="the folder af2kfp convert -o wrote (with report.json)")
    add_kfp_arguments(parser)
    parser.add_argument(
        "--experiment", metavar="NAME", default="Default",
        help="experiment of the recurring runs, created when missing (default: Default)",
    )
    parser.add_argument(
        "--state", metavar="FILE",
        help="migration state file (default: af2kfp-migration.yaml in the repository root above the current "
             "folder, the nearest one holding pyproject.toml, .git or airflow.cfg; else the current folder)",
    )
    parser.add_argument("--only", nargs="+", action="extend", metavar="DAG_ID", help="deploy only these DAGs")
    parser.add_argument(
        "--paused", action="store_true", help="keep every recurring run disabled, whatever the stage says"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing (KFP or state file)")
    parser.add_argument(
        "--fail-on", choices=FAIL_ON, default="error",
        help="exit 1 when a problem is at or above this severity (default: error)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


_PLANNED = {"created": "create", "updated": "update", "skipped": "skip"}


def format_line(result: Any, width: int, *, dry_run: bool = False) -> str:
    """One DAG: its outcome (in a dry run, what would be done), then each object with what
    deploy does to it."""
    outcome = _PLANNED.get(result.outcome, result.outcome) if dry_run else result.outcome
    head = f"{result.dag_id:<{width}}  {outcome:<9}"
    if not result.steps or result.outcome == "failed":
        return f"{head}  " + "; ".join(p.message for p in result.problems)
    parts = []
    for step in result.steps:
        name = f" {step.name}" if step.object == "version" else ""
        part = f"{step.object}{name} {step.action}"
        if step.detail:
            part += f" ({step.detail})"
        parts.append(part)
    return f"{head}  " + " · ".join(parts)  # a warning of a deployed DAG is in its step's detail


def _summary(report: Any) -> str:
    counts = report.counts()
    problems = report.problems
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = sum(1 for p in problems if p.severity == "warning")
    text = (
        f"{len(report.dags)} DAGs: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['skipped']} skipped, {counts['failed']} failed; "
        f"{errors} error(s), {warnings} warning(s)"
    )
    if report.dry_run:
        return text + "\ndry run: this is the plan; nothing was changed on KFP or in the state file"
    if not report.changes_kfp:
        return text + "\nnothing to change: KFP already has every deployable DAG as planned; nothing was created"
    return text


def exit_code(report: Any, fail_on: str) -> int:
    if fail_on == "none":
        return EXIT_OK
    threshold = _RANK[fail_on]
    return EXIT_PROBLEMS if any(_RANK[p.severity] >= threshold for p in report.problems) else EXIT_OK


def _deploy(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from af2kfp.bridge.kfp import KfpAuthError, KfpClient, KfpError, KfpNotFoundError
    from af2kfp.bridge.migration.deploy import Deployer, DeployOptions
    from af2kfp.bridge.migration.output import read_output
    from af2kfp.bridge.migration.state import MigrationState, default_state_path

    check_kfp_arguments(args)
    output = read_output(Path(args.output))
    state = MigrationState.load(Path(args.state) if args.state else default_state_path())
    err.write(f"af2kfp: state {state.path}{'' if state.existed else ' (new)'}\n")
    config = kfp_config(args)
    options = DeployOptions(
        host=config.host, experiment=args.experiment, namespace=args.namespace,
        dry_run=args.dry_run, paused=args.paused,
    )
    selected = [d for d in output.dags if not args.only or d.dag_id in args.only]
    width = max((len(d.dag_id) for d in selected), default=10)
    text = args.format == "text"
    if text:
        out.write(f"af2kfp deploy{' (dry run)' if args.dry_run else ''}: {output.folder} -> {config.host}\n")

    def show(result: Any) -> None:
        if text:
            out.write(format_line(result, width, dry_run=args.dry_run) + "\n")
            out.flush()

    try:
        with KfpClient(config) as kfp:
            report = Deployer(kfp, state, options).run(output, args.only, on_result=show)
    except (KfpAuthError, KfpNotFoundError) as exc:
        raise InputError(str(exc)) from None
    except KfpError as exc:
        if isinstance(exc, InputError):
            raise
        err.write(f"af2kfp: error: {exc}\n")
        return EXIT_PROBLEMS
    if text:
        experiment = report.experiment
        out.write(f"experiment {experiment.name} {experiment.action}\n" + _summary(report) + "\n")
        if not report.dry_run:
            out.write(f"state: {state.path}\n")
    else:
        import json

        out.write(json.dumps(report.to_json(), indent=2) + "\n")
    return exit_code(report, args.fail_on)


def run(args: argparse.Namespace) -> int:
    """An unexpected exception is an internal error (exit 3): af2kfp.bridge.cli.main says so."""
    return _deploy(args, sys.stdout, sys.stderr)
