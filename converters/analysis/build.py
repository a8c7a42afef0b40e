"""Turn one analyzed DAG into its migration graph (``converters.graph``), with cycle findings."""

from __future__ import annotations

from typing import Any

import networkx as nx

from converters.analysis import codes
from converters.analysis.model import DagObj, GroupObj, TaskObj, to_value
from converters.findings import CODES, Finding
from converters.graph import AirflowTask, DagInfo, add_edge, add_task, new_graph

__all__ = ["build_graph"]


def _plain(value: Any) -> Any:
    return to_value(value)


def _dag_info(dag: DagObj) -> DagInfo:
    kwargs = {key: _plain(value) for key, value in dag.kwargs.items()}
    schedule = kwargs.pop("schedule", kwargs.pop("schedule_interval", None))
    kwargs.pop("schedule_interval", None)
    params = kwargs.pop("params", None) or {}
    from_defaults = _plain(dag.default_args.get("params"))
    if isinstance(params, dict) and isinstance(from_defaults, dict):
        params = {**params, **from_defaults}  # Airflow moves default_args["params"] into the DAG's, over them
    tags = kwargs.pop("tags", [])
    return DagInfo(
        dag_id=dag.dag_id,
        file=dag.file,
        line=dag.line or 0,
        schedule=schedule,
        params=params if isinstance(params, dict) else {"$value": params},
        default_args=_plain(dag.default_args),
        tags=tags if isinstance(tags, list) else [tags],
        description=kwargs.pop("description", None),
        start_date=kwargs.pop("start_date", None),
        end_date=kwargs.pop("end_date", None),
        catchup=kwargs.pop("catchup", None),
        extra={k: v for k, v in kwargs.items() if k not in ("default_args", "dag_id")},
        group_loops=_group_loops(dag.root),
    )


def _group_loops(group: GroupObj | None) -> dict[str, list[dict[str, Any]]]:
    """Every mapped task group under ``group``: its loop variables and what they loop over."""
    found: dict[str, list[dict[str, Any]]] = {}
    stack = [group] if group is not None else []
    while stack:
        current = stack.pop()
        if current.loops and current.group_id:
            found[current.group_id] = [{"variable": v, "items": to_value(items)} for v, items in current.loops]
        stack.extend(current.children)
    return dict(sorted(found.items()))


def _airflow_task(task: TaskObj) -> AirflowTask:
    return AirflowTask(
        task_id=task.task_id,
        operator=task.operator,
        imported_as=task.imported_as,
        file=task.file,
        line=task.line or 0,
        end_line=task.end_line,
        args=task.args,
        from_default_args=list(task.from_default_args),
        call_args=list(task.call_args),
        call_kwargs=dict(task.call_kwargs),
        python=task.python,
        group=task.group.path() if task.group is not None else [],
        mapped=task.mapped,
        role="setup" if task.is_setup else "teardown" if task.is_teardown else "",
        inherits=task.inherits,
    )


def build_graph(dag: DagObj) -> nx.DiGraph:
    """The migration graph of ``dag``: nodes, order/data edges, and the DAG's findings."""
    graph = new_graph(_dag_info(dag))
    for task in dag.tasks.values():
        add_task(graph, _airflow_task(task))
    for task in dag.tasks.values():
        for down in task.downstream:
            if down.dag is dag and down.task_id in dag.tasks and dag.tasks[down.task_id] is down:
                add_edge(graph, task.task_id, down.task_id, "data" if id(task) in down.data_upstream else "order")
    graph.graph["findings"].extend(dag.findings)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        path = " >> ".join([cycle[0][0], *(edge[1] for edge in cycle)])
        entry = CODES[codes.CYCLE]
        graph.graph["findings"].append(
            Finding(
                code=codes.CYCLE,
                severity=entry.severity,
                message=f"DAG '{dag.dag_id}' has a cycle: {path}",
                suggestion=f"Remove one dependency of {path}; Airflow refuses cyclic DAGs.",
                file=dag.file,
                line=dag.line,
                dag_id=dag.dag_id,
            )
        )
    return graph
