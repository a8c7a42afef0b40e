"""Run DAG files on both sides and compare them task by task: Airflow's ``dag.test()`` and,
converted by af2kfp, ``kfp.local`` (``SubprocessRunner(use_venv=False)``).

API (everything else is private)::

    runs = run_dags(dags, out, dag_ids=None, config=None, timeout=900, airflow_env=None)
    runs.differences(dag_id)   # [] when both sides agree, else one readable line per difference
    runs.airflow[dag_id]       # SideRun: .state ("success"/"failed"; KFP: or "kfp.local error: ..."),
                               #          .tasks {task_id: (TaskRun, ...)}
    runs.kfp[dag_id]           # the same, from kfp.local
    runs.report                # af2kfp's report.json, as a dict
    runs.folders[dag_id]       # the converted pipeline's folder (pipeline.py, pipeline.yaml)
    runs.out                   # ``out``: marker files, the Airflow home, the KFP pipeline root

``dags``: a folder of DAG files (Airflow parses it as its DAGs folder); every DAG whose
pipeline compiled runs on both sides (``dag_ids``: only these). Each side runs in a child
process: Airflow with a fresh SQLite database (:mod:`tests.runs.sides`), kfp.local from the
generated ``pipeline.py``.
``airflow_env``: what only Airflow's side gets (``AIRFLOW_VAR_*`` Variables, a ``PYTHONPATH``
holding the repository root as Airflow's deployment has it); the converted side gets nothing of it.

A :class:`TaskRun` is one run of a task (one per map index for a mapped task, in map
index order; a task that did not run has none): ``state`` (``success``/``failed``; Airflow's
other states as it names them; ``skipped`` for a KFP task that reported ``AirflowSkipException``),
``value`` (its return value: Airflow's ``return_value`` XCom; the KFP output decoded as the
converter encoded it; ``None`` for none) and ``printed`` (the lines it wrote to stdout;
Airflow's own log lines, the traceback it logs for a failed task, and KFP's executor logs
are not part of it). A shell-script container task (``sh -c``/``bash -c``: an EmptyOperator
kept as a task, a BashOperator) runs its script with the host's shell. The two sides run at
the same time, each in its own process group.
:meth:`Runs.differences` compares, per task the pipeline kept (folded tasks have no KFP
side), whether and how often it ran, its states, its values (JSON-equal: ``1`` is not
``1.0``; a branch's decision is not compared, KFP reports it its own way) and its printed
lines, and the run states. Tasks may also append lines to the file ``$CF_MARKERS``
(``out/<dag_id>.airflow`` / ``out/<dag_id>.kfp``; :func:`markers` reads them).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.convert import convert_graphs
from af2kfp.converters.graph import dag_info
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.mappings.pytypes import INT_ITEMS, JSON, JSON_ITEMS
from tests.runs import sides

__all__ = ["TaskRun", "SideRun", "Runs", "run_dags", "markers"]

_AIRFLOW = r"""
import io, json, os, re, sys
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
import airflow.sdk.definitions.dag as dag_module

