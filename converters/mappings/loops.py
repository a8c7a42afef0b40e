"""Dynamic task mapping (``.partial().expand()``, ``.expand_kwargs()``) as ``dsl.ParallelFor``.

Airflow creates one task instance per item at run time; KFP runs the task inside a
``dsl.ParallelFor`` over the same items. Each expanded argument becomes a reference to
the loop variable (a :class:`TaskRef` whose id starts with ``LOOP_PREFIX``), so every
rule wires it exactly as it wires another task's output: a Python parameter, a
container input. Several expanded arguments make Airflow's cross product: nested loops.
Downstream tasks read the mapped task's results as a list (``dsl.Collected``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from af2kfp.converters.graph import AirflowTask, DagInfo
from af2kfp.converters.mappings.model import LOOP_PREFIX, Input, Loop
from af2kfp.converters.mappings.pytypes import JSON, JSON_ITEMS
from af2kfp.converters.mappings.values import is_plain
from af2kfp.converters.values import TaskRef

__all__ = ["expand_loops", "group_loops", "LoopPlan"]

_TYPES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"))


def _item_type(items: list[Any]) -> str:
    """The carrier of a loop's literal items: one scalar type, or :data:`JSON` (see :func:`_loop_items`)."""
    kinds = {next((name for kind, name in _TYPES if type(item) is kind), JSON) for item in items}
    return kinds.pop() if len(kinds) == 1 else JSON


def _loop_items(items: list[Any]) -> list[Any]:
    """Literal items as the loop passes them: unchanged when all share one scalar type, else one JSON
    text each (KFP would turn numbers inside a dict or list into floats, and a ``None`` into nothing)."""
    return [json.dumps(item) for item in items] if _item_type(items) == JSON else list(items)


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


_SCALARS = (str, int, float, bool)
# Operator arguments a loop item can fill: a whole string, a list position, a dict key.
_SCALAR_SLOTS = frozenset({"bash_command"})
_LIST_SLOTS = frozenset({"arguments", "cmds", "command", "op_args"})
_DICT_SLOTS = frozenset({"op_kwargs"})
# Arguments that reach a Python callable (the others fill a container's command).
_PYTHON_SLOTS = frozenset({"op_args", "op_kwargs"})


def _field(text: str) -> str:
    return re.sub(r"\W", "_", text).strip("_") or "value"


def _shape(key: str, values: list[Any], taskflow: bool) -> str | None:
    """How the items of one expanded argument fill it: ``scalar``, ``list``, ``dict``; ``None``: they cannot.

    A TaskFlow parameter takes any JSON item whole. An operator argument takes a string
    (``bash_command``), a list of strings of one length (``arguments``: one field per
    position) or a dict of plain values (``op_kwargs``: one field per key).
    """
    if taskflow:
        return "scalar"
    if all(isinstance(v, _SCALARS) for v in values):
        return "scalar" if key in _SCALAR_SLOTS else None
    if key in _LIST_SLOTS and all(isinstance(v, list) and all(isinstance(x, _SCALARS) for x in v) for v in values):
        return "list" if len({len(v) for v in values}) == 1 else None
    if key in _DICT_SLOTS and all(isinstance(v, dict) and all(isinstance(x, _SCALARS) for x in v.values())
                                  for v in values):
        return "dict" if len({tuple(v) for v in values}) == 1 else None
    return None


def _constant(values: list[Any], shape: str) -> set[Any]:
    """List positions / dict keys with the same value in every item: they stay literals."""
    if shape == "list":
        return {i for i in range(len(values[0])) if all(v[i] == values[0][i] for v in values)}
    if shape == "dict":
        return {k for k in values[0] if all(v[k] == values[0][k] for v in values)}
    return set()


def _fields(key: str, value: Any, shape: str, constant: set[Any]) -> dict[str, Any]:
    """The loop item fields one argument's value becomes."""
    if shape == "list":
        return {f"{_field(key)}_{i}": v for i, v in enumerate(value) if i not in constant}
    if shape == "dict":
        return {f"{_field(key)}_{_field(str(k))}": v for k, v in value.items() if k not in constant}
    return {_field(key): value}


