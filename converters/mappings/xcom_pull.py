"""``ti.xcom_pull(task_ids="x")`` inside a callable: found and replaced statically with LibCST.

Airflow hands the callable its task instance, whose ``xcom_pull`` reads another task's
return value at run time. KFP has no task instance, but the value can arrive as a
component input fed by task ``x``'s output: :func:`rewrite_pulls` replaces each such
call (and only it) with the name of that input. Recognised: ``ti`` / ``task_instance``
parameters, ``context["ti"]`` / ``kwargs["task_instance"]`` on the ``**`` parameter and a
name the body binds once to it (``ti = kwargs["ti"]``, a statement dropped once nothing
reads the name), ``task_ids`` one literal string or a list of them (keyword or first
argument; a list reads the list of values), ``key`` absent or ``"return_value"`` (keyword
or third argument), ``dag_id`` ``None`` and ``include_prior_dates`` ``False`` when given.
Anything else is left alone (and the context shim flags it).
"""

from __future__ import annotations

import ast
import keyword
import re
from typing import Callable

import libcst as cst

from af2kfp.converters.graph import PythonCallable

__all__ = ["TI_NAMES", "pulled_task_ids", "rewrite_pulls", "input_name", "ti_aliases", "drop_aliases"]

TI_NAMES = frozenset({"ti", "task_instance"})


def _string(node: cst.BaseExpression) -> str | None:
    if not isinstance(node, cst.SimpleString):
        return None
    value = ast.literal_eval(node.value)
    return value if isinstance(value, str) else None


def _is_task_instance(node: cst.BaseExpression, names: frozenset[str], dicts: frozenset[str] | None) -> bool:
    """``ti`` (a name in ``names``) or ``context["ti"]`` (``context`` in ``dicts``; ``None``: any name)."""
    if isinstance(node, cst.Name):
        return node.value in names
    if not isinstance(node, cst.Subscript) or not isinstance(node.value, cst.Name) or len(node.slice) != 1:
        return False
    if dicts is not None and node.value.value not in dicts:
        return False
    index = node.slice[0].slice
    return isinstance(index, cst.Index) and _string(index.value) in TI_NAMES


_PARAMETERS = ("task_ids", "dag_id", "key", "include_prior_dates")  # xcom_pull's, in order (Airflow 2 and 3)
# Arguments that do not change what is read here: the current DAG, this run's value.
_NEUTRAL = {"dag_id": "None", "include_prior_dates": "False"}


def pulled_task_id(call: cst.Call, names: frozenset[str], dicts: frozenset[str] | None) -> str | list[str] | None:
    """The task id (or the list of them) a convertible ``xcom_pull`` call reads; ``None`` for any other call."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "xcom_pull":
        return None
    if not _is_task_instance(func.value, names, dicts):
        return None
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or len(positional) > len(_PARAMETERS):
        return None
    given = dict(zip(_PARAMETERS, (a.value for a in positional)))
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value in given or arg.keyword.value not in _PARAMETERS:
                return None
            given[arg.keyword.value] = arg.value
    for name, neutral in _NEUTRAL.items():
        if name in given and not (isinstance(given[name], cst.Name) and given[name].value == neutral):
            return None
    if "key" in given and _string(given["key"]) != "return_value":
        return None
    task_ids = given.get("task_ids")
    if isinstance(task_ids, (cst.List, cst.Tuple)):
        ids = [_string(e.value) if isinstance(e, cst.Element) else None for e in task_ids.elements]
        return [i for i in ids if i is not None] if ids and None not in ids else None
    return _string(task_ids) if task_ids is not None else None


def _alias(statement: cst.CSTNode, dicts: frozenset[str] | None) -> str | None:
    """``ti = context["ti"]`` (``context`` in ``dicts``; ``None``: any name): the name bound."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return None
    if not _is_task_instance(assign.value, frozenset(), dicts):
        return None
    return assign.targets[0].target.value


def _function(module: cst.Module) -> cst.FunctionDef | None:
    return next((node for node in module.body if isinstance(node, cst.FunctionDef)), None)


