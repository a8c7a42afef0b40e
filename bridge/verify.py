"""``af2kfp verify``: the static analysis checked against what Airflow itself builds from the same files.

Airflow's ``DagBag`` loads the files in a child process (:mod:`af2kfp.bridge.airflow_truth`: it
runs the DAG code, so callers must opt in); the analyzer reads them without running them.
Compared DAG by DAG: which DAGs exist, task ids, edges, operator classes and the resolved
arguments Airflow reports (image, command, env, retries). An argument the analyzer could
not resolve is counted as ``unknown``, not as a difference. Files Airflow cannot import
are listed with Airflow's error; their DAGs are not compared.

SubDAGs (Airflow 2.x): the analyzer flattens a SubDagOperator into its parent's graph, the
sub-DAG's tasks prefixed ``<task_id>.`` (finding A117), and makes no pipeline of the sub-DAG.
The DagBag side is reported the same way (:mod:`af2kfp.bridge.airflow_truth` expands the operator and
leaves out DagBag's ``parent.child`` sub-DAGs), so a flattened SubDAG is compared task by task,
edge by edge and argument by argument, and a correct flattening shows no difference. A
SubDagOperator whose sub-DAG the analyzer cannot resolve (A118) stays one task and shows up as
``task_only_in_airflow`` / ``task_only_in_analysis`` differences explained by A118. Airflow 3 has
no SubDagOperator: such files are import errors there, listed, not compared.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from af2kfp.bridge.airflow_truth import RESOLVED_ARGS, AirflowLoadError, load_with_airflow
from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.errors import Af2KfpError
from af2kfp.converters.graph import dag_info, tasks
from af2kfp.converters.values import Call, TaskRef, is_known, to_json

__all__ = ["Difference", "VerifyResult", "verify_paths", "compare", "AirflowMissingError", "KINDS",
           "airflow_environment"]

# Difference kinds, in report order.
KINDS = ("dag_only_in_airflow", "dag_only_in_analysis", "task_only_in_airflow", "task_only_in_analysis",
         "edge_only_in_airflow", "edge_only_in_analysis", "operator", "argument")
_NO_AIRFLOW = re.compile(r"No module named '(airflow|airflow\.dag_processing[\w.]*)'")


class AirflowMissingError(Af2KfpError):
    """The interpreter cannot import Airflow, so there is nothing to verify against."""


@dataclass(frozen=True, kw_only=True)
class Difference:
    """One way the static analysis differs from Airflow's own DagBag."""

    kind: str
    file: str
    dag_id: str
    task_id: str | None = None
    detail: str = ""
    analysis: Any = None
    airflow: Any = None
    # Analyzer finding codes on the DAG that say why it may differ (dynamic constructs).
    explained_by: list[str] = field(default_factory=list)

    def text(self) -> str:
        where = f"{self.file}: {self.dag_id}" + (f".{self.task_id}" if self.task_id else "")
        why = f" (analyzer findings: {', '.join(self.explained_by)})" if self.explained_by else ""
        return f"{where}: {self.kind}: {self.detail}{why}"


@dataclass(kw_only=True)
class VerifyResult:
    """Every difference plus what was compared; ``to_json`` is the ``-o verify.json`` document."""

    differences: list[Difference] = field(default_factory=list)
    dags_compared: int = 0
    dags_identical: int = 0
    tasks_compared: int = 0
    arguments_compared: int = 0
    arguments_unknown: int = 0
    import_errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "summary": {"dags_compared": self.dags_compared, "dags_identical": self.dags_identical,
                        "tasks_compared": self.tasks_compared, "arguments_compared": self.arguments_compared,
                        "arguments_unknown": self.arguments_unknown, "differences": len(self.differences)},
            "differences": [asdict(d) for d in self.differences],
            "airflow_import_errors": dict(sorted(self.import_errors.items())),
        }


def _same_operator(ours: str, theirs: dict[str, Any]) -> bool:
    """Same class, allowing for re-exports (same class name), mapped operators (Airflow's
    ``task_type`` names the class) and decorators (``@task``, ``@asset``), whose class is Airflow's own."""
    name = ours.rsplit(".", 1)[-1]
    if name in (theirs["operator"].rsplit(".", 1)[-1], theirs.get("task_type")):
        return True
    built = theirs["operator"].rsplit(".", 1)[-1]
    return name[:1].islower() and (built.startswith("_") or "Decorated" in built)


def _normal(key: str, value: Any) -> Any:
    """The analyzer's value in the shape Airflow stores it (``env_vars`` become V1EnvVar dicts)."""
    if key == "env_vars" and isinstance(value, dict):
        return [{"name": k, "value": v, "value_from": None} for k, v in value.items()]
    if key == "env_vars" and isinstance(value, list):
        return [{"name": c.kwargs.get("name"), "value": c.kwargs.get("value"), "value_from": None}
                if isinstance(c, Call) else to_json(c) for c in value]
    return to_json(value)


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, dict) and "$task" in ours:  # an XCom: Airflow shows the XComArg's text
        return isinstance(theirs, str) and ours["$task"] in theirs
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs))
    return ours == theirs


def _explaining(graph: nx.DiGraph) -> list[str]:
    return sorted({f.code for f in graph.graph["findings"] if f.code.startswith("A") and f.severity.rank >= 1})


