"""Run DAG files on both sides and say, per task, what ran, what it returned and what it printed.

Airflow: ``dag.test(logical_date=..., run_conf=...)`` in a child process with a fresh SQLite
database (:mod:`tests.runs.sides`); return values are the ``return_value`` XComs. KFP: the
converted pipeline under ``kfp.local`` (SubprocessRunner, no venv) in another child, at the same
time, with ``logical_date`` (and the
run's configuration) as arguments; KFP's time placeholders get the backend's values
(:func:`af2kfp.bridge.kfp_server.time_placeholders.time_placeholders`, a scheduled time on request);
return values are the tasks' ``Output``. On both sides ``print`` is wrapped by a
``sitecustomize`` on ``PYTHONPATH`` that also writes each printed line, with the task that
printed it, to a file: the Airflow side asks the running task's context, the KFP side reads
the task name the runner is executing (set in the environment of each task's process).
Containers cannot run here: a ``bash -c SCRIPT`` container task (BashOperator) runs its
script with the host's bash instead of the image's, the rest as kfp.local runs it; its
output lines are what it printed.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.convert import convert_graphs
from af2kfp.converters.graph import dag_info
from af2kfp.converters.mappings import map_graph
from tests.runs import sides
from tests.runs.harness import decode_output

__all__ = ["Side", "BothSides", "run_both"]

_SITECUSTOMIZE = '''
import builtins, json, os

_print = builtins.print


def _task():
    task = os.environ.get("AF2KFP_TEST_TASK")
    if task:  # a task's own process, not the runner's (which streams the task's output with print)
        return None if os.environ.get("AF2KFP_TEST_RUNNER") == str(os.getpid()) else (os.environ["AF2KFP_TEST_DAG"], task)
    try:
        from airflow.sdk import get_current_context
        ti = get_current_context()["ti"]
        return ti.dag_id, ti.task_id
    except Exception:
        return None


def print(*args, sep=" ", end="\\n", file=None, flush=False):
    _print(*args, sep=sep, end=end, file=file, flush=flush)
    target = os.environ.get("AF2KFP_TEST_PRINTS")
    task = _task() if target and file is None else None
    if task:
        with open(target, "a") as out:
            out.write(json.dumps({"dag": task[0], "task": task[1], "text": sep.join(map(str, args))}) + "\\n")


builtins.print = print
'''

_AIRFLOW = '''
import json, os, sys
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from airflow.sdk import timezone

DagBundlesManager().sync_bundles_to_db()
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
sync_bag_to_db(bag, "dags-folder", None)
job = json.loads(sys.argv[2])
result = {}
for dag_id in job["dags"]:
    when = timezone.parse(job["logical_date"])
    run = bag.dags[dag_id].test(logical_date=when, run_conf=job["conf"] or None)
    tasks = {}
    with create_session() as session:
        for ti in run.get_task_instances(session=session):
            tasks[ti.task_id] = {"state": str(ti.state)}
        for xcom in session.query(XComModel).filter_by(dag_id=dag_id, run_id=run.run_id, key="return_value"):
            tasks[xcom.task_id]["return"] = XComModel.deserialize_value(xcom)
    result[dag_id] = {"state": str(run.state), "tasks": tasks}
print("RESULT " + json.dumps(result, default=str))
'''

_KFP = '''
import contextlib, importlib.util, io, json, os, sys
from datetime import datetime
from kfp import local
from kfp.local import status, subprocess_task_handler
from kfp.local.orchestrator import task_executor
from af2kfp.bridge.kfp_server.time_placeholders import time_placeholders

_validate = subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component


def validate(self, full_command):
    """A shell-script container (``bash -c SCRIPT``): the host's bash runs it as the image's would."""
    if full_command[:2] not in (["bash", "-c"], ["sh", "-c"]):
        _validate(self, full_command)


subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component = validate


class Tee(io.StringIO):
    def write(self, text):
        sys.__stdout__.write(text)
        return super().write(text)

job = json.loads(sys.argv[1])
os.environ["AF2KFP_TEST_RUNNER"] = str(os.getpid())
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=os.path.join(job["out"], "root"),
           raise_on_error=False)
seen = {}
original = task_executor.execute_single_task


def recorded(*args, **kwargs):
    spec = kwargs.get("task_spec", args[1] if len(args) > 1 else None)
    name = spec.task_info.name
    os.environ["AF2KFP_TEST_TASK"] = name
    stream = Tee()
    try:
        with contextlib.redirect_stdout(stream):
            outputs, result = original(*args, **kwargs)
    finally:
        os.environ.pop("AF2KFP_TEST_TASK", None)
    entry = {"state": "success" if result == status.Status.SUCCESS else "failed"}
    if "[KFP Executor" not in stream.getvalue():  # a container's own output (a Python task's is printed)
        lines, inside = [], False
        for line in stream.getvalue().splitlines():  # kfp.local indents what it streams by four spaces
            if line.endswith("Streamed logs:"):
                inside = True
            elif inside and line.startswith("    "):
                lines.append(line[4:])
            elif inside and line.strip():
                inside = False
        entry["stream"] = [line for line in lines if line.strip()]
    if isinstance(outputs, dict) and "Output" in outputs:
        entry["return"] = outputs["Output"]
    seen.setdefault(CURRENT, {})[name] = entry
    return outputs, result


task_executor.execute_single_task = recorded
result = {}
schedule = datetime.fromisoformat(job["schedule_time"]) if job["schedule_time"] else None
for dag_id, folder in job["dags"].items():
    CURRENT = os.environ["AF2KFP_TEST_DAG"] = dag_id
    spec = importlib.util.spec_from_file_location("pipeline_" + dag_id, os.path.join(folder, "pipeline.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pipeline = next(v for v in vars(module).values()
                    if getattr(v, "pipeline_spec", None) is not None and v.name == job["names"][dag_id])
    arguments = dict(job["arguments"])
    with time_placeholders(schedule_time=schedule):
        try:
            pipeline(**arguments)
            state = "success"
        except RuntimeError:
            state = "failed"
    failed = any(t["state"] == "failed" for t in seen.get(dag_id, {}).values())
    result[dag_id] = {"state": "failed" if failed else state, "tasks": seen.get(dag_id, {})}
print("RESULT " + json.dumps(result, default=str))
'''


def _result(output: str) -> dict[str, Any]:
    return json.loads(output[output.rindex("RESULT ") + len("RESULT "):].splitlines()[0])


@dataclass(frozen=True)
class Side:
    """One side's run of one DAG: its state, and per Airflow task id ``state``, ``return``, ``printed``."""

    state: str
    tasks: dict[str, dict[str, Any]]

    def ran(self) -> set[str]:
        return {t for t, v in self.tasks.items() if v["state"] in ("success", "TaskInstanceState.SUCCESS")}