def ti_aliases(module: cst.Module, dicts: frozenset[str]) -> set[str]:
    """Names the function's body binds to ``context["ti"]`` in a statement of its own, at its top level."""
    fn = _function(module)
    if fn is None or not isinstance(fn.body, cst.IndentedBlock):
        return set()
    return {name for statement in fn.body.body if (name := _alias(statement, dicts)) is not None}


def drop_aliases(module: cst.Module, names: set[str], dicts: frozenset[str]) -> cst.Module:
    """``module`` without the top-level ``name = context["ti"]`` statements of ``names`` (comments kept)."""
    fn = _function(module)
    if fn is None or not isinstance(fn.body, cst.IndentedBlock) or not names:
        return module
    kept: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []
    for statement in fn.body.body:
        lines = list(getattr(statement, "leading_lines", ()))
        if _alias(statement, dicts) in names:
            carried += [line for line in lines if line.comment is not None]
            continue
        if carried and hasattr(statement, "leading_lines"):
            statement = statement.with_changes(leading_lines=[*carried, *lines])
            carried = []
        kept.append(statement)
    new = fn.with_changes(body=fn.body.with_changes(body=kept))
    return module.with_changes(body=[new if node is fn else node for node in module.body])


class _Pulls(cst.CSTVisitor):
    """Collects ``task_ids`` of every convertible call, receivers judged by shape only."""

    def __init__(self) -> None:
        self.task_ids: set[str] = set()
        self.names = set(TI_NAMES)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        alias = _alias(node, None)
        if alias is not None:
            self.names.add(alias)

    def visit_Call(self, node: cst.Call) -> None:
        task_id = pulled_task_id(node, frozenset(self.names), None)
        if task_id is not None:
            self.task_ids.update([task_id] if isinstance(task_id, str) else task_id)


def pulled_task_ids(callable_: PythonCallable | None) -> set[str]:
    """Tasks whose return value the callable pulls: they must have an output in KFP."""
    if callable_ is None or "xcom_pull" not in callable_.source:
        return set()
    try:
        module = cst.parse_module(callable_.source)
    except cst.ParserSyntaxError:
        return set()
    visitor = _Pulls()
    module.visit(visitor)
    return visitor.task_ids


class _Rewrite(cst.CSTTransformer):
    """Replaces each convertible call with the input ``name_for(task_id)`` gives (``None``: kept)."""

    def __init__(self, names: frozenset[str], dicts: frozenset[str],
                 name_for: Callable[[str], str | None], available: Callable[[str], bool]) -> None:
        self.names, self.dicts, self.name_for, self.available = names, dicts, name_for, available

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        task_id = pulled_task_id(original_node, self.names, self.dicts)
        if isinstance(task_id, list):  # a list of task ids reads the list of their values, in that order
            if not all(self.available(t) for t in task_id):
                return updated_node
            found = [self.name_for(t) for t in task_id]
            return cst.List([cst.Element(cst.Name(n)) for n in found if n is not None])
        name = self.name_for(task_id) if task_id is not None else None
        return updated_node if name is None else cst.Name(name)


def rewrite_pulls(module: cst.Module, names: frozenset[str], dicts: frozenset[str],
                  name_for: Callable[[str], str | None],
                  available: Callable[[str], bool] = lambda task_id: True) -> cst.Module:
    """``module`` with the convertible ``xcom_pull`` calls on ``names``/``dicts`` replaced.

    ``available`` says whether a task has an output to read (a list is replaced only when all do)."""
    return module.visit(_Rewrite(names, dicts, name_for, available))


def input_name(task_id: str, taken: set[str]) -> str:
    """A readable parameter name for ``task_id``'s output, e.g. ``compare_models_output``, not in ``taken``."""
    base = re.sub(r"\W", "_", task_id).strip("_") or "task"
    if base[0].isdigit():
        base = f"task_{base}"
    name, n = f"{base}_output", 1
    while name in taken or keyword.iskeyword(name):
        n += 1
        name = f"{base}_output_{n}"
    return name