def _refs(key: str, value: Any, shape: str, variable: str, whole: bool, constant: set[Any]) -> Any:
    """The argument as the task sees it: loop references in place of the values that vary."""
    def ref(name: str) -> TaskRef:
        return TaskRef(task_id=f"{LOOP_PREFIX}{variable}" if whole else f"{LOOP_PREFIX}{variable}.{name}")

    if shape == "list":
        return [v if i in constant else ref(f"{_field(key)}_{i}") for i, v in enumerate(value)]
    if shape == "dict":
        return {k: v if k in constant else ref(f"{_field(key)}_{_field(str(k))}") for k, v in value.items()}
    return ref(_field(key))


def expand_loops(task: AirflowTask, producers: dict[str, str | None], taskflow: bool,
                 loops_of: dict[str, tuple[Loop, ...]] | None = None) -> LoopPlan | str:
    """The loop plan of a mapped task, or why it cannot be one (the task then runs once).

    ``producers``: output carriers (not collected); ``loops_of``: the loops of the
    tasks mapped so far. Expanding over a mapped task's results runs in that task's loop:
    Airflow makes one instance per result, each reading one of them.
    """
    loops_of = loops_of or {}
    mapped = task.mapped
    assert mapped is not None
    taken: set[str] = set()
    loops: list[Loop] = []
    refs: dict[str, Any] = {}
    types: dict[str, str] = {}
    parallelism = _parallelism(task)

    def add(fields: list[dict[str, Any]], variable: str, python: set[str]) -> list[dict[str, Any]]:
        """The fields' carriers, and the items as the loop passes them: KFP types each field of a
        dict item as a string, so a Python parameter's field that is not always one is JSON text."""
        items = [dict(f) for f in fields]
        for name in fields[0]:
            values = [f[name] for f in fields]
            if name in python and not all(isinstance(v, str) for v in values):
                for item in items:
                    item[name] = json.dumps(item[name])
                types[f"{LOOP_PREFIX}{variable}.{name}"] = JSON
            else:
                types[f"{LOOP_PREFIX}{variable}.{name}"] = _item_type(values)
        return items

    def python_fields(key: str, fields: list[dict[str, Any]]) -> set[str]:
        return set(fields[0]) if taskflow or key in _PYTHON_SLOTS else set()

    if mapped.expand_kwargs is not None:
        source = mapped.expand_kwargs
        if not (isinstance(source, list) and source and all(isinstance(i, dict) for i in source)
                and is_plain(source)):
            return "expand_kwargs over a value not known statically"
        variable = _variable("kwargs", taken)
        keys = list(dict.fromkeys(k for item in source for k in item))
        if any(set(item) != set(keys) for item in source):
            return "expand_kwargs items do not all set the same arguments"
        shapes = {k: _shape(k, [item[k] for item in source], taskflow) for k in keys}
        for key, shape in shapes.items():
            if shape is None or shape == "scalar" and not all(isinstance(item[key], _SCALARS) for item in source):
                return f"expand_kwargs sets {key!r} to values a loop item cannot fill"
        constant = {k: _constant([item[k] for item in source], shapes[k]) for k in keys}
        per_key = {k: [_fields(k, item[k], shapes[k], constant[k]) for item in source] for k in keys}
        items = [{n: v for k in keys for n, v in per_key[k][i].items()} for i in range(len(source))]
        python = set().union(*(python_fields(k, per_key[k]) for k in keys))
        loops.append(Loop(variable=variable, items=add(items, variable, python), parallelism=parallelism,
                          scope=task.task_id))
        refs.update({k: _refs(k, source[0][k], shapes[k], variable, False, constant[k]) for k in keys})
    for key, source in mapped.expand.items():
        variable = _variable(key, taken)
        if isinstance(source, TaskRef) and source.key == "return_value" and loops_of.get(source.task_id):
            chained = loops_of[source.task_id]
            if len(mapped.expand) > 1 or mapped.expand_kwargs is not None or _shape(key, ["item"], taskflow) != "scalar" \
                    or any(loop.scope != source.task_id for loop in chained):
                return f"expand over {key!r}: the results of a mapped task cannot be combined with other loops here"
            loops.extend(chained)  # one instance per result: in the producer's own iteration
            refs[key] = source
            continue
        if isinstance(source, TaskRef) and source.key == "return_value" and producers.get(source.task_id) in (
                "list", JSON_ITEMS):
            if _shape(key, ["item"], taskflow) != "scalar":
                return f"expand over {key!r}: a task's list cannot fill this argument item by item"
            loops.append(Loop(variable=variable, items=Input(name=key, task_id=source.task_id),
                              parallelism=parallelism if not loops else None, scope=task.task_id))
            item = JSON if producers.get(source.task_id) == JSON_ITEMS else "str"
            refs[key], types[f"{LOOP_PREFIX}{variable}"] = TaskRef(task_id=f"{LOOP_PREFIX}{variable}"), item
            continue
        if not (isinstance(source, list) and source and is_plain(source)):
            return f"expand over {key!r}: its items are not a list known statically or a Python task's list"
        shape = _shape(key, source, taskflow)
        if shape is None:
            return f"expand over {key!r}: a loop item cannot fill this argument"
        whole = shape == "scalar"
        constant = _constant(source, shape)
        if whole:
            items = _loop_items(source)
            types[f"{LOOP_PREFIX}{variable}"] = _item_type(source)
        else:
            fields = [_fields(key, v, shape, constant) for v in source]
            items = add(fields, variable, python_fields(key, fields))
        loops.append(Loop(variable=variable, items=items, parallelism=parallelism if not loops else None,
                          scope=task.task_id))
        refs[key] = _refs(key, source[0], shape, variable, whole, constant)
    args = {k: v for k, v in task.args.items() if parallelism is None or k not in _LIMITS}  # now the loop's
    if taskflow:
        call = {**{k: v for k, v in mapped.partial.items() if k not in _LIMITS}, **task.call_kwargs, **refs}
        plain = replace(task, args=args, call_kwargs=call, mapped=None)
    else:
        plain = replace(task, args={**args, **refs}, mapped=None)
    return LoopPlan(plain, tuple(loops), types)