def _compare_dag(result: VerifyResult, file: str, graph: nx.DiGraph, built: dict[str, Any]) -> None:
    dag_id = dag_info(graph).dag_id
    explained = _explaining(graph)
    before = len(result.differences)

    def add(kind: str, task_id: str | None, detail: str, ours: Any = None, theirs: Any = None) -> None:
        result.differences.append(Difference(kind=kind, file=file, dag_id=dag_id, task_id=task_id, detail=detail,
                                             analysis=ours, airflow=theirs, explained_by=explained))

    ours_tasks = {t.task_id: t for t in tasks(graph)}
    theirs_tasks = built["tasks"]
    for task_id in sorted(set(theirs_tasks) - set(ours_tasks)):
        add("task_only_in_airflow", task_id, f"{theirs_tasks[task_id]['operator']} not found by the analyzer")
    for task_id in sorted(set(ours_tasks) - set(theirs_tasks)):
        add("task_only_in_analysis", task_id, f"{ours_tasks[task_id].operator} not built by Airflow")
    ours_edges, theirs_edges = set(graph.edges), {tuple(e) for e in built["edges"]}
    for u, v in sorted(theirs_edges - ours_edges):
        add("edge_only_in_airflow", v, f"{u} >> {v}")
    for u, v in sorted(ours_edges - theirs_edges):
        add("edge_only_in_analysis", v, f"{u} >> {v}")
    for task_id in sorted(set(ours_tasks) & set(theirs_tasks)):
        result.tasks_compared += 1
        task, theirs = ours_tasks[task_id], theirs_tasks[task_id]
        if not _same_operator(task.operator, theirs):
            add("operator", task_id, f"analyzer {task.operator}, Airflow {theirs['operator']}",
                task.operator, theirs["operator"])
        # A repository operator: Airflow reports what its __init__ passed to the class it derives from.
        args = task.inherits.arguments if task.inherits is not None and task.inherits.arguments else task.args
        for key in RESOLVED_ARGS:
            if key not in args or key not in theirs["args"]:
                continue
            value = args[key]
            if not is_known(value):
                result.arguments_unknown += 1
                continue
            result.arguments_compared += 1
            ours = _normal(key, value)
            xcom_text = isinstance(value, TaskRef) and isinstance(theirs["args"][key], str)
            if not _same(ours, theirs["args"][key]) and not xcom_text:
                add("argument", task_id, f"{key}: analyzer {ours!r}, Airflow {theirs['args'][key]!r}",
                    ours, theirs["args"][key])
    result.dags_compared += 1
    result.dags_identical += len(result.differences) == before


def compare(truth: dict[str, Any], graphs: list[nx.DiGraph]) -> VerifyResult:
    """Every difference between Airflow's DagBag (``truth``) and the analyzer's graphs."""
    result = VerifyResult(import_errors=dict(truth.get("import_errors", {})))
    ours = {(str(Path(dag_info(g).file).resolve()), dag_info(g).dag_id): g for g in graphs}
    seen = set()
    for file, dags in sorted(truth.get("files", {}).items()):
        for dag_id, built in sorted(dags.items()):
            graph = ours.get((file, dag_id))
            if graph is None:
                detail = f"{len(built['tasks'])} tasks; the analyzer found no such DAG"
                result.differences.append(Difference(kind="dag_only_in_airflow", file=file, dag_id=dag_id, detail=detail))
                continue
            seen.add((file, dag_id))
            _compare_dag(result, file, graph, built)
    for (file, dag_id), graph in sorted(ours.items(), key=lambda item: item[0]):
        if (file, dag_id) in seen or file in result.import_errors:
            continue
        result.differences.append(Difference(kind="dag_only_in_analysis", file=file, dag_id=dag_id,
                                             detail="Airflow built no such DAG from this file",
                                             explained_by=_explaining(graph)))
    result.differences.sort(key=lambda d: (d.file, d.dag_id, KINDS.index(d.kind), d.task_id or ""))
    return result


def airflow_environment(config: Config) -> dict[str, str]:
    """What Airflow reads the conversion's environment from: ``AIRFLOW_VAR_<KEY>`` Variables,
    ``AIRFLOW_CONN_<ID>`` Connections (JSON, their non-secret fields only) and the variables themselves."""
    environment = config.environment
    found = dict(environment.env)
    found.update({f"AIRFLOW_VAR_{key.upper()}": text for key, text in environment.variables.items()})
    for conn_id, connection in environment.connections.items():
        fields = {k: v for k, v in (("conn_type", connection.conn_type), ("host", connection.host),
                                    ("port", connection.port), ("schema", connection.schema),
                                    ("login", connection.login), ("extra", connection.extra or None)) if v}
        found[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(fields)
    return found


def verify_paths(
    paths: list[Path], config: Config | None = None, timeout: float = 300, python: str | None = None
) -> VerifyResult:
    """Analyze ``paths`` statically, load them with Airflow in a child process (run by ``python``,
    default this interpreter, e.g. an Airflow 2.10 environment's), compare.

    The child gets the conversion's Variables, Connections and environment variables, and the repository
    root and its plugins/ on ``sys.path``, so both sides see the same repository."""
    config = config or Config()
    analysis = analyze_paths(paths, config)
    roots = [Path(config.root), Path(config.root) / "plugins"] if config.root else []
    try:
        truth = load_with_airflow(paths, timeout=timeout, python=python, environment=airflow_environment(config),
                                  sys_path=[r for r in roots if r.is_dir()])
    except AirflowLoadError as exc:
        if _NO_AIRFLOW.search(str(exc)):
            raise AirflowMissingError(
                "Airflow is not installed in this Python environment, so af2kfp verify has nothing to compare "
                "with; install it (pip install 'af2kfp[airflow]') or run af2kfp from your Airflow environment"
            ) from exc
        raise
    return compare(truth, analysis.graphs)
