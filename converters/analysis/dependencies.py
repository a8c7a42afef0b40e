"""Dependencies as Airflow wires them: ``>>``/``<<``, ``set_upstream``, ``chain``,
``chain_linear``, ``cross_downstream``, labels, TaskGroup roots/leaves, setup/teardown contexts.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.model import (
    DagObj,
    FunctionObj,
    GroupObj,
    InstanceObj,
    LabelObj,
    TaskObj,
    XComArgObj,
    to_value,
)
from af2kfp.converters.analysis.safe_ops import UNKNOWN

__all__ = ["Dependencies"]


class Dependencies:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: task dependencies."""

    def wire_setup_context(self, tasks: list[TaskObj], before: set[str]) -> None:
        """Airflow's setup/teardown context: setups >> new roots, new leaves >> teardowns."""
        dag = tasks[0].dag
        if dag is None:
            return
        setups = {id(t): t for t in tasks if t.is_setup}
        teardowns = {id(t): t for t in tasks if t.is_teardown}
        for teardown in list(teardowns.values()):
            setups.update({id(u): u for u in teardown.upstream if u.is_setup})
        for setup in list(setups.values()):
            teardowns.update({id(d): d for d in setup.downstream if d.is_teardown})
        new = [t for key, t in dag.tasks.items() if key not in before and not (t.is_setup or t.is_teardown)]
        ids = {id(t) for t in new}
        for task in new:
            if not any(id(u) in ids or u.is_setup for u in task.upstream):
                for setup in setups.values():
                    self.connect(setup, task, "order", None)
            if not any(id(d) in ids or d.is_teardown for d in task.downstream):
                for teardown in teardowns.values():
                    self.connect(task, teardown, "order", None)

    def call_node_method(
        self, receiver: Any, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call
    ) -> Any:
        target = args[0] if args else kwargs.get("task_or_task_list")
        if name == "set_downstream":
            self.dependency(receiver, target, node)
            return None
        if name == "set_upstream":
            self.dependency(target, receiver, node)
            return None
        task = receiver.task if isinstance(receiver, XComArgObj) else receiver
        if name == "as_setup" and isinstance(task, TaskObj):
            task.is_setup = True
            return receiver
        if name == "as_teardown" and isinstance(task, TaskObj):
            task.is_teardown = True
            setups = kwargs.get("setups", args[0] if args else None)
            if setups is not None:
                self.dependency(setups, receiver, node)
            return receiver
        if name in ("update_relative", "override"):
            return receiver
        if isinstance(task, TaskObj) and name in ("expand", "partial", "map", "zip", "concat", "resolve"):
            return UNKNOWN
        return UNKNOWN

    def shift(self, op: str, left: Any, right: Any, node: cst.CSTNode) -> Any:
        """``>>``/``<<`` with Python's operator protocol for scanned classes (``__rshift__``, ``__rrshift__``)."""
        name = "__rshift__" if op == "RightShift" else "__lshift__"
        for receiver, other, method in ((left, right, name), (right, left, name.replace("__", "__r", 1))):
            if isinstance(receiver, InstanceObj):
                _, function = receiver.klass.lookup(method)
                if isinstance(function, FunctionObj):
                    return self.call_function(function, [receiver, other], {}, node)
        if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            self.finding(  # type: ignore[attr-defined]
                codes.UNSUPPORTED_CONSTRUCT,
                "`list >> list` (or `<<`) between two lists: Airflow raises TypeError here, so the DAG does not load",
                "Use airflow.models.baseoperator.cross_downstream(from_tasks, to_tasks), or chain().",
                node,
            )
            return right
        return super().shift(op, left, right, node)

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, InstanceObj):
            obj.attrs[name] = value
            if obj.base_call is not None:  # a repository operator's __init__ after super().__init__()
                obj.after_base[name] = value
        elif isinstance(obj, TaskObj):
            if name == "dag" and isinstance(value, DagObj):
                self.attach(obj, value, None)
            elif name in ("doc_md", "doc", "trigger_rule", "retries", "task_group"):
                obj.args[name] = to_value(value)

    def endpoints(self, value: Any, upstream: bool, node: cst.CSTNode) -> list[Any] | None:
        """Tasks on one side of ``>>``: groups give their leaves (upstream) or roots (downstream)."""
        if isinstance(value, TaskObj):
            return [value]
        if isinstance(value, XComArgObj):
            return [value.task]
        if isinstance(value, GroupObj):
            return value.leaves() if upstream else value.roots()
        if isinstance(value, LabelObj):
            return [value]
        if isinstance(value, (list, tuple, set)):
            out: list[Any] = []
            for item in value:
                part = self.endpoints(item, upstream, node)
                if part is None:
                    return None
                out.extend(part)
            return out
        if isinstance(value, DagObj):
            return []
        self.finding(
            codes.UNKNOWN_DEPENDENCY,
            f"dependency `{self.source.code(node)[:80]}` involves a value that is not a known task",
            None,
            node,
        )
        return None

    def dependency(self, left: Any, right: Any, node: cst.CSTNode) -> Any:
        ups = self.endpoints(left, True, node)
        downs = self.endpoints(right, False, node)
        if ups is None or downs is None:
            return right
        for up in ups:
            for down in downs:
                if isinstance(down, LabelObj):
                    if isinstance(up, TaskObj):
                        down.ups.append(up)
                        for target in down.downs:
                            self.connect(up, target, "order", node)
                elif isinstance(up, LabelObj):
                    up.downs.append(down)
                    for source in up.ups:
                        self.connect(source, down, "order", node)
                else:
                    self.connect(up, down, "order", node)
        return right

    def connect(self, up: TaskObj, down: TaskObj, kind: str, node: cst.CSTNode) -> None:
        self._tick()  # type: ignore[attr-defined]  # an edge is an evaluation step: list >> list of 1,000s is not free
        if up is down:
            self.finding(  # type: ignore[attr-defined]
                codes.CYCLE,
                f"task '{up.task_id}' is set downstream of itself; Airflow refuses the DAG (a cycle)",
                None,
                node,
            )
            return
        if up.dag is None and down.dag is not None:
            self.attach(up, down.dag, node)
        elif down.dag is None and up.dag is not None:
            self.attach(down, up.dag, node)
        if down not in up.downstream:
            up.downstream.append(down)
        if up not in down.upstream:
            down.upstream.append(up)
        if kind == "data":
            down.data_upstream.add(id(up))

    def chain(self, elements: list[Any], node: cst.Call) -> None:
        for up, down in zip(elements, elements[1:]):
            if isinstance(up, (list, tuple)) and isinstance(down, (list, tuple)):
                if len(up) != len(down):
                    self.finding(
                        codes.UNSUPPORTED_CONSTRUCT,
                        "chain() of two lists of different lengths; Airflow " "raises an error here",
                        "Make both lists the same length.",
                        node,
                    )
                    continue
                for a, b in zip(up, down):
                    self.dependency(a, b, node)
            else:
                self.dependency(up, down, node)

    def chain_linear(self, elements: list[Any], node: cst.Call) -> None:
        for up, down in zip(elements, elements[1:]):
            self.dependency(up, down, node)

    def cross_downstream(self, args: list[Any], kwargs: dict[str, Any], node: cst.Call) -> None:
        from_tasks = kwargs.get("from_tasks", args[0] if args else None)
        to_tasks = kwargs.get("to_tasks", args[1] if len(args) > 1 else None)
        items = from_tasks if isinstance(from_tasks, (list, tuple)) else [from_tasks]
        for item in items:
            self.dependency(item, to_tasks, node)

    def xcom_tasks(self, value: Any, depth: int = 0) -> list[TaskObj]:
        """Tasks whose output is referenced anywhere inside ``value`` (data dependencies)."""
        if isinstance(value, XComArgObj):
            return [value.task]
        if depth > 12:
            return []
        if isinstance(value, dict):
            return [t for v in value.values() for t in self.xcom_tasks(v, depth + 1)]
        if isinstance(value, (list, tuple, set)):
            return [t for v in value for t in self.xcom_tasks(v, depth + 1)]
        return []
