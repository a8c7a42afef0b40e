"""``af2kfp run``: submit a KFP run from the command line and, on request, wait for it.

The pipeline is a compiled package (YAML/JSON/archive), an ``af2kfp convert`` output
folder (the whole output with ``report.json``, or one DAG's folder), or an uploaded
pipeline (``--pipeline NAME [--version V]``). Everything goes through :mod:`af2kfp.bridge.kfp`.

A run that ``af2kfp kfp-server`` only simulated (nothing executed) is reported with a
``note:`` line (``"simulated": true`` in JSON): its SUCCEEDED says nothing about the code.

Exit codes: 0 submitted (or, with ``--wait``, succeeded); 1 the run failed, was
canceled, did not finish within ``--timeout``, or KFP could not be reached; 2 bad input
(missing file, bad ``-p``, unknown parameter or pipeline), with a message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from af2kfp.bridge.cli.kfp_options import add_kfp_arguments, check_kfp_arguments, kfp_config, resolve_host
from af2kfp.converters.errors import InputError

__all__ = ["NAME", "HELP", "add_arguments", "run", "parse_parameters", "Progress"]

NAME = "run"
HELP = "submit a pipeline run to Kubeflow Pipelines (package, convert output or uploaded pipeline); --wait to follow it"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "pipeline",
        nargs="?",
        metavar="PIPELINE",
        help="compiled pipeline (.yaml/.json/.tar.gz/.zip) or an af2kfp convert output folder",
    )
    source = parser.add_argument_group("uploaded pipeline (instead of PIPELINE)")
    source.add_argument(
        "--pipeline", dest="pipeline_name", metavar="NAME", help="run an uploaded pipeline by name"
    )
    source.add_argument("--version", metavar="V", help="its version name (default: the latest)")
    parser.add_argument(
        "--dag", metavar="DAG_ID", help="which DAG of a convert output folder holding several"
    )
    add_kfp_arguments(parser, host_default=True)
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help="pipeline parameter (repeatable); V is read as JSON when it parses, else as a string",
    )
    parser.add_argument(
        "--experiment", metavar="NAME", help="experiment name, created when missing (default: Default)"
    )
    parser.add_argument(
        "--run-name", metavar="NAME", help="run display name (default: PIPELINE-NAME YYYYMMDD-HHMMSS)"
    )
    parser.add_argument(
        "--pipeline-root", metavar="URI", help="pipeline root for artifacts (e.g. minio://bucket/root)"
    )
    parser.add_argument(
        "--service-account", metavar="SA", help="Kubernetes service account of the run's pods"
    )
    parser.add_argument(
        "--caching",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="turn caching on/off for every task (default: as compiled)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait until the run ends, showing progress on stderr"
    )
    parser.add_argument(
        "--poll-interval", type=float, default=5.0, metavar="S", help="seconds between polls (default: 5)"
    )
    parser.add_argument("--timeout", type=float, metavar="S", help="give up waiting after S seconds (exit 1)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def parse_parameters(items: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` as a dict; a value is JSON when it parses (``3``, ``true``, ``[1]``), else a string."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"-p {item!r}: expected NAME=VALUE")
        if key in params:
            raise InputError(f"-p {key}: given more than once")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def _package_path(args: argparse.Namespace) -> Path:
    """The pipeline file to submit, resolving convert output folders."""
    path = Path(args.pipeline)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if not path.is_dir() or (path / "pipeline.yaml").is_file():
        return path
    report_path = path / "report.json"
    if not report_path.is_file():
        raise InputError(
            f"{path}: folder has neither pipeline.yaml nor report.json (an af2kfp convert output)"
        )
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        compiled = {d["dag_id"]: d["kfp"]["yaml"] for d in report["dags"] if d.get("kfp", {}).get("yaml")}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{report_path}: not an af2kfp report: {exc}") from None
    if args.dag:
        if args.dag not in compiled:
            raise InputError(
                f"{path}: no compiled pipeline for DAG {args.dag!r}; compiled: {', '.join(sorted(compiled)) or '(none)'}"
            )
        return path / compiled[args.dag]
    if len(compiled) != 1:
        raise InputError(
            f"{path}: holds {len(compiled)} compiled pipelines; pick one with --dag ({', '.join(sorted(compiled)) or 'none'})"
        )
    return path / next(iter(compiled.values()))


class Progress:
    """What ``--wait`` shows: on a TTY one line rewritten in place, else one line per change."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None, total_tasks: int | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.total_tasks = total_tasks
        self.started = time.monotonic()
        self._run_state: str | None = None
        self._task_states: dict[str, str] = {}
        self._width = 0

    def __call__(self, run: Any) -> None:
        elapsed = time.monotonic() - self.started
        if self.tty:
            self._rewrite(f"{run.state.value:<10} {_clock(elapsed)}  {self._counts(run)}")
            return
        if run.state.value != self._run_state:
            self._line(f"[{_clock(elapsed)}] run {run.state.value}  {self._counts(run)}")
        for task in run.tasks:
            if self._task_states.get(task.display_name) != task.state.value:
                self._task_states[task.display_name] = task.state.value
                self._line(f"[{_clock(elapsed)}] task {task.display_name} {task.state.value}")
        self._run_state = run.state.value

    def finish(self) -> None:
        """End the rewritten line so what follows starts on a fresh one."""
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()

    def _counts(self, run: Any) -> str:
        states = [t.state.value for t in run.tasks]
        done = sum(s in ("SUCCEEDED", "SKIPPED") for s in states)
        total = max(self.total_tasks or 0, len(states))
        text = f"tasks {done}/{total or '?'} done, {states.count('RUNNING')} running"
        failed = states.count("FAILED")
        return text + (f", {failed} failed" if failed else "")

    def _rewrite(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def _spec(args: argparse.Namespace, params: dict[str, Any], kfp: Any) -> tuple[Any, int | None]:
    """The RunSpec to submit, and the number of tasks of the pipeline when known."""
    from af2kfp.bridge.kfp import PipelinePackage, RunSpec, load_package

    common = dict(
        experiment_name=args.experiment,
        namespace=args.namespace,
        parameters=params,
        pipeline_root=args.pipeline_root,
        service_account=args.service_account,
        enable_caching=args.caching,
    )
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    if args.pipeline_name:
        version = kfp.resolve_pipeline_version(
            pipeline_name=args.pipeline_name, version_name=args.version, namespace=args.namespace
        )
        spec = version.raw.get("pipeline_spec")
        tasks = None
        if isinstance(spec, dict) and "root" in spec:
            package = PipelinePackage(spec, source=f"pipeline {args.pipeline_name!r}")
            package.check_parameters(params)
            tasks = len(package.pipeline_spec["root"].get("dag", {}).get("tasks", {}))
        run_spec = RunSpec(
            display_name=args.run_name or f"{args.pipeline_name} {stamp}",
            pipeline_id=version.pipeline_id,
            pipeline_version_id=version.pipeline_version_id,
            **common,
        )
        return run_spec, tasks
    package = load_package(_package_path(args))
    package.check_parameters(params)
    tasks = len(package.pipeline_spec["root"].get("dag", {}).get("tasks", {}))
    run_spec = RunSpec(
        display_name=args.run_name or f"{package.name or 'pipeline'} {stamp}", package=package, **common
    )
    return run_spec, tasks


def _check_args(args: argparse.Namespace) -> None:
    if (args.pipeline is None) == (args.pipeline_name is None):
        raise InputError("give exactly one pipeline: PIPELINE (a file or folder) or --pipeline NAME")
    if args.version and not args.pipeline_name:
        raise InputError("--version needs --pipeline NAME")
    if args.poll_interval <= 0:
        raise InputError("--poll-interval must be positive")
    if args.timeout is not None and args.timeout <= 0:
        raise InputError("--timeout must be positive")
    check_kfp_arguments(args)


def _emit(args: argparse.Namespace, record: dict[str, Any], out: TextIO) -> None:
    if args.format == "json":
        out.write(json.dumps(record, indent=2) + "\n")
        return
    for key in ("run_id", "run_url", "state", "failure", "note"):
        if record.get(key):
            out.write(f"{key}: {record[key]}\n")


def run(args: argparse.Namespace) -> int:
    from af2kfp.bridge.kfp import (
        KfpAuthError,
        KfpClient,
        KfpError,
        KfpNotFoundError,
        KfpWaitTimeoutError,
        describe_failure,
    )

    _check_args(args)
    params = parse_parameters(args.param)
    out, err = sys.stdout, sys.stderr
    args.host, source = resolve_host(args)
    if source != "--host":
        err.write(f"af2kfp: KFP host {args.host} (from {source})\n")
    try:
        with KfpClient(kfp_config(args)) as kfp:
            run_spec, total_tasks = _spec(args, params, kfp)
            submitted = kfp.submit_run(run_spec)
            record: dict[str, Any] = {
                "run_id": submitted.run_id,
                "run_name": submitted.display_name,
                "experiment_id": submitted.experiment_id,
                "run_url": kfp.run_url(submitted.run_id),
            }
            if not args.wait:
                record["state"] = submitted.state.value
                _note(record, submitted)
                _emit(args, record, out)
                return EXIT_OK
            if args.format == "text":
                out.write(f"run_id: {record['run_id']}\nrun_url: {record['run_url']}\n")
                out.flush()
            progress = Progress(err, total_tasks=total_tasks)
            try:
                final = kfp.wait_for_run(
                    submitted.run_id,
                    poll_interval=args.poll_interval,
                    timeout=args.timeout,
                    raise_on_failure=False,
                    on_poll=progress,
                )
            except KfpWaitTimeoutError as exc:
                progress.finish()
                record.update(state=exc.last_state, failure=str(exc))
                _emit_final(args, record, out)
                return EXIT_FAILED
            progress.finish()
    except (KfpNotFoundError, KfpAuthError) as exc:
        raise InputError(str(exc)) from None
    except KfpError as exc:
        if isinstance(exc, InputError):
            raise
        err.write(f"af2kfp: error: {exc}\n")
        return EXIT_FAILED
    record.update(state=final.state.value, summary=final.summary())
    _note(record, final)
    failed = final.state.value not in ("SUCCEEDED", "SKIPPED")
    if failed:
        record["failure"] = describe_failure(final)
    _emit_final(args, record, out)
    return EXIT_FAILED if failed else EXIT_OK


def _emit_final(args: argparse.Namespace, record: dict[str, Any], out: TextIO) -> None:
    """After a wait: text mode adds the end state (run id and URL were printed on submission)."""
    if args.format == "json":
        _emit(args, record, out)
        return
    out.write(f"state: {record.get('state') or 'unknown'}\n")
    if record.get("failure"):
        out.write(f"failure: {record['failure']}\n")
    if record.get("note"):
        out.write(f"note: {record['note']}\n")


def _note(record: dict[str, Any], run: Any) -> None:
    """A run the server only simulated (or could not fully run) says so: ``simulated`` and ``note``."""
    record["simulated"] = run.simulated
    note = run.execution_note
    if note:
        record["note"] = note