_LOG = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z? \[")


def without_tracebacks(lines):
    # Airflow logs a failed task's traceback to stdout: its log, not what the task printed.
    kept, inside = [], False
    for line in lines:
        if line.startswith("Traceback (most recent call last):"):
            inside = True
        elif inside and not line.startswith(" "):
            inside = False  # the exception line closes it
        elif not inside:
            kept.append(line)
    return kept


class Capture(io.TextIOBase):
    # What each running task writes to stdout (dag.test() runs tasks in this process).
    def __init__(self, real):
        self.real, self.current, self.text = real, None, {}

    def write(self, text):
        if self.current is not None:
            self.text[self.current] = self.text.get(self.current, "") + text
        return self.real.write(text)

    def flush(self):
        self.real.flush()


capture = Capture(sys.stdout)
run_task = dag_module._run_task


def _run_task(*, ti, task, **kwargs):
    capture.current = (ti.dag_id, ti.task_id, ti.map_index)
    try:
        return run_task(ti=ti, task=task, **kwargs)
    finally:
        capture.current = None


dag_module._run_task = _run_task
sys.path.insert(0, sys.argv[1])  # as Airflow's DAG processor puts the DAGs folder on sys.path
DagBundlesManager().sync_bundles_to_db()
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
sync_bag_to_db(bag, "dags-folder", None)
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

result = {}
for dag_id in json.loads(sys.argv[2]):
    os.environ["CF_MARKERS"] = os.path.join(sys.argv[3], dag_id + ".airflow")
    open(os.environ["CF_MARKERS"], "w").close()
    sys.stdout = capture
    try:
        run = bag.dags[dag_id].test()
    finally:
        sys.stdout = capture.real
    tasks = {}
    with create_session() as session:
        values = {(x.task_id, x.map_index): XComModel.deserialize_value(x) for x in session.query(XComModel).filter(
            XComModel.dag_id == dag_id, XComModel.run_id == run.run_id, XComModel.key == "return_value")}
        for ti in sorted(run.get_task_instances(session=session), key=lambda t: (t.task_id, t.map_index)):
            text = capture.text.get((dag_id, ti.task_id, ti.map_index), "")
            printed = without_tracebacks([line for line in text.splitlines() if not _LOG.match(line)])
            tasks.setdefault(ti.task_id, []).append({
                "state": str(ti.state.value if hasattr(ti.state, "value") else ti.state),
                "value": values.get((ti.task_id, ti.map_index)), "printed": printed})
    result[dag_id] = {"state": str(run.state.value if hasattr(run.state, "value") else run.state), "tasks": tasks}
print("RESULT " + json.dumps(result, default=repr))
"""

_KFP = r"""
import importlib.util, json, os, re, subprocess, sys, threading
from kfp import local
from kfp.local import subprocess_task_handler
from kfp.local.orchestrator import task_executor

here = threading.local()  # ParallelFor iterations run in threads
records, current = [], {}


_LOG = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z? \[")


def _printed(lines):
    # The executor logs to stdout too: "[KFP Executor ...]" lines, and the executor input as JSON
    # (as log records in Airflow's format once the task imported Airflow).
    kept, skipping = [], False
    for line in lines:
        if skipping:
            skipping = line != "}"
        elif line.startswith("[KFP Executor "):
            skipping = line.endswith("Got executor_input:")
        elif not _LOG.match(line):
            kept.append(line)
    return kept


def run_local_subprocess(full_command, env_vars=None):
    done = subprocess.run(full_command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, **(env_vars or {})})
    here.printed = _printed(done.stdout.splitlines())
    sys.stderr.write(done.stdout + done.stderr)
    return done.returncode


execute_single_task = task_executor.execute_single_task


def _execute_single_task(**kwargs):
    here.printed = []
    outputs, status = execute_single_task(**kwargs)
    where = kwargs["pipeline_resource_name"] + "/" + kwargs["task_name"]
    records.append({"dag": current["dag_id"], "task_id": kwargs["task_spec"].task_info.name or kwargs["task_name"],
                    "index": [int(i) for i in re.findall(r"-iteration-(\d+)", where)],
                    "state": "success" if status.name == "SUCCESS" else "failed", "outputs": outputs,
                    "printed": here.printed})
    return outputs, status


_validate = subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component


def validate(self, full_command):
    # A shell-script container (an EmptyOperator's `sh -c true`, a BashOperator): the host's shell runs it.
    if full_command[:2] not in (["bash", "-c"], ["sh", "-c"]):
        _validate(self, full_command)


subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component = validate
subprocess_task_handler.run_local_subprocess = run_local_subprocess
task_executor.execute_single_task = _execute_single_task
from af2kfp.bridge.kfp_server.time_placeholders import time_placeholders

local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=os.path.join(sys.argv[2], "root"))
states = {}
for dag_id, (folder, name) in json.loads(sys.argv[1]).items():
    current["dag_id"] = dag_id
    os.environ["CF_MARKERS"] = os.path.join(sys.argv[2], dag_id + ".kfp")
    open(os.environ["CF_MARKERS"], "w").close()
    spec = importlib.util.spec_from_file_location("pipeline_" + dag_id, os.path.join(folder, "pipeline.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pipeline = next(value for value in vars(module).values()
                    if getattr(value, "pipeline_spec", None) is not None and getattr(value, "name", None) == name)
    try:
        with time_placeholders():  # kfp.local resolves no time placeholder (see that module)
            pipeline()
        states[dag_id] = "success"
    except RuntimeError:
        states[dag_id] = "failed"
    except Exception as exc:  # kfp.local itself gave up: say so, run the other DAGs
        states[dag_id] = f"kfp.local error: {type(exc).__name__}: {exc}"
print("RESULT " + json.dumps({"states": states, "records": records}, default=repr))
"""


@dataclass(frozen=True)
class TaskRun:
    """One run of one task (one map index): ``state``, return ``value``, ``printed`` lines."""

    state: str
    value: Any = None
    printed: tuple[str, ...] = ()


@dataclass(frozen=True)
class SideRun:
    """One DAG run on one side: its ``state`` and the runs of each task id (in map index order)."""

    state: str
    tasks: dict[str, tuple[TaskRun, ...]] = field(default_factory=dict)


def _result(output: str) -> Any:
    return json.loads(output[output.rindex("RESULT ") + len("RESULT "):].splitlines()[0])


def markers(path: Path) -> Counter[str]:
    """The lines tasks appended to ``$CF_MARKERS`` on one side, with how often (a mapped task writes once per item)."""
    return Counter(line for line in path.read_text(encoding="utf-8").splitlines() if line)


def decode_output(value: Any, carrier: str | None) -> Any:
    """A KFP output as the task returned it (see af2kfp.converters.mappings.pytypes)."""
    if carrier == JSON:
        return json.loads(value)
    if carrier == JSON_ITEMS:
        return [json.loads(item) for item in value]
    if carrier == INT_ITEMS:
        return [int(item) for item in value]
    if carrier == "int" and isinstance(value, (int, float, str)):
        return int(value)
    return value


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


@dataclass(frozen=True)
class Runs:
    """Both sides' runs of every compiled DAG; see the module docstring."""

    out: Path
    report: dict
    folders: dict[str, str]
    airflow: dict[str, SideRun]
    kfp: dict[str, SideRun]
    # dag id -> the task ids whose return value is compared (kept tasks that decide nothing)
    compared: dict[str, frozenset[str]] = field(default_factory=dict)

    def differences(self, dag_id: str) -> list[str]:
        """What differs between the two runs of ``dag_id``; ``[]`` when they agree."""
        airflow, kfp = self.airflow[dag_id], self.kfp[dag_id]
        found = [] if airflow.state == kfp.state else [f"run state: Airflow {airflow.state}, KFP {kfp.state}"]
        kept = {t["task_id"] for t in _dag(self.report, dag_id)["airflow"]["tasks"] if t.get("kfp_task")}
        for task_id in sorted(kept):
            mine = [r for r in airflow.tasks.get(task_id, ()) if r.state in ("success", "failed")]
            theirs = [r for r in kfp.tasks.get(task_id, ()) if r.state in ("success", "failed")]
            if len(mine) != len(theirs):
                found.append(f"{task_id}: ran {len(mine)} time(s) in Airflow, {len(theirs)} in KFP")
                continue
            for index, (a, k) in enumerate(zip(mine, theirs)):
                where = task_id if len(mine) == 1 else f"{task_id}[{index}]"
                if a.state != k.state:
                    found.append(f"{where}: state Airflow {a.state}, KFP {k.state}")
                elif a.state == "success" and task_id in self.compared.get(dag_id, ()) and _json(a.value) != _json(
                        k.value):
                    found.append(f"{where}: returned {_json(a.value)} in Airflow, {_json(k.value)} in KFP")
                if a.printed != k.printed:
                    found.append(f"{where}: printed {list(a.printed)} in Airflow, {list(k.printed)} in KFP")
        return found


def _dag(report: dict, dag_id: str) -> dict:
    return next(d for d in report["dags"] if d["dag_id"] == dag_id)


def _kfp_runs(records: list[dict], states: dict[str, str], carriers: dict[str, dict[str, dict[str, str]]],
              skips: dict[str, dict[str, str]]) -> dict[str, SideRun]:
    """KFP's task runs; a task that reported ``AirflowSkipException`` (its skip output False) is ``skipped``."""
    by_dag: dict[str, dict[str, list[dict]]] = {dag_id: {} for dag_id in states}
    for record in records:
        by_dag[record["dag"]].setdefault(record["task_id"], []).append(record)
    side = {}
    for dag_id, tasks in by_dag.items():
        runs = {}
        for task_id, found in tasks.items():
            xcoms = carriers.get(dag_id, {}).get(task_id, {})
            named = "return_value" if "return_value" in found[0]["outputs"] else "Output"
            flag = skips.get(dag_id, {}).get(task_id)
            runs[task_id] = tuple(
                TaskRun("skipped" if flag and r["outputs"] and r["outputs"].get(flag) is False else r["state"],
                        decode_output(r["outputs"].get(named), xcoms.get("return_value"))
                        if r["outputs"] and flag != "Output" else None, tuple(r["printed"]))
                for r in sorted(found, key=lambda r: r["index"]))
        side[dag_id] = SideRun(states[dag_id], runs)
    return side


def run_dags(dags: Path, out: Path, *, dag_ids: list[str] | None = None, config: Config | None = None,
             timeout: float = 900, airflow_env: dict[str, str] | None = None) -> Runs:
    """Convert the DAG files of ``dags`` into ``out/kfp`` and run every compiled DAG (or ``dag_ids``) on both sides."""
    config = config or Config()
    analysis = analyze_paths([dags], config=config)
    report = convert_graphs(analysis.graphs, out / "kfp", files=analysis.files, file_findings=analysis.findings,
                            config=config)
    folders = {d["dag_id"]: str(out / "kfp" / d["folder"]) for d in report["dags"] if d["kfp"]["compiled"]
               and (dag_ids is None or d["dag_id"] in dag_ids)}
    carriers: dict[str, dict[str, dict[str, str]]] = {}
    compared: dict[str, frozenset[str]] = {}
    skips: dict[str, dict[str, str]] = {}
    functions: dict[str, tuple[str, str]] = {}
    for graph in analysis.graphs:
        dag_id = dag_info(graph).dag_id
        if dag_id not in folders:
            continue
        mapped = map_graph(graph, config)
        carriers[dag_id] = {t.task_id: t.python.xcoms() for t in mapped.tasks if t.python is not None}
        compared[dag_id] = frozenset(t.task_id for t in mapped.tasks if t.kind == "python" and (
            t.decision is None or t.decision.mode == "skip"))
        skips[dag_id] = {t.task_id: t.python.skip_output for t in mapped.tasks
                         if t.python is not None and t.python.skip_output is not None}
        functions[dag_id] = (folders[dag_id], _dag(report, dag_id)["kfp"]["pipeline_name"])
    env = {**sides.airflow_env(out / "airflow", dags), **(airflow_env or {})}
    # The two sides are independent: they run at the same time (a DAG run is mostly waiting on child processes).
    airflow = sides.start([sys.executable, "-c", _AIRFLOW, str(dags), json.dumps(sorted(folders)), str(out)],
                          out / "airflow-side", env=env)
    kfp = sides.start([sys.executable, "-c", _KFP, json.dumps(functions), str(out)], out / "kfp-side", cwd=out)
    airflow, kfp = sides.finish_both((airflow, out / "airflow-side"), (kfp, out / "kfp-side"), timeout)
    airflow_side = {dag_id: SideRun(run["state"], {task_id: tuple(TaskRun(r["state"], r["value"], tuple(r["printed"]))
                                                                 for r in found)
                                                   for task_id, found in run["tasks"].items()})
                    for dag_id, run in _result(airflow.stdout).items()}
    result = _result(kfp.stdout)
    return Runs(out, report, folders, airflow_side, _kfp_runs(result["records"], result["states"], carriers, skips), compared)
