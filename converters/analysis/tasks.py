"""Creating tasks as Airflow does: operators, TaskFlow calls, mapped tasks, ``@asset``.

Task ids get their TaskGroup prefix and TaskFlow ``__N`` suffix, ``default_args`` are merged
(DAG, then TaskGroup, then the task's own), and XCom references become data edges.
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.model import (
    ClassObj,
    DagObj,
    FunctionObj,
    GroupObj,
    InstanceObj,
    PartialObj,
    Ref,
    TaskFlowObj,
    TaskObj,
    XComArgObj,
    to_value,
    unique_taskflow_id,
)
from af2kfp.converters.analysis.constants import callable_constants
from af2kfp.converters.analysis.deferred import Decision, decided, notes_of, untagged
from af2kfp.converters.analysis.safe_ops import UNKNOWN
from af2kfp.converters.analysis.source import SourceFile
from af2kfp.converters.environment import supply_hint
from af2kfp.converters.graph import Mapped, PythonCallable
from af2kfp.converters.values import Deferred, Symbolic

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")

__all__ = ["TaskBuilder", "merge_params"]


def merge_params(kwargs: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    """Lay the ``params`` of ``default_args`` over the task's own ``params=`` (in place), as Airflow's
    ``get_merged_defaults`` does: the task's TaskGroups' or its own ``default_args["params"]`` win over
    ``params=``. Returns ``["params"]`` when they came from ``default_args`` only (for ``from_default_args``)."""
    given = defaults.pop("params", None)
    if given is None:
        return []
    own = kwargs.get("params")
    if own is None:
        kwargs["params"] = dict(given) if isinstance(given, dict) else given
        return ["params"]
    if isinstance(own, dict) and isinstance(given, dict):
        kwargs["params"] = {**own, **given}  # a new dict: either may be a module constant shared elsewhere
    return []


_OPERATOR_SUFFIXES = ("Operator", "Sensor")
_NOT_OPERATOR_SUFFIXES = ("Builder", "Hook", "Config", "Spec")
_HELPER_MODULES = {"hooks", "utils", "models", "types", "client"}


class TaskBuilder:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: task creation."""

    def call_class(
        self, klass: ClassObj, args: list[Any], kwargs: dict[str, Any], node: cst.Call, star_unknown: bool
    ) -> Any:
        if self.class_is_operator(klass):
            return self.create_operator(klass, args, kwargs, node, star_unknown)
        instance = InstanceObj(klass=klass, args=list(args), kwargs=dict(kwargs))
        _, init = klass.lookup("__init__")
        if isinstance(init, FunctionObj):
            self.call_function(init, [instance, *args], kwargs, node)
        else:  # a dataclass-like holder: fields from the call
            instance.attrs.update(zip(klass.fields, args))
            instance.attrs.update(kwargs)
        return instance

    def class_is_operator(self, klass: ClassObj, depth: int = 0) -> bool:
        if klass.qualname in self.config.operators:
            return True
        for base in klass.bases:
            if isinstance(base, Ref) and (
                self.is_operator_name(base.qualname) or base.qualname.endswith(("BaseOperator", "BaseSensorOperator"))
            ):
                return True
            if isinstance(base, ClassObj) and depth < 10 and self.class_is_operator(base, depth + 1):
                return True
        return False

    @staticmethod
    def may_be_operator_class(name: str) -> bool:
        """A class called with ``task_id=`` is an operator unless it lives among hooks/helpers (job builders)."""
        *modules, last = name.split(".")
        return last[:1].isupper() and not last.endswith(_NOT_OPERATOR_SUFFIXES) and not set(modules) & _HELPER_MODULES

    def is_operator_name(self, name: str) -> bool:
        last = name.rsplit(".", 1)[-1]
        return name in self.config.operators or (
            last.endswith(_OPERATOR_SUFFIXES)
            and last[:1].isupper()
            and last not in ("BaseOperator", "BaseSensorOperator")
        )

    def task_line(self, node: cst.CSTNode) -> tuple[int | None, int | None]:
        return self.line_of(node), self.end_line_of(node)

    def create_task(
        self,
        operator: str,
        imported_as: str,
        args: list[Any],
        kwargs: dict[str, Any],
        node: cst.Call,
        star_unknown: bool = False,
        mapped: Mapped | None = None,
        mapped_raw: Any = None,
    ) -> Any:
        kwargs = dict(kwargs)
        raw_id = kwargs.pop("task_id", args[0] if args and isinstance(args[0], str) else None)
        id_decided = notes_of(raw_id)
        raw_id = untagged(raw_id)
        dag = kwargs.pop("dag", None)
        if not isinstance(dag, DagObj):
            dag = self.current_dag()
        group = kwargs.pop("task_group", None)
        if not isinstance(group, GroupObj) or group.dag is not dag:
            group = self.current_group(dag)
        line, end_line = self.task_line(node)
        if not isinstance(raw_id, str):
            text = raw_id.source if isinstance(raw_id, Symbolic) else "missing"
            unresolved = raw_id
            raw_id = f"<unresolved task_id {text}>"
            if isinstance(unresolved, Deferred) and unresolved.needs:
                self.needs_value(f"the task_id of this {operator.rsplit('.', 1)[-1]}", unresolved, node, raw_id)
            else:
                self.finding(
                    codes.UNKNOWN_TASK_ID,
                    f"task_id of this {operator.rsplit('.', 1)[-1]} is not known "
                    "statically" + (" (arguments unpacked from an unknown value)" if star_unknown else ""),
                    None,
                    node,
                    task_id=raw_id,
                    dag=dag,
                )
        merged_defaults = self.merged_default_args(dag, group, kwargs.pop("default_args", None))
        from_defaults = merge_params(kwargs, merged_defaults)
        for key, value in merged_defaults.items():
            if key not in kwargs:
                kwargs[key] = value
                from_defaults.append(key)
        python = None
        callable_ = kwargs.get("python_callable")
        if isinstance(callable_, FunctionObj):
            python = self.python_callable(callable_)
        task = TaskObj(
            task_id=raw_id,
            operator=operator,
            imported_as=imported_as,
            file=self.source.display,
            line=line,
            end_line=end_line,
            args={k: to_value(v) for k, v in kwargs.items()},
            from_default_args=sorted(from_defaults),
            python=python,
            mapped=mapped,
        )
        self.register(task, dag, group, node)
        self.report_decided(task, {"task_id": decided(raw_id, id_decided), **kwargs}, node)
        for upstream in self.xcom_tasks(kwargs):
            self.connect(upstream, task, "data", node)
        for upstream in self.xcom_tasks(mapped_raw):
            self.connect(upstream, task, "data", node)
        return task

    def decisions(self, value: Any, depth: int = 0) -> tuple[Decision, ...]:
        """The unknown conditions that decided ``value`` or anything inside it."""
        found = notes_of(value)
        if self.decided and isinstance(value, (list, dict)) and id(value) in self.decided:
            found = (*found, *self.decided[id(value)][1])
        if depth < 6 and isinstance(value, (list, tuple)):
            found = (*found, *(n for item in value for n in self.decisions(item, depth + 1)))
        elif depth < 6 and isinstance(value, dict):
            found = (*found, *(n for item in value.values() for n in self.decisions(item, depth + 1)))
        return tuple(dict.fromkeys(found))

    def report_decided(self, task: TaskObj, kwargs: dict[str, Any], node: cst.CSTNode) -> None:
        """A120 for each argument an unknown ``if`` decided: which side was kept, what would decide it."""
        if task.dag is None:
            return
        for name, value in kwargs.items():
            for note in self.decisions(value):
                reads = f"; it reads {supply_hint(note.needs)}" if note.needs else ""
                where = f"{note.file}:{note.line}" if note.line else note.file
                self.finding(
                    codes.DECIDED_BY_CONDITION,
                    f"argument `{name}` depends on the condition `{note.source}` ({where}), not known at "
                    f"conversion{reads}: the branch where it holds was kept",
                    None,
                    node,
                    task_id=task.task_id,
                    dag=task.dag,
                )

    def register(self, task: TaskObj, dag: DagObj | None, group: GroupObj | None, node: cst.CSTNode) -> None:
        if dag is None:
            self.detached.append(task)
            return
        group = group if group is not None else dag.root
        task.task_id = group.child_id(task.task_id)
        task.group = group
        task.dag = dag
        existing = dag.tasks.get(task.task_id)
        if existing is not None and task.task_id.startswith("<unresolved "):
            count = 2
            while f"{task.task_id} #{count}" in dag.tasks:
                count += 1
            task.task_id = f"{task.task_id} #{count}"  # unknown ids are not known to collide
            existing = None
        if existing is not None:
            self.finding(
                codes.DUPLICATE_TASK_ID,
                f"task id '{task.task_id}' is defined twice in DAG '{dag.dag_id}' "
                f"({existing.file}:{existing.line} and {task.file}:{task.line}); Airflow refuses the DAG",
                f"Rename the task at {task.file}:{task.line}; the analyzer kept the first one.",
                node,
                task_id=task.task_id,
                dag=dag,
            )
            task.dag = None
            return
        dag.tasks[task.task_id] = task
        dag.used_group_ids.add(task.task_id)
        group.tasks.append(task)

    def attach(self, task: TaskObj, dag: DagObj, node: cst.CSTNode) -> None:
        if task.dag is None and task in self.detached:
            self.detached.remove(task)
            self.register(task, dag, dag.root, node)

    def merged_default_args(self, dag: DagObj | None, group: GroupObj | None, own: Any) -> dict[str, Any]:
        """The ``default_args`` a task gets: the DAG's, its TaskGroups', its own, each over the one before.

        ``params`` among them are the TaskGroups' or the task's own (the DAG's are DAG params: Airflow moves
        them to ``dag.params``); :func:`merge_params` lays them over the task's ``params=``, as Airflow does.
        """
        merged: dict[str, Any] = {}
        if dag is not None:
            merged.update({k: v for k, v in dag.default_args.items() if k != "params"})
        if group is not None:
            merged.update(group.default_args)
        if isinstance(own, dict):
            merged.update(own)
        return merged

    def python_callable(self, function: FunctionObj) -> PythonCallable | None:
        """The callable as the mapping needs it: source, its file's imports and constants, local modules."""
        source: SourceFile = function.source
        if isinstance(function.node, cst.Lambda):  # ``python_callable=lambda: ...``: the mapping makes it a def
            return PythonCallable(name="<lambda>", source=source.code(function.node), file=source.display,
                                  line=source.line(function.node) or 0, imports=list(source.imports()),
                                  local_modules=self.local_modules(source.path.parent, source.imports()))
        if not isinstance(function.node, cst.FunctionDef):
            return None
        cached = self.callables.get(id(function.node))
        if cached is None:
            text = source.def_source(function.node)
            local = self.local_modules(source.path.parent, source.imports() + _body_imports(text))
            cached = self.callables[id(function.node)] = (text, source.imports(), local)
        constants = dict(callable_constants(source.text, function.name, source.def_lines.get(id(function.node)),
                                            cached[0]))
        carried: dict[str, list[str] | str] = {}
        if cached[2]:  # names imported from the repository travel with the callable where they can
            reader = "\n".join([textwrap.dedent(cached[0]), *constants.values()])
            carried = self.carrier.carry(source.path, source.imports() + _body_imports(cached[0]),
                                         set(_IDENTIFIER.findall(reader)), reader)
        keys = {key for found in carried.values() if isinstance(found, list) for key in found}
        return PythonCallable(
            name=function.name,
            source=cached[0],
            file=source.display,
            line=source.def_lines.get(id(function.node)) or source.line(function.node) or 0,  # its `def`, where source starts
            imports=list(cached[1]),
            constants=constants,
            local_modules=list(cached[2]),
            carried=carried,
            carried_code={key: text for key, text in self.carrier.code.items() if key in keys},
        )

    def call_taskflow(
        self,
        flow: TaskFlowObj,
        args: list[Any],
        kwargs: dict[str, Any],
        node: cst.Call,
        mapped: Mapped | None = None,
        mapped_raw: Any = None,
    ) -> Any:
        options = dict(flow.kwargs)
        raw_id = options.pop("task_id", flow.function.name)
        dag = options.pop("dag", None)
        if not isinstance(dag, DagObj):
            dag = self.current_dag()
        group = options.pop("task_group", None)
        if not isinstance(group, GroupObj) or group.dag is not dag:
            group = self.current_group(dag)
        if isinstance(raw_id, str) and dag is not None:
            raw_id = unique_taskflow_id(raw_id, dag, group)
        elif not isinstance(raw_id, str):
            raw_id = f"<unresolved task_id {raw_id.source if isinstance(raw_id, Symbolic) else 'missing'}>"
            self.finding(codes.UNKNOWN_TASK_ID, "task_id of this TaskFlow task is not known statically", None, node)
        merged_defaults = self.merged_default_args(dag, group, options.pop("default_args", None))
        from_defaults = merge_params(options, merged_defaults)
        for key, value in merged_defaults.items():
            if key not in options:
                options[key] = value
                from_defaults.append(key)
        line, end_line = self.task_line(node)
        task = TaskObj(
            task_id=raw_id,
            operator=flow.name,
            imported_as=flow.imported_as,
            file=self.source.display,
            line=line,
            end_line=end_line,
            args={k: to_value(v) for k, v in options.items()},
            from_default_args=sorted(from_defaults),
            call_args=[to_value(a) for a in args],
            call_kwargs={k: to_value(v) for k, v in kwargs.items()},
            python=self.python_callable(flow.function),
            mapped=mapped,
            is_setup=flow.role == "setup",
            is_teardown=flow.role == "teardown",
        )
        self.register(task, dag, group, node)
        for upstream in self.xcom_tasks([args, kwargs, flow.kwargs]):
            self.connect(upstream, task, "data", node)
        for upstream in self.xcom_tasks([mapped_raw, flow.partial]):
            self.connect(upstream, task, "data", node)
        return XComArgObj(task=task)

    def call_taskflow_method(
        self, flow: TaskFlowObj, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call
    ) -> Any:
        if name == "override":
            return TaskFlowObj(
                name=flow.name,
                imported_as=flow.imported_as,
                function=flow.function,
                kwargs={**flow.kwargs, **kwargs},
                partial=flow.partial,
                role=flow.role,
            )
        if name == "partial":
            return TaskFlowObj(
                name=flow.name,
                imported_as=flow.imported_as,
                function=flow.function,
                kwargs=flow.kwargs,
                partial={**(flow.partial or {}), **kwargs},
                role=flow.role,
            )
        if name in ("expand", "expand_kwargs"):
            partial = flow.partial or {}
            mapped = Mapped(
                partial={k: to_value(v) for k, v in partial.items()},
                expand={k: to_value(v) for k, v in kwargs.items()} if name == "expand" else {},
                expand_kwargs=to_value(args[0]) if name == "expand_kwargs" and args else None,
            )
            return self.call_taskflow(flow, [], {}, node, mapped=mapped, mapped_raw=[args, kwargs])
        return UNKNOWN

    def expand_partial(
        self, partial: PartialObj, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call,
        also: Any = None,
    ) -> Any:
        mapped = Mapped(
            partial={k: to_value(v) for k, v in partial.kwargs.items() if k != "task_id"},
            expand={k: to_value(v) for k, v in kwargs.items()} if name == "expand" else {},
            expand_kwargs=to_value(args[0]) if name == "expand_kwargs" and args else None,
        )
        return self.create_task(
            partial.operator,
            partial.imported_as,
            [],
            dict(partial.kwargs),
            partial.node,
            mapped=mapped,
            mapped_raw=[args, kwargs, also],
        )

    def make_asset(
        self, name: str, imported_as: str, kwargs: dict[str, Any], function: FunctionObj, node: cst.Decorator
    ) -> Any:
        """``@asset``: Airflow builds a one-task DAG named after the function."""
        options = {k: v for k, v in kwargs.items() if k in ("schedule", "tags", "description", "default_args")}
        dag = self.make_dag([], options, node, dag_id=function.name)
        dag.registered = True
        line, end_line = self.task_line(function.node)
        task = TaskObj(
            task_id=function.name,
            operator=name,
            imported_as=imported_as,
            file=self.source.display,
            line=line,
            end_line=end_line,
            args={k: to_value(v) for k, v in kwargs.items() if k not in options},
            python=self.python_callable(function),
        )
        self.register(task, dag, dag.root, node)
        return dag


def _body_imports(text: str) -> list[str]:
    """The import statements inside a ``def`` (its source), one per line."""
    if "import" not in text.partition("\n")[2]:
        return []
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
