"""What a DAG reads of each task's XComs, known before any task is mapped.

A producer's component is built before its consumers are mapped, yet its outputs depend
on how they read it: the XCom keys read one by one (``task_output["key"]``, Airflow's
``multiple_outputs``) each become an output, and a list a ``.expand()`` iterates travels
as one JSON text per item (:data:`~af2kfp.converters.mappings.pytypes.JSON_ITEMS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import networkx as nx

from af2kfp.converters.graph import dag_info, tasks
from af2kfp.converters.mappings.xcom_pull import pulled_task_ids
from af2kfp.converters.templating import TemplateContext, has_template, translate_template
from af2kfp.converters.values import LOOP_PREFIX, Call, TaskRef

__all__ = ["DataFlow", "data_flow", "output_id", "template_refs", "RETURN_VALUE"]

RETURN_VALUE = "return_value"


def output_id(task_id: str, key: str = RETURN_VALUE) -> str:
    """The ``producers`` entry of one XCom: the task id for its return value, ``task[key]`` for a
    key (``[`` is never part of an Airflow task id)."""
    return task_id if key == RETURN_VALUE else f"{task_id}[{key}]"


@dataclass(frozen=True)
class DataFlow:
    """``read_keys``: task id -> the XCom keys tasks read of it (``return_value`` for the whole value);
    ``expanded``: tasks whose return value a ``.expand()`` or a mapped task group iterates (a
    mapped task's results are read one per iteration, in its own loop: not listed);
    ``consumers``: every task whose output another task reads (data edges included);
    ``pushers``: tasks whose callable pushes XComs itself (``ti.xcom_push``)."""

    read_keys: dict[str, frozenset[str]] = field(default_factory=dict)
    expanded: frozenset[str] = frozenset()
    consumers: frozenset[str] = frozenset()
    pushers: frozenset[str] = frozenset()

    def keys(self, task_id: str) -> list[str]:
        """The keys read one by one (not ``return_value``), sorted."""
        return sorted(self.read_keys.get(task_id, frozenset()) - {RETURN_VALUE})


def template_refs(value: Any) -> list[tuple[str, str]]:
    """``(task_id, key)`` of each XCom a templated string reads (``ti.xcom_pull``)."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str) and "xcom_pull" in value and has_template(value):
        found += [(ref.task_id, ref.key)
                  for ref in translate_template(value, TemplateContext(dag_id="", task_id="")).data_refs]
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += template_refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += template_refs(item)
    elif isinstance(value, Call):
        found += template_refs(list(value.args)) + template_refs(value.kwargs)
    return found


def _refs(value: Any) -> Iterator[tuple[str, str]]:
    """``(task_id, key)`` of every XCom a resolved value reads, templates included."""
    if isinstance(value, TaskRef):
        if not value.task_id.startswith(LOOP_PREFIX):
            yield value.task_id, value.key
    elif isinstance(value, str):
        yield from template_refs(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, Call):
        yield from _refs(list(value.args))
        yield from _refs(value.kwargs)


def data_flow(graph: nx.DiGraph) -> DataFlow:
    """Read keys and iterated lists of every task of the graph."""
    read: dict[str, set[str]] = {}
    expanded: set[str] = set()
    for task in tasks(graph):
        values: list[Any] = [task.args, task.call_args, task.call_kwargs]
        if task.mapped is not None:
            values += [task.mapped.partial, task.mapped.expand_kwargs]
            for source in task.mapped.expand.values():
                if isinstance(source, TaskRef) and source.key == RETURN_VALUE:
                    expanded.add(source.task_id)
                values.append(source)
        for task_id, key in _refs(values):
            read.setdefault(task_id, set()).add(key)
        for task_id in pulled_task_ids(task.python):  # ti.xcom_pull(task_ids="x") in the callable
            read.setdefault(task_id, set()).add(RETURN_VALUE)
    for specs in dag_info(graph).group_loops.values():
        for spec in specs:
            items = spec.get("items")
            if isinstance(items, TaskRef):
                expanded.add(items.task_id)
                read.setdefault(items.task_id, set()).add(items.key)
    expanded -= {task.task_id for task in tasks(graph) if task.mapped is not None}  # read in their own loop
    data_edges = {u for u, _, kind in graph.edges(data="kind") if kind == "data"}
    pushers = {task.task_id for task in tasks(graph) if task.python is not None and "xcom_push" in task.python.source}
    return DataFlow({task_id: frozenset(keys) for task_id, keys in read.items()}, frozenset(expanded),
                    frozenset(read) | data_edges, frozenset(pushers))
