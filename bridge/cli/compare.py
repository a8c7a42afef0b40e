"""``af2kfp compare``: an Airflow DAG run and a KFP run side by side, task by task.

Reads the DAG run through Airflow's REST API, the KFP run through :mod:`af2kfp.bridge.kfp`, and
matches the tasks through ``report.json`` from ``af2kfp convert``. Writes JSON, Markdown
or HTML (format from ``-o``'s suffix, or ``--format``; Markdown to stdout by default).

Exit codes: 0 the runs behave the same (or only tasks are missing on one side), 1 they
differ, 2 bad input (missing report, unknown DAG or run, bad URL), 3 an API could not be
read (unreachable, refused credentials).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from af2kfp.converters.errors import Af2KfpError, InputError

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "compare"
HELP = "compare an Airflow DAG run with a KFP run task by task (state, times, tries), matched through report.json"

_SUFFIXES = {".json": "json", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}
PASSWORD_ENV = "AF2KFP_AIRFLOW_PASSWORD"
EXIT_SAME, EXIT_DIFFERS, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    airflow = parser.add_argument_group("Airflow")
    airflow.add_argument(
        "--airflow-url", required=True, metavar="URL", help="Airflow API server / webserver base URL"
    )
    airflow.add_argument("--dag-id", required=True, metavar="D")
    airflow.add_argument("--dag-run-id", required=True, metavar="R")
    airflow.add_argument(
        "--airflow-user", metavar="USER", help="Airflow user (Airflow 3: JWT from /auth/token; 2: basic auth)"
    )
    airflow.add_argument(
        "--airflow-password",
        metavar="PW",
        help=f"its password (prefer the {PASSWORD_ENV} environment variable)",
    )
    airflow.add_argument(
        "--airflow-token", metavar="JWT", help="a ready bearer token instead of user and password"
    )
    airflow.add_argument("--airflow-ca-bundle", metavar="FILE", help="CA bundle for Airflow's certificate")
    kfp = parser.add_argument_group("KFP")
    kfp.add_argument("--kfp-host", required=True, metavar="URL", help="KFP API base URL")
    kfp.add_argument("--kfp-run-id", required=True, metavar="ID")
    kfp.add_argument(
        "--kfp-ui-host", metavar="URL", help="KFP UI base URL for the run link (default: --kfp-host)"
    )
    kfp.add_argument("--kfp-namespace", metavar="NS")
    auth = kfp.add_mutually_exclusive_group()
    auth.add_argument("--kfp-token", metavar="TOKEN")
    auth.add_argument("--kfp-token-file", metavar="FILE")
    auth.add_argument("--kfp-cookie", metavar="NAME=VALUE")
    kfp.add_argument("--kfp-ca-bundle", metavar="FILE", help="CA bundle for KFP's certificate")
    parser.add_argument(
        "--report", required=True, metavar="REPORT_JSON", help="report.json written by af2kfp convert"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here; format from the suffix (.html, .md, .json)"
    )
    parser.add_argument(
        "--format", choices=("md", "json", "html"), help="output format (default: from -o, else md)"
    )


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if not args.output:
        return "md"
    suffix = Path(args.output).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(f"-o {args.output}: unknown suffix {suffix or '(none)'}; use .html, .md or .json")
    return _SUFFIXES[suffix]


def run(args: argparse.Namespace) -> int:
    from af2kfp.bridge.compare import (
        AirflowApiError,
        AirflowSettings,
        compare_runs,
        fetch_airflow_run,
        fetch_kfp_run,
        load_report_dag,
        render,
    )
    from af2kfp.bridge.kfp import KfpAuthError, KfpClient, KfpConfig, KfpError, KfpNotFoundError, auth_from_options

    fmt = _format(args)
    if args.output and not Path(args.output).resolve().parent.is_dir():
        raise InputError(f"-o {args.output}: folder {Path(args.output).parent} does not exist")
    dag = load_report_dag(args.report, args.dag_id)
    password = (
        (args.airflow_password or os.environ.get(PASSWORD_ENV))
        if args.airflow_user
        else args.airflow_password
    )
    settings = AirflowSettings(
        url=args.airflow_url,
        username=args.airflow_user,
        password=password,
        token=args.airflow_token,
        verify=args.airflow_ca_bundle or True,
    )
    config = KfpConfig(
        host=args.kfp_host,
        auth=auth_from_options(token=args.kfp_token, token_file=args.kfp_token_file, cookie=args.kfp_cookie),
        namespace=args.kfp_namespace,
        verify=args.kfp_ca_bundle or True,
        ui_host=args.kfp_ui_host,
    )
    try:
        airflow = fetch_airflow_run(settings, args.dag_id, args.dag_run_id)
        with KfpClient(config) as client:
            kfp = fetch_kfp_run(client, args.kfp_run_id)
    except InputError:
        raise
    except KfpNotFoundError as exc:
        raise InputError(str(exc)) from None
    except (AirflowApiError, KfpError) as exc:
        print(f"af2kfp: error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE if not isinstance(exc, KfpAuthError) else EXIT_USAGE
    comparison = compare_runs(airflow, kfp, dag)
    text = render(comparison, fmt)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise Af2KfpError(f"-o {args.output}: cannot write it: {exc.strerror or exc}") from None
        print(f"af2kfp compare: {comparison.verdict} ({args.output})")
    else:
        sys.stdout.write(text)
    return EXIT_DIFFERS if comparison.verdict == "differs" else EXIT_SAME
