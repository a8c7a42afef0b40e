"""``af2kfp cutover OUT -o AIRFLOW_DAGS_DIR``: the Airflow DAG files of the DAGs at stages
``kfp`` and ``shadow`` of the migration state file (``af2kfp-migration.yaml``).

Stage ``kfp``: ``<dag_id>__kfp.py``, the DAG with its id, schedule and settings, whose work
is the deployed KFP pipeline. Stage ``shadow``: ``<dag_id>__kfp_shadow.py``, a companion
that runs the pipeline after each run of the original and compares the two. Files of DAGs
no longer at those stages are removed. See ``docs/migration.md`` and
:mod:`af2kfp.bridge.migration.cutover`.

Exit codes: 0 done; 1 done, but a DAG was skipped or a file kept (the line says why);
2 bad input (no convert output, a bad state file, an unknown ``--only`` DAG); 3 internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from af2kfp.converters.errors import InputError

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "cutover"
HELP = (
    "write the Airflow DAG files of stages kfp (the DAG runs its KFP pipeline) and shadow (a companion "
    "runs the pipeline after the original and compares), as af2kfp-migration.yaml says"
)
EXIT_OK, EXIT_PROBLEMS = 0, 1
PASSWORD_ENV = "AF2KFP_AIRFLOW_PASSWORD"



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", metavar="OUT", help="the folder af2kfp convert -o wrote (with report.json)")
    parser.add_argument(
        "-o", "--dags-folder", required=True, metavar="AIRFLOW_DAGS_DIR",
        help="where the DAG files go: Airflow's DAGs folder or a folder in it",
    )
    parser.add_argument(
        "--mode", choices=("shadow", "kfp"), action="append",
        help="handle only this kind of file (default both): shadow companions, or the DAGs cut over to KFP",
    )
    parser.add_argument(
        "--state", metavar="FILE",
        help="migration state file (default: af2kfp-migration.yaml in the repository root above the current folder)",
    )
    parser.add_argument("--only", nargs="+", action="extend", metavar="DAG_ID", help="only these DAGs")
    parser.add_argument(
        "--root", metavar="DIR",
        help="the folder af2kfp convert ran in (report.json's DAG file paths are relative to it; default: here)",
    )
    parser.add_argument(
        "--kfp-conn-id", default="kfp_default", metavar="CONN", help="Airflow connection to KFP (default kfp_default)"
    )
    parser.add_argument(
        "--on-difference", choices=("fail", "warn"), default="fail",
        help="a shadow run whose KFP run differs from the Airflow run fails (default) or only warns",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=30.0, metavar="S",
        help="seconds between two looks at the KFP run / the original run (default 30)",
    )
    parser.add_argument(
        "--wait-timeout", type=float, default=24 * 3600.0, metavar="S",
        help="seconds a shadow run waits for the original's run (default 86400)",
    )
    airflow = parser.add_argument_group(
        "Airflow (optional): record each shadow DAG's last comparison in the state file",
    )
    airflow.add_argument("--airflow-url", metavar="URL", help="Airflow API server base URL")
    airflow.add_argument("--airflow-user", metavar="USER")
    airflow.add_argument("--airflow-password", metavar="PW", help=f"prefer the {PASSWORD_ENV} environment variable")
    airflow.add_argument("--airflow-token", metavar="JWT", help="a ready bearer token instead of user and password")
    airflow.add_argument("--airflow-ca-bundle", metavar="FILE", help="CA bundle for Airflow's certificate")
    parser.add_argument("--force", action="store_true", help="replace or remove files changed by hand")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done; write nothing")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def _line(result: Any, width: int, dry_run: bool) -> str:
    action = {"write": "would write", "remove": "would remove"}.get(result.action, result.action) if dry_run else result.action
    text = f"{result.dag_id:<{width}}  {result.stage:<13}  {action:<12} {result.path.name}"
    details = list(result.problems) + list(result.notes)
    return text + (f"  ({'; '.join(details)})" if details else "")


def _cutover(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from af2kfp.bridge.migration.cutover import KINDS, CutoverOptions, cutover
    from af2kfp.bridge.migration.output import read_output
    from af2kfp.bridge.migration.state import MigrationState, default_state_path

    output = read_output(Path(args.output))
    state = MigrationState.load(Path(args.state) if args.state else default_state_path())
    err.write(f"af2kfp: state {state.path}{'' if state.existed else ' (none yet: every DAG is at stage airflow)'}\n")
    if args.only:
        known = {d.dag_id for d in output.dags} | {e.dag_id for e in state.entries()}
        unknown = [d for d in args.only if d not in known]
        if unknown:
            raise InputError(f"--only: no DAG {', '.join(unknown)} in {args.output} or the state file")
    folder = Path(args.dags_folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"-o {folder}: not a folder")
    options = CutoverOptions(
        folder=folder, kinds=tuple(k for k in KINDS if not args.mode or k in args.mode),
        kfp_conn_id=args.kfp_conn_id, on_difference=args.on_difference, poll_interval=args.poll_interval,
        wait_timeout=args.wait_timeout, dry_run=args.dry_run, force=args.force,
    )
    width = max([len(d.dag_id) for d in output.dags] + [10])
    recorded = _record_shadows(args, state, err) if args.airflow_url else {}
    text = args.format == "text"

    def show(result: Any) -> None:
        if text:
            out.write(_line(result, width, args.dry_run) + "\n")

    results = cutover(output, state, options, root=Path(args.root) if args.root else None, only=args.only, on_result=show)
    counts = {a: sum(1 for r in results if r.action == a) for a in ("write", "unchanged", "remove", "keep", "skip")}
    if text:
        summary = ", ".join(f"{n} {a}" for a, n in counts.items())
        out.write(f"{len(results)} file(s) in {folder}: {summary}" + (" (dry run: nothing written)" if args.dry_run else "") + "\n")
    else:
        out.write(json.dumps({"dags_folder": str(folder), "dry_run": args.dry_run, "counts": counts,
                              "files": [r.to_json() for r in results], "shadows": recorded}, indent=2) + "\n")
    return EXIT_PROBLEMS if any(r.problems for r in results) else EXIT_OK


def _record_shadows(args: argparse.Namespace, state: Any, err: TextIO) -> dict[str, Any]:
    """Each shadow DAG's last comparison (its compare task's XCom in Airflow), into the state file."""
    import os

    from af2kfp.bridge.compare import AirflowApiError, AirflowSettings
    from af2kfp.bridge.compare.airflow_api import latest_xcom
    from af2kfp.bridge.migration.cutover import COMPARE_TASK, SHADOW_XCOM, shadow_dag_id

    password = args.airflow_password or (os.environ.get(PASSWORD_ENV) if args.airflow_user else None)
    settings = AirflowSettings(
        url=args.airflow_url, username=args.airflow_user, password=password, token=args.airflow_token,
        verify=args.airflow_ca_bundle or True,
    )
    recorded: dict[str, Any] = {}
    for entry in state.entries():
        if entry.stage != "shadow":
            continue
        try:
            found = latest_xcom(settings, shadow_dag_id(entry.dag_id), COMPARE_TASK, SHADOW_XCOM)
        except AirflowApiError as exc:
            if isinstance(exc, InputError) and "not found" not in str(exc):
                raise
            err.write(f"af2kfp: {entry.dag_id}: no shadow comparison read from Airflow: {exc}\n")
            continue
        if found is None or not isinstance(found[1], dict):
            err.write(f"af2kfp: {entry.dag_id}: no finished shadow run with a comparison yet\n")
            continue
        run_id, value = found
        record = {k: value.get(k) for k in ("verdict", "compared_at", "airflow_run_id", "kfp_run_id", "differences")}
        record["shadow_run_id"] = run_id
        recorded[entry.dag_id] = record
        if not args.dry_run:
            state.record_shadow(entry.dag_id, record)
        err.write(f"af2kfp: {entry.dag_id}: last shadow comparison {record['verdict']} ({run_id})\n")
    if not args.dry_run:
        state.save()
    return recorded


def run(args: argparse.Namespace) -> int:
    """An unexpected exception is an internal error (exit 3): af2kfp.bridge.cli.main says so."""
    return _cutover(args, sys.stdout, sys.stderr)
