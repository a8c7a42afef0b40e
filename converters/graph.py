"""The migration graph: one ``networkx.DiGraph`` per DAG, the single source of truth.

Graph attribute ``dag`` holds a :class:`DagInfo`; attribute ``findings`` the list of
:class:`~af2kfp.converters.findings.Finding` about this DAG and its tasks. Each node is an
Airflow task id (TaskGroup prefix included, exactly as Airflow names it) whose
attribute ``task`` is an :class:`AirflowTask`. Each edge ``upstream -> downstream``
has attribute ``kind``: ``"order"`` (``>>``, ``set_downstream``, ``chain``...) or
``"data"`` (a TaskFlow return value / XComArg passed in; data implies order).

The graph serialises to JSON losslessly with :func:`graph_to_json` / :func:`graph_from_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Iterable

import networkx as nx

from af2kfp.converters.errors import GraphFormatError
from af2kfp.converters.findings import Finding
from af2kfp.converters.values import from_json, to_json

__all__ = [
    "DagInfo",
    "AirflowTask",
    "PythonCallable",
    "Mapped",
    "Inherits",
    "EDGE_KINDS",
    "new_graph",
    "add_task",
    "add_edge",
    "dag_info",
    "tasks",
    "task",
    "findings",
    "graph_to_json",
    "graph_from_json",
    "order_edges",
]

EDGE_KINDS = ("order", "data")


@dataclass(kw_only=True)
class DagInfo:
    """What a DAG declares besides its tasks; values are resolved (see ``af2kfp.converters.values``)."""

    dag_id: str
    file: str
    line: int
    schedule: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    default_args: dict[str, Any] = field(default_factory=dict)
    tags: list[Any] = field(default_factory=list)
    description: Any = None
    start_date: Any = None
    end_date: Any = None
    catchup: Any = None
    # Every other DAG(...) keyword, resolved, e.g. max_active_runs, on_failure_callback.
    extra: dict[str, Any] = field(default_factory=dict)
    # Mapped task groups: group id -> [{"variable": loop variable, "items": list or TaskRef}]
    # (one per expanded parameter); their tasks read ``TaskRef(LOOP_PREFIX + variable)``.
    group_loops: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(kw_only=True)
class PythonCallable:
    """The Python function behind a PythonOperator or a ``@task``: source kept verbatim.

    ``source`` is the ``def`` as written (decorators removed), ``name`` its name,
    ``file``/``line`` where it is defined (the ``def`` line: the first of ``source``), ``imports`` the module-level import
    statements of its file that the body may need (moved inside the component),
    ``constants`` the module-level literal assignments the body reads, name -> the
    assignment as written (copied inside the component; see ``af2kfp.converters.analysis.constants``).
    ``local_modules``: the modules its file's imports and its own body import from the
    scanned repository (dotted as written, relative ones with their dots).
    ``carried``: each name the callable's module or body imports from the repository and may
    read -> the keys of ``carried_code`` that define it (dependencies first), copied into the
    component; or why it cannot be (``file:line: reason``). See ``af2kfp.converters.analysis.carry``.
    """

    name: str
    source: str
    file: str
    line: int
    imports: list[str] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)
    local_modules: list[str] = field(default_factory=list)
    carried: dict[str, list[str] | str] = field(default_factory=dict)
    carried_code: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class Mapped:
    """Dynamic task mapping: ``.partial(**partial).expand(**expand)`` or ``.expand_kwargs(source)``."""

    partial: dict[str, Any] = field(default_factory=dict)
    expand: dict[str, Any] = field(default_factory=dict)
    expand_kwargs: Any = None


@dataclass(kw_only=True)
class Inherits:
    """A repository's own operator class: what it derives from, and the run-time methods it overrides.

    ``bases``: qualified names of its ancestors, nearest first, the operator class Airflow or a provider
    ships last (``["lib.operators.SparkOperator", "airflow.providers...KubernetesPodOperator"]``);
    ``overrides``: ``"method (file:line)"`` for each method Airflow calls to run the task that a repository
    class in between defines (``execute``, ``pre_execute``, ``build_pod_request_obj``...); ``extends``: the
    ones that only call the parent's with their own arguments untouched, and add to it (``get_or_create_pod``
    persisting a link).
    """

    bases: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    extends: list[str] = field(default_factory=list)
    # What its __init__ passes to the class it derives from (``default_args`` merged): the arguments a base's
    # rule maps. The task's own ``args`` stay the call's, which the class itself takes (the fallback).
    arguments: dict[str, Any] = field(default_factory=dict)
    # ``.expand(x=...)`` of an argument __init__ passes on under another name: call name -> that name.
    expanded_as: dict[str, str] = field(default_factory=dict)
    # What its own ``pre_execute``/``execute``/``build_pod_request_obj`` set on ``self`` before calling the parent's
    # (evaluated by the analyzer): more arguments for the parent's rule, over ``arguments``. Airflow's DagBag never
    # sees them (they are set when the task runs).
    at_run: dict[str, Any] = field(default_factory=dict)
    # Those overrides whose code ``at_run`` carries over whole: ``"execute (file:line)"``.
    applied: list[str] = field(default_factory=list)
    # What the KFP task does not do of an evaluated override: ``[code, "method (file:line)", message]``; M281 (code
    # not carried over), M284 (a skip or fail on a condition not known at conversion), M285 (never runs in Airflow).
    notes: list[list[str]] = field(default_factory=list)


@dataclass(kw_only=True)
class AirflowTask:
    """One Airflow task as the analyzer resolved it, before any mapping.

    ``operator`` is the canonical qualified class name (legacy 1.10 paths rewritten to
    today's, e.g. ``airflow.providers.docker.operators.docker.DockerOperator``);
    ``imported_as`` the qualified name as the file imported it. TaskFlow tasks use the
    decorator's name, e.g. ``airflow.sdk.task``, ``airflow.sdk.task.docker``.
    ``args`` are the keyword arguments after ``default_args`` merging, as Airflow does
    it; ``from_default_args`` names the keys that came from ``default_args``.
    ``call_args``/``call_kwargs`` are what a TaskFlow function was called with.
    """

    task_id: str
    operator: str
    imported_as: str
    file: str
    line: int
    end_line: int | None = None
    args: dict[str, Any] = field(default_factory=dict)
    from_default_args: list[str] = field(default_factory=list)
    call_args: list[Any] = field(default_factory=list)
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    python: PythonCallable | None = None
    group: list[str] = field(default_factory=list)
    mapped: Mapped | None = None
    # "setup" / "teardown" (``.as_setup()``, ``.as_teardown()``, ``@setup``, ``@teardown``), else "".
    role: str = ""
    # A class of the repository deriving from an operator: its rule comes from the nearest mapped base.
    inherits: Inherits | None = None


def new_graph(info: DagInfo) -> nx.DiGraph:
    """An empty migration graph for one DAG."""
    graph = nx.DiGraph()
    graph.graph["dag"] = info
    graph.graph["findings"] = []
    return graph


def add_task(graph: nx.DiGraph, airflow_task: AirflowTask) -> None:
    """Add a task node; a second task with the same id is the caller's finding to report."""
    graph.add_node(airflow_task.task_id, task=airflow_task)


def add_edge(graph: nx.DiGraph, upstream: str, downstream: str, kind: str = "order") -> None:
    """Add a dependency; a data edge wins over an order edge between the same tasks."""
    if kind not in EDGE_KINDS:
        raise GraphFormatError(f"unknown edge kind {kind!r}")
    if graph.has_edge(upstream, downstream) and graph.edges[upstream, downstream]["kind"] == "data":
        return
    graph.add_edge(upstream, downstream, kind=kind)


def dag_info(graph: nx.DiGraph) -> DagInfo:
    return graph.graph["dag"]


def task(graph: nx.DiGraph, task_id: str) -> AirflowTask:
    return graph.nodes[task_id]["task"]


def tasks(graph: nx.DiGraph) -> list[AirflowTask]:
    """Tasks in source order (file line, then task id) so every output is stable."""
    found = [data["task"] for _, data in graph.nodes(data=True)]
    return sorted(found, key=lambda t: (t.file, t.line, t.task_id))


def findings(graph: nx.DiGraph) -> list[Finding]:
    return graph.graph["findings"]


def _dataclass_to_json(obj: Any) -> Any:
    if obj is None:
        return None
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, (PythonCallable, Mapped, Inherits)):
            out[f.name] = _dataclass_to_json(value)
        else:
            out[f.name] = to_json(value)
    return out


