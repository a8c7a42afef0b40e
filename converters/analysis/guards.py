"""A run method's skip or fail guard, as a check a KFP guard component can evaluate when the task runs.

``if self.skip: raise AirflowSkipException()`` is decided by what Airflow renders into ``self.skip`` for that
run; ``if DRY_RUN: ...`` by an Airflow Variable. Neither is known at conversion, but both are known to the
pipeline when it runs: the rendered field from the run's params (Airflow's Jinja, rendered in the
component), the Variable from its pipeline parameter. :func:`run_check` rewrites the condition so that
each name it reads is one of:

- a value known at conversion: its literal (``["dev", "qa"]``);
- a templated field holding Jinja: an input ``rendered_<n>``, the template rendered in the component;
- a value read from Airflow Variables (``Variable.get("x", default_var="off") == "on"`` at module level):
  that expression itself, which the component serves with its ``Variable`` stand-in;
- a builtin (``len``, ``str``...).

Anything else (a hook's method, ``context``, a value an unknown condition decided) cannot be evaluated
outside Airflow: the reason is returned and the guard stays M284.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import libcst as cst

from af2kfp.converters.analysis.deferred import notes_of
from af2kfp.converters.analysis.safe_ops import is_plain
from af2kfp.converters.analysis.source import descendants
from af2kfp.converters.values import Deferred

__all__ = ["run_check", "RENDERED_PREFIX"]

RENDERED_PREFIX = "rendered_"
_BUILTINS = frozenset({"len", "str", "int", "float", "bool", "any", "all", "min", "max", "sorted", "set", "list",
                       "tuple", "dict", "isinstance", "None", "True", "False"})
_EMPTY = cst.Module(body=[])
# ``Variable.get(<literal>, ...)`` in a Deferred's source: the only call a Variable-driven value may hold.
_VARIABLE_GET = re.compile(r"\bVariable\.get\(")


def _literal(value: Any) -> str | None:
    """Python source of a plain value, or ``None``."""
    if notes_of(value) or not is_plain(value) or isinstance(value, (set, frozenset)) and not value:
        return None
    text = repr(value)
    return text if len(text) <= 2000 else None


def _variable_expression(value: Deferred) -> str | None:
    """The module-level expression over ``Variable.get`` calls a Variable-driven value is, when the component
    can evaluate it as written (every name it reads is ``Variable`` or a builtin)."""
    needs = [need for need in value.needs if need.startswith("Variable ")]
    if not needs or len(needs) != len(value.needs) or not _VARIABLE_GET.search(value.source):
        return None
    try:
        expression = cst.parse_expression(value.source)
    except cst.ParserSyntaxError:
        return None
    nodes = descendants(expression)
    names = {node.value for node in nodes if isinstance(node, cst.Name)}
    attributes = {id(node.attr) for node in nodes if isinstance(node, cst.Attribute)}
    keywords = {id(node.keyword) for node in nodes if isinstance(node, cst.Arg) and node.keyword}
    free = {node.value for node in nodes if isinstance(node, cst.Name)
            and id(node) not in attributes and id(node) not in keywords}
    if not names or free - _BUILTINS - {"Variable"}:
        return None
    return f"({value.source})" if not isinstance(expression, (cst.Name, cst.Attribute, cst.Call)) else value.source


class _Rewrite(cst.CSTTransformer):
    def __init__(self, replaced: dict[int, str]) -> None:
        super().__init__()
        self.replaced = replaced

    def on_leave(self, original: cst.CSTNode, updated: Any) -> Any:  # type: ignore[override]
        text = self.replaced.get(id(original))
        return cst.parse_expression(text) if text is not None else updated


def run_check(test: cst.BaseExpression, evaluate: Callable[[cst.BaseExpression], Any], code: Callable[[cst.CSTNode], str]
              ) -> tuple[str, dict[str, str]] | str:
    """``(check, templates)``: the condition as Python the guard component evaluates, and the template each
    ``rendered_<n>`` input renders; or why it cannot be evaluated outside Airflow."""
    replaced: dict[int, str] = {}
    templates: dict[str, str] = {}
    problems: list[str] = []

    def visit(node: cst.CSTNode) -> None:
        if isinstance(node, (cst.Name, cst.Attribute)):
            if isinstance(node, cst.Name) and node.value in _BUILTINS:
                return
            value = evaluate(node)
            text = _literal(value)
            if text is None and isinstance(value, Deferred):
                if value.template is not None and not value.needs:
                    name = f"{RENDERED_PREFIX}{len(templates) + 1}"
                    templates[name] = value.template
                    text = name
                else:
                    text = _variable_expression(value)
                    if text is None:
                        problems.append(f"`{code(node)}` reads {', '.join(value.needs) or 'a value rendered from'}"
                                        " in a way the guard component cannot evaluate")
                        return
            if text is not None:
                replaced[id(node)] = text
                return
            if isinstance(node, cst.Attribute):  # a method or member of a known value: its receiver, then
                visit(node.value)
                return
            problems.append(f"`{code(node)}` is only known inside Airflow")
            return
        if isinstance(node, (cst.Lambda, cst.GeneratorExp, cst.ListComp, cst.SetComp, cst.DictComp, cst.NamedExpr,
                             cst.Await, cst.Yield)):
            problems.append(f"`{code(node)}` is not a plain expression")
            return
        if isinstance(node, cst.Arg) and node.keyword is not None:
            visit(node.value)
            return
        for child in node.children:
            visit(child)

    visit(test)
    if problems:
        return "; ".join(dict.fromkeys(problems))
    check = _EMPTY.code_for_node(test.visit(_Rewrite(replaced)))
    return " ".join(check.split()), templates