@dataclass(frozen=True)
class BothSides:
    report: dict[str, Any]
    airflow: dict[str, Side]
    kfp: dict[str, Side]
    folders: dict[str, Path]


def _prints(path: Path) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            found.setdefault((item["dag"], item["task"]), []).append(item["text"])
    return found


def run_both(dags: Path, out: Path, *, logical_date: str, conf: dict[str, Any] | None = None,
             config: Config | None = None, airflow_env: dict[str, str] | None = None,
             kfp_arguments: dict[str, Any] | None = None, schedule_time: str | None = None,
             timeout: float = 900) -> BothSides:
    """Convert ``dags`` into ``out/kfp`` and run every compiled DAG on both sides.

    ``logical_date``: ISO text, Airflow's ``logical_date`` and, unless ``kfp_arguments`` says
    otherwise, the pipeline's ``logical_date`` argument; ``conf``: the run's configuration
    (``dag_run_conf`` in KFP); ``schedule_time``: what KFP gives its scheduled-time placeholder.
    """
    config = config or Config()
    analysis = analyze_paths([dags], config=config)
    report = convert_graphs(analysis.graphs, out / "kfp", files=analysis.files, file_findings=analysis.findings,
                            config=config)
    carriers = {dag_info(graph).dag_id: {t.task_id: t.python.xcoms().get("return_value")
                                         for t in map_graph(graph, config).tasks if t.python is not None}
                for graph in analysis.graphs}
    dags_json = {d["dag_id"]: d for d in report["dags"] if d["kfp"]["compiled"]}
    folders = {dag_id: out / "kfp" / d["folder"] for dag_id, d in dags_json.items()}
    site = out / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    path = os.pathsep.join([str(site), str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])
    airflow_prints, kfp_prints = out / "airflow.prints", out / "kfp.prints"
    env = sides.airflow_env(out / "airflow", dags, PYTHONPATH=path, AF2KFP_TEST_PRINTS=str(airflow_prints),
                            # Airflow 3's defaults (unit test mode turns data intervals on), or as configured.
                            AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS=str(bool(config.create_cron_data_intervals)),
                            AIRFLOW__SCHEDULER__CREATE_DELTA_DATA_INTERVALS=str(bool(config.create_delta_data_intervals)),
                            **(airflow_env or {}))
    job = {"dags": sorted(dags_json), "logical_date": logical_date, "conf": conf or {}}
    parameters = {d: {p["name"] for p in dags_json[d]["kfp"]["parameters"]} for d in dags_json}
    arguments = kfp_arguments if kfp_arguments is not None else {"logical_date": logical_date}
    if conf:
        arguments = {**arguments, "dag_run_conf": conf}
    kfp_job = {"dags": {d: str(f) for d, f in folders.items()}, "out": str(out), "arguments": arguments,
               "names": {d: dags_json[d]["kfp"]["pipeline_name"] for d in folders}, "schedule_time": schedule_time}
    kfp_env = {**os.environ, "PYTHONPATH": path, "AF2KFP_TEST_PRINTS": str(kfp_prints)}
    for dag_id in folders:  # an argument the pipeline does not take would fail the call
        assert set(arguments) <= parameters[dag_id] | {"dag_run_conf"}, (dag_id, parameters[dag_id])
    # The two sides are independent: they run at the same time (a DAG run is mostly waiting on child processes).
    airflow = sides.start([sys.executable, "-c", _AIRFLOW, str(dags), json.dumps(job)], out / "airflow-side",
                          env=env)
    kfp = sides.start([sys.executable, "-c", _KFP, json.dumps(kfp_job)], out / "kfp-side", env=kfp_env, cwd=out)
    airflow, kfp = sides.finish_both((airflow, out / "airflow-side"), (kfp, out / "kfp-side"), timeout)
    a_prints, k_prints = _prints(airflow_prints), _prints(kfp_prints)
    a, k = _result(airflow.stdout), _result(kfp.stdout)
    airflow_sides = {d: Side(v["state"], {t: {**e, "printed": a_prints.get((d, t), [])}
                                          for t, e in v["tasks"].items()}) for d, v in a.items()}
    for d, v in k.items():  # a return value as the task returned it, not as KFP carried it
        for t, e in v["tasks"].items():
            if "return" in e:
                e["return"] = decode_output(e["return"], carriers.get(d, {}).get(t))
    kfp_sides = {d: Side(v["state"], {t: {**e, "printed": k_prints.get((d, t), e.pop("stream", []))}
                                      for t, e in v["tasks"].items()}) for d, v in k.items()}
    return BothSides(report, airflow_sides, kfp_sides, folders)
