"""Run one Airflow operator as a KFP task: af2kfp's runner for tasks that run the original operator.

Self-contained on purpose: it needs only the Python standard library and Airflow (2.10+ or
3.x), so a fallback task runs in the official ``apache/airflow`` image with nothing added.
af2kfp writes this file beside each ``pipeline.py`` that uses it (``airflow_operator_runner.py``)
and the pipeline passes its text to ``python -c``; the compiled ``pipeline.yaml`` carries it.

    python -c "$(cat airflow_operator_runner.py)" --operator QUALNAME --dag-id D --task-id T
        --kwargs JSON [--set POINTER TEXT] [--set-json POINTER JSON]
        [--logical-date ISO] [--data-interval START END] [--xcom-output PATH]

It builds the operator from ``--kwargs`` (af2kfp's JSON: ``{"$duration": s}`` and the other
tags :func:`decode` reads) in a throwaway DAG, renders its templates with the run's dates,
calls ``execute`` (running the trigger itself when the operator defers, as Airflow's
triggerer would) and writes the return value (Airflow's XCom) to ``--xcom-output``.
Connections come from ``AIRFLOW_CONN_<ID>`` variables, as Airflow reads them.
Exit 0 done (or skipped), 1 the operator failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

log = logging.getLogger("af2kfp.airflow_operator_runner")
EXIT_FAILED, EXIT_USAGE = 1, 2


class RunnerError(Exception):
    """Arguments the runner cannot turn into an operator (exit 2)."""


# --- af2kfp's JSON tags (af2kfp.converters.values.to_json), decoded to the Python values the DAG passed ---

def _import(qualname: str) -> Any:
    module_name, _, name = qualname.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise RunnerError(f"cannot import {qualname}: {exc} (is its provider installed in this image?)") from exc


def decode(data: Any) -> Any:
    """The Python value for af2kfp's JSON: ``$duration`` -> timedelta, ``$datetime`` -> datetime,
    ``$call`` -> the call's result, ``$dict`` -> a dict whose keys start with ``$``, a ``lambda`` -> the
    function its text defines (it reads only its parameters and builtins, as af2kfp checked); a value af2kfp
    did not know (``$symbolic``, ``$task``) is an error naming the ``--set`` that supplies it."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "$dict" in data:
        return {key: decode(item) for key, item in data["$dict"].items()}
    if "$duration" in data:
        return dt.timedelta(seconds=data["$duration"])
    if "$datetime" in data:
        return dt.datetime.fromisoformat(data["$datetime"])
    if "$call" in data:
        function = _import(data["$call"])
        return function(*decode(data.get("args", [])), **decode(data.get("kwargs", {})))
    if "$symbolic" in data and data.get("lambda") is True:  # a lambda reading only its parameters and builtins
        return eval(compile(f"({data['$symbolic']})", "<af2kfp lambda>", "eval"), {})  # the DAG's own code, as Airflow ran it
    if "$symbolic" in data:
        raise RunnerError(f"argument value `{data['$symbolic']}` is not known: pass it with --set (the pipeline "
                          "parameter af2kfp made for it)")
    if "$task" in data:
        raise RunnerError(f"argument value reads the XCom of {data['$task']!r}, which af2kfp should not pass here")
    return {key: decode(item) for key, item in data.items()}


def _set(document: Any, pointer: str, value: Any) -> None:
    """Replace the value at RFC 6901 ``pointer`` (``/cluster_config/workers/0``) in the kwargs document."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []
    if not pointer.startswith("/") or not parts:
        raise RunnerError(f"--set {pointer!r}: expected a JSON pointer such as /argument")
    target = document
    try:
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last = parts[-1]
        if isinstance(target, list):
            target[int(last)] = value
        elif isinstance(target, dict) and last in target:
            target[last] = value
        else:
            raise KeyError(last)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise RunnerError(f"--set {pointer}: no such argument in --kwargs ({exc})") from None


def apply_values(document: Any, strings: list[list[str]], documents: list[list[str]]) -> Any:
    """The kwargs document with the run's values for arguments unknown at conversion: ``--set POINTER TEXT``
    puts a string, ``--set-json POINTER JSON`` a decoded JSON value (lists, dicts, numbers)."""
    for pointer, text in strings:
        _set(document, pointer, text)
    for pointer, text in documents:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RunnerError(f"--set-json {pointer}: the value is not JSON ({exc.msg})") from None
        _set(document, pointer, value)
    return document


# --- the run's context: dates from the pipeline's run context, a task instance without a database ---

def _moment(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


class _TaskInstance(SimpleNamespace):
    """Just enough of a task instance for operators that push or pull XComs."""

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, *_: Any, **__: Any) -> None:
        return None  # a KFP task reads other tasks' outputs as inputs, not through XCom


def _accessors() -> dict[str, Any]:
    """``var``, ``conn`` and ``macros`` as Airflow's own context has them, when this Airflow has them."""
    found: dict[str, Any] = {}
    try:
        from airflow.sdk.execution_time import context as sdk_context, macros

        found["var"] = {"json": sdk_context.VariableAccessor(deserialize_json=True),
                        "value": sdk_context.VariableAccessor(deserialize_json=False)}
        found["conn"] = sdk_context.ConnectionAccessor()
        found["macros"] = macros
    except (ImportError, AttributeError, TypeError):  # Airflow 2: its macros module; templates read no accessor here
        try:
            from airflow import macros  # type: ignore[no-redef]

            found["macros"] = macros
        except ImportError:
            pass
    return found