def group_loops(info: DagInfo, task: AirflowTask, producers: dict[str, str | None],
                problems: list[str] | None = None) -> tuple[tuple[Loop, ...], dict[str, str]]:
    """The loops of the mapped task groups ``task`` sits in (``@task_group(...).expand(...)``),
    and the carrier of each loop variable (as ``producers`` holds output carriers) so the rules
    wire the group's parameters as they wire any task's output. Two groups may name their
    variables alike: the carriers are the task's own, not the DAG's. A group mapped over a task
    output that is not a list (a container's XCom is a string) gets no loop: why goes to ``problems``.
    """
    loops, types = [], {}
    for group_id in task.group:
        for spec in info.group_loops.get(group_id, []):
            variable, items = spec["variable"], spec["items"]
            ref = f"{LOOP_PREFIX}{variable}"
            if isinstance(items, TaskRef) and producers.get(items.task_id) not in ("list", JSON_ITEMS):
                if problems is not None:
                    problems.append(f"task group {group_id} expands over the output of {items.task_id!r}, which is "
                                    "not a list output a dsl.ParallelFor can iterate")
                continue
            if isinstance(items, TaskRef):
                loops.append(Loop(variable=variable, items=Input(name=variable, task_id=items.task_id), scope=group_id))
                types[ref] = JSON if producers.get(items.task_id) == JSON_ITEMS else "str"
            else:
                loops.append(Loop(variable=variable, items=_loop_items(items), scope=group_id))
                types[ref] = _item_type(items)
    return tuple(loops), types
