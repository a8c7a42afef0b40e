"""An ``if`` whose condition is not known at conversion (a Variable not supplied, a helper's argument).

Airflow takes one side when it parses the file; the analyzer cannot know which, and must not
pretend. Each branch runs from the same state (names and the contents of the lists and dicts
they hold are put back in between), then the two states merge:

- tasks, task groups and DAGs of both branches are kept (a name holding a task in each branch
  holds both), so nothing a branch builds is lost;
- a plain value the branches set differently takes the branch where the condition holds, and is
  tagged with the condition (:mod:`af2kfp.converters.analysis.deferred`): every task built from it gets
  finding A120 saying which side was kept and what to supply to decide it.

A branch that returns, breaks or continues leaves with its own state, as Python does.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.deferred import Decision
from af2kfp.converters.analysis.interpreter import BLOCK_EXITS, ReturnSignal
from af2kfp.converters.analysis.model import DagObj, GroupObj, PartialObj, TaskFlowObj, TaskObj, XComArgObj
from af2kfp.converters.analysis.safe_ops import is_plain
from af2kfp.converters.environment import supply_hint
from af2kfp.converters.values import Deferred

__all__ = ["Branches", "snapshot", "restore"]

_MISSING = object()
_AIRFLOW = (TaskObj, XComArgObj, GroupObj, DagObj, TaskFlowObj, PartialObj)
Snapshot = dict[str, tuple[Any, Any]]


def _contents(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(value.items())
    if isinstance(value, set):
        return tuple(value)
    return None


def snapshot(names: dict[str, Any]) -> Snapshot:
    return {name: (value, _contents(value)) for name, value in names.items()}


def _put_back(value: Any, contents: Any) -> None:
    if isinstance(value, list):
        value[:] = list(contents)
    elif isinstance(value, dict):
        value.clear()
        value.update(contents)
    elif isinstance(value, set):
        value.clear()
        value.update(contents)


def restore(names: dict[str, Any], before: Snapshot) -> None:
    for name in [n for n in names if n not in before]:
        del names[name]
    for name, (value, contents) in before.items():
        names[name] = value
        if contents is not None:
            _put_back(value, contents)


def _same(a: Any, b: Any) -> bool:
    """Same contents by identity (items the analyzer built are compared as objects, not values)."""
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(x is y or (is_plain(x) and is_plain(y) and x == y) for x, y in zip(a, b))


def _airflow(value: Any, depth: int = 0) -> bool:
    if isinstance(value, _AIRFLOW):
        return True
    if depth < 2 and isinstance(value, (list, tuple, set)):
        return any(_airflow(item, depth + 1) for item in value)
    if depth < 2 and isinstance(value, dict):
        return any(_airflow(item, depth + 1) for item in value.values())
    return False


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _both(then: Any, other: Any) -> Any:
    """What a name holds after two branches that built Airflow objects: both, when they are tasks."""
    if then is _MISSING or then is other:
        return other
    if other is _MISSING:
        return then
    found: list[Any] = []
    for item in [*_items(then), *_items(other)]:
        if not any(item is seen for seen in found):
            found.append(item)
    if all(isinstance(item, (TaskObj, XComArgObj)) for item in found):
        return found
    return then


def _union_contents(value: Any, then: Any, other: Any) -> None:
    """A list or dict both branches filled with tasks: what either put in it."""
    if isinstance(value, list):
        value[:] = [*other, *(x for x in then if not any(x is y for y in other))]
    elif isinstance(value, dict):
        value.clear()
        value.update({**dict(then), **dict(other)})


class Branches:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: unknown ``if`` conditions."""

    def unknown_if(self, node: cst.If, scope: Any, test: Any) -> None:
        needs = test.needs if isinstance(test, Deferred) else ()
        code = self.source.code(node.test)
        note = Decision(source=code, file=self.source.display, line=self.line_of(node), needs=needs)
        reads = f" (it reads {supply_hint(needs)})" if needs else ""
        names = scope.vars
        before = snapshot(names)
        try:
            self.exec_block(node.body.body, scope)
        except BLOCK_EXITS as signal:  # return/break/continue: the branch where it holds leaves the block
            self.finding(codes.UNKNOWN_CONDITION, f"condition `{code}` is not known statically{reads}; the branch "
                         "where it holds is followed, since it leaves the block", None, node)
            if isinstance(signal, ReturnSignal):
                signal.value = self.tag(signal.value, (note,))
            raise
        self.finding(codes.UNKNOWN_CONDITION, f"condition `{code}` is not known statically{reads}; the tasks of "
                     "both branches are kept, the values it decides take the branch where it holds (A120 on the "
                     "tasks built from them)", None, node)
        then = snapshot(names)
        restore(names, before)
        self.exec_else(node, scope)
        self.merge_branches(names, then, snapshot(names), note)

    def merge_branches(self, names: dict[str, Any], then: Snapshot, other: Snapshot, note: Decision) -> None:
        """Names after both branches: tasks of both; plain values from ``then``, tagged with ``note``."""
        for name in list(dict.fromkeys([*then, *other])):
            then_value, then_contents = then.get(name, (_MISSING, None))
            other_value, other_contents = other.get(name, (_MISSING, None))
            if then_value is other_value:
                if _same(then_contents, other_contents):
                    continue
                if _airflow(then_contents) or _airflow(other_contents):
                    _union_contents(other_value, then_contents, other_contents)
                else:
                    _put_back(other_value, then_contents)
                    self.tag(other_value, (note,))
                continue
            if (then_value is not _MISSING and other_value is not _MISSING and is_plain(then_value)
                    and is_plain(other_value) and type(then_value) is type(other_value) and then_value == other_value):
                continue  # both branches give the same value: it is known
            if _airflow(then_value) or _airflow(other_value):
                names[name] = _both(then_value, other_value)
                continue
            kept = then_value if then_value is not _MISSING else other_value
            if then_value is not _MISSING and then_contents is not None:
                _put_back(kept, then_contents)
            names[name] = self.tag(kept, (note,))
