"""Turn one analyzed DAG into its migration graph (``af2kfp.converters.graph``), with cycle findings."""

from __future__ import annotations

from typing import Any

import networkx as nx

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.carried import NOT_CARRIED, carried
from af2kfp.converters.analysis.model import DagObj, GroupObj, TaskObj, to_value
from af2kfp.converters.findings import CODES, Finding
from af2kfp.converters.graph import AirflowTask, DagInfo, add_edge, add_task, new_graph

__all__ = ["build_graph"]


def _plain(value: Any) -> Any:
    return to_value(value)


def _dag_info(dag: DagObj, problems: list[str]) -> DagInfo:
    kwargs = {key: carried(_plain(value), problems, key) for key, value in dag.kwargs.items()}
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
        default_args=carried(_plain(dag.default_args), problems, "default_args"),
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


def _airflow_task(task: TaskObj, problems: list[str]) -> AirflowTask:
    return AirflowTask(
        task_id=task.task_id,
        operator=task.operator,
        imported_as=task.imported_as,
        file=task.file,
        line=task.line or 0,
        end_line=task.end_line,
        args=carried(task.args, problems),
        from_default_args=list(task.from_default_args),
        call_args=carried(list(task.call_args), problems, "args"),
        call_kwargs=carried(dict(task.call_kwargs), problems),
        python=task.python,
        group=task.group.path() if task.group is not None else [],
        mapped=task.mapped,
        role="setup" if task.is_setup else "teardown" if task.is_teardown else "",
        inherits=task.inherits,
    )


def _not_carried(problems: list[str], file: str, line: int | None, dag_id: str, task_id: str | None = None) -> Finding:
    entry = CODES[NOT_CARRIED]
    shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    return Finding(code=NOT_CARRIED, severity=entry.severity, message=f"left out as unknown: {shown}",
                   suggestion=entry.help, file=file, line=line, dag_id=dag_id, task_id=task_id)


def build_graph(dag: DagObj) -> nx.DiGraph:
    """The migration graph of ``dag``: nodes, order/data edges, and the DAG's findings."""
    problems: list[str] = []
    graph = new_graph(_dag_info(dag, problems))
    found = [_not_carried(problems, dag.file, dag.line, dag.dag_id)] if problems else []
    for task in dag.tasks.values():
        problems = []
        add_task(graph, _airflow_task(task, problems))
        if problems:
            found.append(_not_carried(problems, task.file, task.line, dag.dag_id, task.task_id))
    for task in dag.tasks.values():
        for down in task.downstream:
            if down.dag is dag and down.task_id in dag.tasks and dag.tasks[down.task_id] is down:
                add_edge(graph, task.task_id, down.task_id, "data" if id(task) in down.data_upstream else "order")
    graph.graph["findings"].extend(dag.findings)
    graph.graph["findings"].extend(found)
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
