"""Build one Airflow operator from JSON arguments and execute it, as a task outside any scheduler.

Runs in the fallback component's container (an Airflow image with af2kfp installed). The
context is minimal: run dates from ``--logical-date``/``--data-interval`` (the pipeline's run
context), else ``AF2KFP_LOGICAL_DATE`` (ISO 8601), else the container's clock, the task's params, ``var``/``conn``/``macros`` when Airflow provides them, and a
``ti`` whose ``xcom_push`` keeps values in the process and whose ``xcom_pull`` returns
``None``: a KFP task reads other tasks' outputs as inputs, not through XCom.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from converters.values import Call, DateTime, Duration, Symbolic, TaskRef, from_json

__all__ = ["main", "run_operator", "FallbackError"]

log = logging.getLogger("airflow_plugins.fallback")
EXIT_FAILED, EXIT_USAGE = 1, 2


class FallbackError(Exception):
    """Arguments the runner cannot turn into an operator (exit 2)."""


def _import(qualname: str) -> Any:
    module_name, _, name = qualname.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise FallbackError(f"cannot import {qualname}: {exc} (is its provider installed in this image?)") from exc


def materialise(value: Any) -> Any:
    """Python objects for af2kfp's resolved values: timedelta, datetime, calls of known classes."""
    if isinstance(value, Duration):
        return dt.timedelta(seconds=value.seconds)
    if isinstance(value, DateTime):
        return dt.datetime.fromisoformat(value.iso)
    if isinstance(value, Call):
        kwargs = {k: materialise(v) for k, v in value.kwargs.items()}
        return _import(value.func)(*map(materialise, value.args), **kwargs)
    if isinstance(value, Symbolic):
        raise FallbackError(f"argument value `{value.source}` is not known: pass it with --set (the pipeline "
                            "parameter af2kfp made for it)")
    if isinstance(value, TaskRef):
        raise FallbackError(f"argument value {value!r} is not known; af2kfp should not have produced it")
    if isinstance(value, list):
        return [materialise(item) for item in value]
    if isinstance(value, dict):
        return {key: materialise(item) for key, item in value.items()}
    return value


class _TaskInstance(SimpleNamespace):
    """Just enough of a task instance for operators that push or pull XComs."""

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, *_: Any, **__: Any) -> None:
        return None


