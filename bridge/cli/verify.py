"""``af2kfp verify PATH... --yes-run-dag-code [-o verify.json]``: the analysis against Airflow's own DagBag.

Loading DAG files with Airflow runs their code, so the command only describes what it
would do unless ``--yes-run-dag-code`` is given. Exit 0 no difference, 1 differences
(each printed, and recorded with ``-o``), 2 bad input, no opt-in, or no Airflow installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from af2kfp.bridge.cli.inputs import add_conversion_arguments, conversion_config
from af2kfp.converters.errors import InputError

__all__ = ["NAME", "HELP", "add_arguments", "run", "OPT_IN"]

NAME = "verify"
HELP = "Compare the static analysis of DAG files with what Airflow's DagBag builds (runs the DAG code)."
OPT_IN = "--yes-run-dag-code"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="DAG files or folders")
    parser.add_argument(OPT_IN, dest="run_dag_code", action="store_true",
                        help="allow loading the files with Airflow, which imports and runs them (required)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write every difference as JSON (verify.json)")
    add_conversion_arguments(parser)
    parser.add_argument("--timeout", type=float, default=300, help="seconds Airflow may take to load (default 300)")


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InputError(f"no such file or folder: {', '.join(missing)}")
    if not args.run_dag_code:
        sys.stderr.write(
            f"af2kfp verify loads {', '.join(args.paths)} with Airflow's DagBag in a separate Python process, which "
            "imports every DAG file and runs its top-level code (as an Airflow scheduler does), then compares the "
            f"DAGs with af2kfp's static analysis. Nothing is written except -o. Re-run with {OPT_IN} to do it.\n")
        return 2
    from af2kfp.bridge.verify import verify_paths  # the analyzer is imported only when there is work

    result = verify_paths(paths, conversion_config(args, paths), timeout=args.timeout)
    for difference in result.differences:
        sys.stdout.write(difference.text() + "\n")
    for file, error in sorted(result.import_errors.items()):
        first = (error.strip().splitlines() or [""])[-1]
        sys.stdout.write(f"{file}: Airflow cannot import it, not compared: {first}\n")
    if args.output:
        Path(args.output).write_text(json.dumps(result.to_json(), indent=1, sort_keys=True, default=str) + "\n")
    s = result.to_json()["summary"]
    sys.stdout.write(
        f"af2kfp verify: {s['dags_compared']} DAGs compared ({s['dags_identical']} identical), {s['tasks_compared']} "
        f"tasks, {s['arguments_compared']} arguments ({s['arguments_unknown']} unknown statically): "
        f"{s['differences']} difference(s)\n")
    return 1 if result.differences else 0
