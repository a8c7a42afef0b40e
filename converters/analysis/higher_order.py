"""Builtins that call a function of the DAG file on each item: ``map``, ``filter``, ``sorted(key=)``,
``functools.reduce``. DAG files build tasks and dependencies with them
(``list(map(lambda t: E(task_id=t), names))``, ``functools.reduce(lambda a, b: a >> b, tasks)``); the
analyzer calls the function item by item as Python would, so the tasks and edges are the ones Airflow
sees. A function or items it cannot follow leave the call unknown, which the caller reports.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from af2kfp.converters.analysis.model import BoundMethod, FunctionObj, PartialCall, Ref, TaskFlowObj
from af2kfp.converters.analysis.safe_ops import UNKNOWN, is_plain

__all__ = ["HigherOrder", "HIGHER_ORDER_BUILTINS", "HIGHER_ORDER_REFS"]

HIGHER_ORDER_BUILTINS = frozenset({"map", "filter", "sorted"})
HIGHER_ORDER_REFS = frozenset({"functools.reduce"})
_CALLABLE = (FunctionObj, PartialCall, BoundMethod, Ref, TaskFlowObj)


class HigherOrder:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`."""

    def higher_order(self, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call) -> Any:
        """``map``/``filter``/``sorted``/``functools.reduce`` with a function the analyzer can call, else UNKNOWN."""
        if name == "sorted":
            return self._sorted(args, kwargs, node)
        if len(args) < 2 or kwargs or not (isinstance(args[0], _CALLABLE) or name == "filter" and args[0] is None):
            return UNKNOWN
        func = args[0]
        if name == "functools.reduce":
            return self._reduce(func, args[1:], node)
        sequences = [self.iterate(a) for a in args[1:]]  # type: ignore[attr-defined]
        if any(items is None for items in sequences):
            return UNKNOWN
        if name == "map":
            return [self._call(func, list(items), node) for items in zip(*sequences)]
        kept = []  # filter
        for item in sequences[0]:  # type: ignore[union-attr]
            truth = self.truth(item if func is None else self._call(func, [item], node))  # type: ignore[attr-defined]
            if truth is None:
                return UNKNOWN
            if truth:
                kept.append(item)
        return kept

    def _reduce(self, func: Any, rest: list[Any], node: cst.Call) -> Any:
        items = self.iterate(rest[0]) if len(rest) in (1, 2) else None  # type: ignore[attr-defined]
        if items is None:
            return UNKNOWN
        if len(rest) == 2:
            result = rest[1]
        elif items:
            result, items = items[0], items[1:]
        else:
            return UNKNOWN
        for item in items:
            result = self._call(func, [result, item], node)
        return result

    def _call(self, func: Any, args: list[Any], node: cst.Call) -> Any:
        return self.call_value(func, args, {}, node, False)  # type: ignore[attr-defined]

    def _sorted(self, args: list[Any], kwargs: dict[str, Any], node: cst.Call) -> Any:
        key, reverse = kwargs.get("key"), kwargs.get("reverse", False)
        items = self.iterate(args[0]) if len(args) == 1 else None  # type: ignore[attr-defined]
        if items is None or set(kwargs) - {"key", "reverse"} or not isinstance(reverse, bool):
            return UNKNOWN
        if key is None:
            return sorted(items, reverse=reverse) if is_plain(items) else UNKNOWN
        if not isinstance(key, _CALLABLE):
            return UNKNOWN
        keys = [self._call(key, [item], node) for item in items]
        if not is_plain(keys):
            return UNKNOWN
        try:
            order = sorted(range(len(items)), key=lambda i: keys[i], reverse=reverse)
        except TypeError:
            return UNKNOWN
        return [items[i] for i in order]