def _moment(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _logical_date() -> dt.datetime:
    given = os.environ.get("AF2KFP_LOGICAL_DATE")
    return _moment(given) if given else dt.datetime.now(dt.timezone.utc)


def _accessors() -> dict[str, Any]:
    """``var``, ``conn`` and ``macros`` as Airflow's own context has them, when this Airflow has them."""
    found: dict[str, Any] = {}
    try:
        from airflow.sdk.execution_time import context as sdk_context, macros

        found["var"] = {"json": sdk_context.VariableAccessor(deserialize_json=True),
                        "value": sdk_context.VariableAccessor(deserialize_json=False)}
        found["conn"] = sdk_context.ConnectionAccessor()
        found["macros"] = macros
    except (ImportError, AttributeError, TypeError):  # Airflow 2: macros module, no accessors needed here
        try:
            from airflow import macros  # type: ignore[no-redef]

            found["macros"] = macros
        except ImportError:
            pass
    return found


def build_context(operator: Any, dag: Any) -> dict[str, Any]:
    """The minimal template and execute context for one run of ``operator``."""
    logical = _logical_date()
    run_id = os.environ.get("AF2KFP_RUN_ID") or f"af2kfp__{logical.isoformat()}"
    ti = _TaskInstance(task_id=operator.task_id, dag_id=dag.dag_id, run_id=run_id, try_number=1, map_index=-1,
                       task=operator, pushed={})
    start, end = (_moment(t) for t in os.environ.get("AF2KFP_DATA_INTERVAL", "").split(",")) if os.environ.get(
        "AF2KFP_DATA_INTERVAL") else (logical, logical)
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


def _plain_params(operator: Any) -> None:
    """Params as plain values, as Airflow resolves them before rendering."""
    params = getattr(operator, "params", None)
    dump = getattr(params, "dump", None)
    if callable(dump):
        operator.params = dump()


def _set(document: Any, pointer: str, value: Any) -> None:
    """Replace the value at RFC 6901 ``pointer`` (``/cluster_config/workers/0``) in the kwargs document."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []
    if not pointer.startswith("/") or not parts:
        raise FallbackError(f"--set {pointer!r}: expected a JSON pointer such as /argument")
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
        raise FallbackError(f"--set {pointer}: no such argument in --kwargs ({exc})") from None


def apply_values(document: Any, strings: list[list[str]], documents: list[list[str]]) -> Any:
    """The kwargs document with the run's values for arguments unknown at conversion: ``--set POINTER TEXT``
    puts a string, ``--set-json POINTER JSON`` a decoded JSON value (lists, dicts, numbers)."""
    for pointer, text in strings:
        _set(document, pointer, text)
    for pointer, text in documents:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FallbackError(f"--set-json {pointer}: the value is not JSON ({exc.msg})") from None
        _set(document, pointer, value)
    return document


def run_operator(operator_path: str, kwargs_json: str, *, dag_id: str, task_id: str,
                 values: tuple[list[list[str]], list[list[str]]] = ([], [])) -> Any:
    """Build, render and execute the operator; its return value is Airflow's XCom ``return_value``.

    ``values``: the ``--set`` and ``--set-json`` pairs for arguments af2kfp could not know."""
    try:
        kwargs = materialise(from_json(apply_values(json.loads(kwargs_json), *values)))
    except json.JSONDecodeError as exc:
        raise FallbackError(f"--kwargs is not JSON: {exc}") from exc
    if not isinstance(kwargs, dict):
        raise FallbackError("--kwargs must be a JSON object")
    cls = _import(operator_path)
    try:
        from airflow.sdk import DAG
    except ImportError:  # Airflow 2
        from airflow import DAG  # type: ignore[no-redef]
    with DAG(dag_id=dag_id, schedule=None, start_date=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)) as dag:
        try:
            operator = cls(task_id=task_id, **kwargs)
        except TypeError as exc:
            raise FallbackError(f"{operator_path}({', '.join(sorted(kwargs))}): {exc}") from exc
    if getattr(operator, "mode", None) == "reschedule":
        operator.mode = "poke"  # no scheduler to reschedule it: poke in this container until the timeout
    context = build_context(operator, dag)
    _plain_params(operator)
    context["params"] = dict(getattr(operator, "params", None) or {})
    operator.render_template_fields(context)
    return operator.execute(context)


def _write_output(path: str, value: Any) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = value if isinstance(value, str) else "" if value is None else json.dumps(value, default=str)
    target.write_text(text, encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m airflow_plugins.fallback",
                                     description="Run one Airflow operator as a KFP task.")
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
    if args.logical_date:  # the pipeline's run context dates the run, as it dates every other task
        os.environ["AF2KFP_LOGICAL_DATE"] = args.logical_date
    if args.data_interval:
        os.environ["AF2KFP_DATA_INTERVAL"] = ",".join(args.data_interval)
    logging.basicConfig(level=logging.INFO, format="af2kfp fallback: %(levelname)s: %(message)s")
    log.info("running %s as task %s.%s", args.operator, args.dag_id, args.task_id)
    try:
        result = run_operator(args.operator, args.kwargs, dag_id=args.dag_id, task_id=args.task_id,
                              values=(args.set, args.set_json))
    except FallbackError as exc:
        print(f"af2kfp fallback: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the operator's own failure, reported as Airflow would
        name = type(exc).__name__
        if name == "AirflowSkipException":
            log.warning("the operator skipped itself (%s); KFP has no skipped state, the task succeeds", exc)
            result = None
        elif name == "TaskDeferred":
            print(f"af2kfp fallback: error: {args.operator} deferred; the fallback runs operators with "
                  "deferrable=False only", file=sys.stderr)
            return EXIT_FAILED
        else:
            log.exception("%s failed", args.operator)
            print(f"af2kfp fallback: error: {name}: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if args.xcom_output:
        _write_output(args.xcom_output, result)
    log.info("done")
    return 0