def _resolved(data: dict[str, Any]) -> dict[str, Any]:
    return {key: from_json(value) for key, value in data.items()}


def graph_to_json(graph: nx.DiGraph) -> dict[str, Any]:
    """The whole graph as JSON data: ``{"dag", "tasks", "edges", "findings"}``."""
    return {
        "dag": _dataclass_to_json(dag_info(graph)),
        "tasks": [_dataclass_to_json(t) for t in tasks(graph)],
        "edges": [
            {"upstream": u, "downstream": v, "kind": data["kind"]}
            for u, v, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1]))
        ],
        "findings": [f.to_json() for f in findings(graph)],
    }


def graph_from_json(data: dict[str, Any]) -> nx.DiGraph:
    """Rebuild what :func:`graph_to_json` wrote; ``graph_to_json(graph_from_json(d)) == d``."""
    try:
        graph = new_graph(DagInfo(**_resolved(data["dag"])))
        for raw in data["tasks"]:
            values = _resolved({k: v for k, v in raw.items() if k not in ("python", "mapped", "inherits")})
            python = raw.get("python")
            mapped = raw.get("mapped")
            inherits = raw.get("inherits")
            add_task(
                graph,
                AirflowTask(
                    **values,
                    python=PythonCallable(**python) if python else None,
                    mapped=Mapped(**_resolved(mapped)) if mapped else None,
                    inherits=Inherits(**{**inherits, "arguments": _resolved(inherits.get("arguments", {})),
                                         "at_run": _resolved(inherits.get("at_run", {}))})
                    if inherits else None,
                ),
            )
        for edge in data["edges"]:
            add_edge(graph, edge["upstream"], edge["downstream"], edge["kind"])
        graph.graph["findings"].extend(Finding.from_json(f) for f in data["findings"])
    except (KeyError, TypeError) as exc:
        raise GraphFormatError(f"not a migration graph: {exc}") from exc
    return graph


def order_edges(graph: nx.DiGraph) -> Iterable[tuple[str, str]]:
    """Every dependency as ``(upstream, downstream)``, data edges included, sorted."""
    return sorted((u, v) for u, v in graph.edges())