def build_context(operator: Any, dag: Any, logical: dt.datetime, interval: tuple[dt.datetime, dt.datetime]) -> dict:
    """The template and execute context of one run of ``operator``."""
    run_id = f"af2kfp__{logical.isoformat()}"
    ti = _TaskInstance(task_id=operator.task_id, dag_id=dag.dag_id, run_id=run_id, try_number=1, map_index=-1,
                       task=operator, pushed={})
    start, end = interval
    dag_run = SimpleNamespace(dag_id=dag.dag_id, run_id=run_id, logical_date=logical, conf={},
                              data_interval_start=start, data_interval_end=end, run_type="manual")
    context: dict[str, Any] = {
        "dag": dag, "task": operator, "ti": ti, "task_instance": ti, "dag_run": dag_run, "run_id": run_id,
        "params": dict(getattr(operator, "params", None) or {}), "logical_date": logical,
        "data_interval_start": start, "data_interval_end": end, "ds": logical.strftime("%Y-%m-%d"),
        "ds_nodash": logical.strftime("%Y%m%d"), "ts": logical.isoformat(),
        "ts_nodash": logical.strftime("%Y%m%dT%H%M%S"),
        "inlets": [], "outlets": [], "map_index_template": None, "triggering_asset_events": {},
    }
    context.update(_accessors())
    return context


# --- build, render, execute ---

def _dag_class() -> Any:
    try:
        from airflow.sdk import DAG
    except ImportError:  # Airflow 2
        from airflow import DAG  # type: ignore[no-redef]
    return DAG


def _deferred_class() -> type[BaseException]:
    try:
        from airflow.sdk.exceptions import TaskDeferred
    except ImportError:  # Airflow 2
        from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]
    return TaskDeferred


def build_operator(operator_path: str, kwargs: dict[str, Any], *, dag_id: str, task_id: str) -> tuple[Any, Any]:
    """The operator, built in a throwaway DAG as the DAG file built it, and that DAG."""
    cls = _import(operator_path)
    start = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    with _dag_class()(dag_id=dag_id, schedule=None, start_date=start) as dag:
        try:
            operator = cls(task_id=task_id, **kwargs)
        except TypeError as exc:
            raise RunnerError(f"{operator_path}({', '.join(sorted(kwargs))}): {exc}") from exc
    if getattr(operator, "mode", None) == "reschedule":
        operator.mode = "poke"  # no scheduler to reschedule it: poke in this container until the timeout
    params = getattr(operator, "params", None)
    if callable(getattr(params, "dump", None)):
        operator.params = params.dump()  # plain values, as Airflow resolves them before rendering
    return operator, dag


async def _first_event(trigger: Any) -> Any:
    async for event in trigger.run():
        return event
    return None


def _resume(operator: Any, context: dict, deferred: Any) -> Any:
    """Run the trigger the operator deferred to in this process, as Airflow's triggerer would, then resume
    the operator with its event, as a worker would (``TaskDeferred`` again: the next trigger)."""
    timeout = deferred.timeout.total_seconds() if isinstance(deferred.timeout, dt.timedelta) else deferred.timeout
    log.info("%s deferred to %s; running the trigger here", operator.task_id, type(deferred.trigger).__name__)
    try:
        event = asyncio.run(asyncio.wait_for(_first_event(deferred.trigger), timeout))
    except asyncio.TimeoutError:
        return operator.resume_execution("__fail__", {"error": "Trigger/execution timeout"}, context)
    kind = type(event).__name__
    if kind == "TaskSuccessEvent":  # the trigger ends the task itself (end_from_trigger)
        return (getattr(event, "xcoms", None) or {}).get("return_value")
    if kind in ("TaskFailedEvent", "TaskSkippedEvent") or event is None:
        raise RuntimeError(f"the trigger ended the task: {event!r}")
    return operator.resume_execution(deferred.method_name, {**(deferred.kwargs or {}), "event": event.payload},
                                     context)


