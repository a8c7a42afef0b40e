"""A Jinja expression over Airflow's dates -> the Python the run context evaluates.

``{{ macros.ds_add(ds, -1) }}``, ``{{ ds | replace('-', '') }}`` or
``{{ (logical_date - macros.timedelta(days=1)).strftime('%Y%m') }}`` read only the run's
dates, so the run context (:mod:`af2kfp.converters.run_context`) computes them once per run and
passes the text on. The expression is parsed by Jinja (:mod:`af2kfp.converters.templating`)
and written back as Python here, node by node, with Jinja's meaning: its filters
(``replace``, ``upper``... and Airflow's ``ds``, ``ts``...) become the Python they run,
``~`` joins text, ``a.b`` reads an attribute. Anything else (another name, a pendulum-only
method such as ``.add()`` or ``.at()``, a test, a dynamic argument) has no translation:
``None``, and the template keeps its finding.
"""

from __future__ import annotations

from typing import Callable

from jinja2 import nodes

from af2kfp.converters.run_context import DATES, MACRO_MEMBERS

__all__ = ["python_expression", "PENDULUM_ONLY"]

# Attributes of pendulum's DateTime that datetime has not: the run context's dates are datetimes.
PENDULUM_ONLY = frozenset({
    "add", "subtract", "at", "on", "set", "format", "to_date_string", "to_datetime_string", "to_iso8601_string",
    "to_time_string", "start_of", "end_of", "in_timezone", "in_tz", "naive", "diff", "diff_for_humans",
    "int_timestamp", "float_timestamp", "timezone_name", "tz", "average", "closest", "farthest", "is_past",
    "is_future", "next", "previous", "first_of", "last_of", "nth_of", "day_of_week", "day_of_year",
    "week_of_month", "week_of_year", "days_in_month", "age", "is_leap_year", "offset_hours", "for_json",
})
_BINARY = {nodes.Add: "+", nodes.Sub: "-", nodes.Mul: "*", nodes.Div: "/", nodes.FloorDiv: "//",
           nodes.Mod: "%", nodes.Pow: "**"}
_COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">=", "in": "in",
            "notin": "not in"}
# Jinja and Airflow filters as the Python they run on the value (``{}``) and their arguments.
_FILTERS: dict[str, Callable[[str, list[str]], str | None]] = {
    "replace": lambda v, a: f"str({v}).replace({', '.join(a)})" if len(a) in (2, 3) else None,
    "upper": lambda v, a: None if a else f"str({v}).upper()",
    "lower": lambda v, a: None if a else f"str({v}).lower()",
    "title": lambda v, a: None if a else f"str({v}).title()",
    "capitalize": lambda v, a: None if a else f"str({v}).capitalize()",
    "trim": lambda v, a: None if a else f"str({v}).strip()",
    "string": lambda v, a: None if a else f"str({v})",
    "int": lambda v, a: None if a else f"int({v})",
    "float": lambda v, a: None if a else f"float({v})",
    "ds": lambda v, a: None if a else f'{v}.strftime("%Y-%m-%d")',
    "ds_nodash": lambda v, a: None if a else f'{v}.strftime("%Y%m%d")',
    "ts": lambda v, a: None if a else f"{v}.isoformat()",
    "ts_nodash": lambda v, a: None if a else f'{v}.strftime("%Y%m%dT%H%M%S")',
    "ts_nodash_with_tz": lambda v, a: None if a else f'{v}.isoformat().replace("-", "").replace(":", "")',
}


def _const(value: object) -> str | None:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return None


def _all(items: list[nodes.Node]) -> list[str] | None:
    out = [python_expression(item) for item in items]
    return None if any(o is None for o in out) else [o for o in out if o is not None]


def _call(node: nodes.Call) -> str | None:
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        return None
    func = python_expression(node.node)
    args = _all(list(node.args))
    kwargs = _all([k.value for k in node.kwargs])
    if func is None or args is None or kwargs is None:
        return None
    given = args + [f"{k.key}={v}" for k, v in zip(node.kwargs, kwargs)]
    return f"{func}({', '.join(given)})"


def _getattr(node: nodes.Getattr) -> str | None:
    if isinstance(node.node, nodes.Name) and node.node.name == "macros":
        return f"macros.{node.attr}" if node.attr in MACRO_MEMBERS else None
    if node.attr in PENDULUM_ONLY or node.attr.startswith("_"):
        return None
    inner = python_expression(node.node)
    return None if inner is None else f"{inner}.{node.attr}"


def python_expression(node: nodes.Node) -> str | None:
    """Python for a Jinja expression over the run's dates and ``macros``; ``None`` when it has none."""
    if isinstance(node, nodes.Name):
        return node.name if node.name in DATES else None
    if isinstance(node, nodes.Const):
        return _const(node.value)
    if isinstance(node, nodes.Getattr):
        return _getattr(node)
    if isinstance(node, nodes.Getitem):
        inner, index = python_expression(node.node), python_expression(node.arg)
        return None if inner is None or index is None else f"{inner}[{index}]"
    if isinstance(node, nodes.Slice):
        bounds = [python_expression(b) if b is not None else "" for b in (node.start, node.stop, node.step)]
        return None if None in bounds else ":".join(bounds).rstrip(":") or ":"
    if isinstance(node, nodes.Call):
        return _call(node)
    if isinstance(node, nodes.Filter):
        value = python_expression(node.node) if node.node is not None else None
        args = _all(list(node.args))
        rule = _FILTERS.get(node.name)
        if value is None or args is None or rule is None or node.kwargs or node.dyn_args or node.dyn_kwargs:
            return None
        return rule(value, args)
    if isinstance(node, nodes.Concat):
        parts = _all(list(node.nodes))
        return None if parts is None else "(" + " + ".join(f"str({p})" for p in parts) + ")"
    if type(node) in _BINARY:
        left, right = python_expression(node.left), python_expression(node.right)  # type: ignore[attr-defined]
        return None if left is None or right is None else f"({left} {_BINARY[type(node)]} {right})"
    if isinstance(node, nodes.Neg):
        inner = python_expression(node.node)
        return None if inner is None else f"-{inner}"
    if isinstance(node, nodes.CondExpr):
        test, then = python_expression(node.test), python_expression(node.expr1)
        other = python_expression(node.expr2) if node.expr2 is not None else '""'
        return None if None in (test, then, other) else f"({then} if {test} else {other})"
    if isinstance(node, nodes.Compare) and len(node.ops) == 1 and node.ops[0].op in _COMPARE:
        left, right = python_expression(node.expr), python_expression(node.ops[0].expr)
        return None if left is None or right is None else f"({left} {_COMPARE[node.ops[0].op]} {right})"
    if isinstance(node, (nodes.List, nodes.Tuple)):
        items = _all(list(node.items))
        return None if items is None else "[" + ", ".join(items) + "]"
    return None
