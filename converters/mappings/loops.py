"""Dynamic task mapping (``.partial().expand()``, ``.expand_kwargs()``) as ``dsl.ParallelFor``.

Airflow creates one task instance per item at run time; KFP runs the task inside a
``dsl.ParallelFor`` over the same items. Each expanded argument becomes a reference to
the loop variable (a :class:`TaskRef` whose id starts with ``LOOP_PREFIX``), so every
rule wires it exactly as it wires another task's output: a Python parameter, a
container input. Several expanded arguments make Airflow's cross product: nested loops.
Downstream tasks read the mapped task's results as a list (``dsl.Collected``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from converters.graph import AirflowTask
from converters.mappings.model import LOOP_PREFIX, Input, Loop
from converters.values import TaskRef

__all__ = ["expand_loops", "LoopPlan"]

_TYPES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dict, "dict"), (list, "list"))


def _item_type(items: list[Any]) -> str:
    kinds = {next((name for kind, name in _TYPES if isinstance(item, kind)), "str") for item in items}
    return kinds.pop() if len(kinds) == 1 else "str"


def _variable(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name).strip("_").lower() or "item"
    variable = f"{base}_item"
    while variable in taken:
        variable += "_"
    taken.add(variable)
    return variable


@dataclass(frozen=True)
class LoopPlan:
    """How one mapped task runs: the task with loop references, its loops (outermost first),
    and the KFP type of each loop reference (as ``producers`` holds output types)."""

    task: AirflowTask
    loops: tuple[Loop, ...]
    types: dict[str, str]


_LIMITS = ("max_active_tis_per_dagrun", "max_active_tis_per_dag", "task_concurrency")


def _parallelism(task: AirflowTask) -> int | None:
    """Airflow's limit on running instances of the mapped task: the loop's ``parallelism``."""
    for key in _LIMITS:
        value = task.args.get(key, (task.mapped.partial if task.mapped else {}).get(key))
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def expand_loops(task: AirflowTask, producers: dict[str, str | None], taskflow: bool) -> LoopPlan | str:
    """The loop plan of a mapped task, or why it cannot be one (the task then runs once)."""
    mapped = task.mapped
    assert mapped is not None
    taken: set[str] = set()
    loops: list[Loop] = []
    refs: dict[str, Any] = {}
    types: dict[str, str] = {}
    parallelism = _parallelism(task)
    if mapped.expand_kwargs is not None:
        source = mapped.expand_kwargs
        if not (isinstance(source, list) and source and all(isinstance(i, dict) for i in source)):
            return "expand_kwargs over a value not known statically"
        variable = _variable("kwargs", taken)
        loops.append(Loop(variable=variable, items=source, parallelism=parallelism))
        for key in dict.fromkeys(k for item in source for k in item):
            values = [item.get(key) for item in source]
            if not all(isinstance(v, (str, int, float, bool)) for v in values):
                return f"expand_kwargs key {key!r} is not a plain value in every item"
            ref = f"{LOOP_PREFIX}{variable}.{key}"
            refs[key], types[ref] = TaskRef(task_id=ref), _item_type(values)
    for key, source in mapped.expand.items():
        variable = _variable(key, taken)
        ref = f"{LOOP_PREFIX}{variable}"
        if isinstance(source, list) and source:
            items: Any = source
            types[ref] = _item_type(source)
        elif isinstance(source, TaskRef) and source.key == "return_value" and producers.get(source.task_id) == "list":
            items = Input(name=key, task_id=source.task_id)
            types[ref] = "str"
        else:
            return f"expand over {key!r}: its items are not a list known statically or a Python task's list"
        loops.append(Loop(variable=variable, items=items, parallelism=parallelism if not loops else None))
        refs[key] = TaskRef(task_id=ref)
    args = {k: v for k, v in task.args.items() if parallelism is None or k not in _LIMITS}  # now the loop's
    if taskflow:
        call = {**{k: v for k, v in mapped.partial.items() if k not in _LIMITS}, **task.call_kwargs, **refs}
        plain = replace(task, args=args, call_kwargs=call, mapped=None)
    else:
        plain = replace(task, args={**args, **refs}, mapped=None)
    return LoopPlan(plain, tuple(loops), types)