def run_operator(operator_path: str, kwargs_json: str, *, dag_id: str, task_id: str,
                 values: tuple[list[list[str]], list[list[str]]] = ([], []),
                 logical: dt.datetime | None = None,
                 interval: tuple[dt.datetime, dt.datetime] | None = None) -> Any:
    """Build, render and execute the operator; its return value is Airflow's XCom ``return_value``.

    ``values``: the ``--set`` and ``--set-json`` pairs for arguments af2kfp could not know;
    ``logical``/``interval``: the run's dates (default: now, an interval of one instant)."""
    try:
        kwargs = decode(apply_values(json.loads(kwargs_json), *values))
    except json.JSONDecodeError as exc:
        raise RunnerError(f"--kwargs is not JSON: {exc}") from exc
    if not isinstance(kwargs, dict):
        raise RunnerError("--kwargs must be a JSON object")
    operator, dag = build_operator(operator_path, kwargs, dag_id=dag_id, task_id=task_id)
    logical = logical or dt.datetime.now(dt.timezone.utc)
    context = build_context(operator, dag, logical, interval or (logical, logical))
    operator.render_template_fields(context)
    operator.pre_execute(context)
    deferred_class = _deferred_class()
    try:
        result = operator.execute(context)
    except deferred_class as deferred:
        while True:
            try:
                result = _resume(operator, context, deferred)
                break
            except deferred_class as again:
                deferred = again
    operator.post_execute(context, result)
    return result


def _write_output(path: str, value: Any) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = value if isinstance(value, str) else "" if value is None else json.dumps(value, default=str)
    target.write_text(text, encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow_operator_runner", description="Run one Airflow operator as a "
                                     "KFP task (af2kfp).")
    parser.add_argument("--operator", required=True, help="qualified class name")
    parser.add_argument("--dag-id", required=True)
    parser.add_argument("--task-id", required=True)
    parser.add_argument("--kwargs", default="{}", help="constructor keyword arguments, af2kfp JSON")
    parser.add_argument("--xcom-output", metavar="PATH", help="file the return value is written to")
    parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("POINTER", "TEXT"),
                        help="a string for an argument unknown at conversion, at a JSON pointer into --kwargs")
    parser.add_argument("--set-json", nargs=2, action="append", default=[], metavar=("POINTER", "JSON"),
                        help="the same for a list, dict or number, as JSON text")
    parser.add_argument("--logical-date", metavar="ISO", help="the run's logical date (default: now)")
    parser.add_argument("--data-interval", nargs=2, metavar=("START", "END"),
                        help="the run's data interval (default: the logical date)")
    return parser


def main(argv: list[str]) -> int:
    """Exit 0 done (or skipped), 1 the operator failed, 2 bad arguments."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="af2kfp runner: %(levelname)s: %(message)s")
    log.info("running %s as task %s.%s", args.operator, args.dag_id, args.task_id)
    try:
        logical = _moment(args.logical_date) if args.logical_date else None
        interval = (_moment(args.data_interval[0]), _moment(args.data_interval[1])) if args.data_interval else None
    except ValueError as exc:
        print(f"af2kfp runner: error: --logical-date/--data-interval: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = run_operator(args.operator, args.kwargs, dag_id=args.dag_id, task_id=args.task_id,
                              values=(args.set, args.set_json), logical=logical, interval=interval)
    except RunnerError as exc:
        print(f"af2kfp runner: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the operator's own failure, reported as Airflow would
        name = type(exc).__name__
        if name not in ("AirflowSkipException", "DownstreamTasksSkipped"):
            log.exception("%s failed", args.operator)
            print(f"af2kfp runner: error: {name}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        log.warning("the operator skipped (%s); KFP has no skipped state, the task succeeds", exc)
        result = None
    if args.xcom_output:
        _write_output(args.xcom_output, result)
    log.info("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
