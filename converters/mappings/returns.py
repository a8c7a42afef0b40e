"""What a Python task outputs, decided from how the DAG reads it and what its function returns.

Airflow pushes every return value as the ``return_value`` XCom; with ``multiple_outputs``
(the decorator's argument, or a TaskFlow function annotated ``-> dict[...]``) it also pushes
each key of the returned dict as its own XCom. KFP fails a component that returns a value
it declared no output for, so every function that may return something has one (native
when its type is certain, else JSON text; a list iterated by ``.expand()`` as one JSON text
per item), and ``multiple_outputs`` adds one per key read downstream (a ``NamedTuple``
with ``return_value``). Only a function that always returns ``None`` has none.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterable

from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.dataflow import RETURN_VALUE
from af2kfp.converters.mappings.encoding import Outputs, output_names
from af2kfp.converters.mappings.pytypes import (
    JSON,
    JSON_ITEMS,
    NONE,
    SCALARS,
    dict_value_kinds,
    ends,
    kfp_type,
    output_carrier,
    return_kinds,
)

__all__ = ["OutputPlan", "plan_outputs", "is_mapping_annotation"]

_MAPPINGS = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "DefaultDict", "defaultdict",
                       "Counter", "ChainMap"})
_Def = ast.FunctionDef | ast.AsyncFunctionDef


def is_mapping_annotation(node: ast.expr | None) -> bool:
    """``-> dict``, ``-> dict[str, int]``, ``-> typing.Mapping[...]``: Airflow then infers ``multiple_outputs``."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return is_mapping_annotation(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return False
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return name in _MAPPINGS


@dataclass
class OutputPlan:
    """``returns``: the single output's KFP type; ``carrier``: how it travels; ``outputs``:
    ``multiple_outputs`` key -> (output name, carrier); ``encode``: how returns are rewritten
    (``None``: kept); ``falls_through``: the function can end without ``return``."""

    returns: str | None = None
    carrier: str | None = None
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)
    encode: Outputs | None = None
    falls_through: bool = False


def _multiple_outputs(ctx: MapContext, fn: _Def, taskflow: bool) -> bool:
    explicit = ctx.arg("multiple_outputs")
    if isinstance(explicit, bool):
        return explicit
    return taskflow and is_mapping_annotation(fn.returns)


def plan_outputs(ctx: MapContext, fn: _Def, params: dict[str, str | None], annotation: str | None, *,
                 taskflow: bool, shadowed: Iterable[str], json_names: Iterable[str],
                 nullable: bool = False) -> OutputPlan:
    """The outputs of the task's component.

    ``params``: parameter -> carrier; ``annotation``: the KFP type the user annotated the
    return with (or ``None``); ``shadowed``/``json_names``: see :func:`~.pytypes.return_kinds`;
    ``nullable``: the task may skip, and a reader then gets ``None``, which only JSON text carries.
    """
    task_id = ctx.task.task_id
    scalars = {name: carrier if carrier in SCALARS else None for name, carrier in params.items()}
    kinds = return_kinds(fn, scalars, shadowed, json_names)
    if task_id not in ctx.consumers and kinds <= {NONE}:
        return OutputPlan()  # KFP refuses a returned value with no output: only None needs none
    falls = not ends(fn.body)
    keys = ctx.flow.keys(task_id)
    if keys and _multiple_outputs(ctx, fn, taskflow):
        names = output_names(keys, set())
        per_key = dict_value_kinds(fn, scalars, shadowed, json_names)
        entries = tuple((key, names[key], JSON if nullable else per_key.get(key, JSON)) for key in keys)
        outputs = {key: (name, carrier) for key, name, carrier in entries}
        outputs[RETURN_VALUE] = (RETURN_VALUE, JSON)
        return OutputPlan(outputs=outputs, encode=Outputs(keys=entries, helper=_helper_name(fn)),
                          falls_through=falls)
    if task_id in ctx.flow.expanded:
        return OutputPlan(returns="list", carrier=JSON_ITEMS, encode=Outputs(carrier=JSON_ITEMS))
    carrier = JSON if nullable else output_carrier(kinds, annotation)
    if carrier == JSON:
        return OutputPlan(returns=kfp_type(JSON), carrier=JSON, encode=Outputs(), falls_through=falls)
    return OutputPlan(returns=carrier, carrier=carrier)


def _helper_name(fn: _Def) -> str:
    taken = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | {
        n.name for n in ast.walk(fn) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    name = "multiple_outputs"
    while name in taken:
        name += "_"
    return name
