"""Airflow's semantics on top of the symbolic interpreter: DAGs, TaskGroups, TaskFlow
decorators, calls of Airflow names, attributes; tasks, dependencies and module loading
come from the mixins in ``tasks``, ``dependencies`` and ``modules``.

Everything mirrors what Airflow does at parse time (task ids with group prefixes and
``__N`` suffixes, group roots/leaves when a dependency is set, ``default_args`` merging),
so that the graph equals what ``DagBag`` builds; where it cannot, a finding says why.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import posixpath
import re
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.branches import Branches
from af2kfp.converters.analysis.carry import Carrier
from af2kfp.converters.analysis.data_files import DataFiles, FileObj
from af2kfp.converters.analysis.deferred import with_templates
from af2kfp.converters.analysis.dependencies import Dependencies
from af2kfp.converters.analysis.higher_order import HIGHER_ORDER_BUILTINS, HIGHER_ORDER_REFS, HigherOrder
from af2kfp.converters.analysis.interpreter import GLOBALS, Interpreter
from af2kfp.converters.analysis.model import (
    BaseInit,
    BoundMethod,
    ClassObj,
    ConnectionObj,
    DagFactoryObj,
    DagObj,
    DecoratorObj,
    EnumMember,
    FunctionObj,
    GroupFactoryObj,
    GroupObj,
    InstanceObj,
    LabelObj,
    ModuleObj,
    PartialCall,
    PartialObj,
    Ref,
    SuperObj,
    TaskFlowObj,
    TaskObj,
    XComArgObj,
    xcom_pull_template,
    to_value,
)
from af2kfp.converters.analysis.modules import ModuleLoader, ModuleRun
from af2kfp.converters.analysis.operators import RepositoryOperators, with_defaults
from af2kfp.converters.analysis.overrides import RunOverrides
from af2kfp.converters.analysis.names import SDK, canonical
from af2kfp.converters.analysis.safe_ops import BUILTINS, KEEPS_TEMPLATES, PURE_FUNCTIONS, UNKNOWN, call_method, is_plain, path_join
from af2kfp.converters.analysis.subdags import SubDagTasks
from af2kfp.converters.analysis.tasks import TaskBuilder
from af2kfp.converters.config import Config
from af2kfp.converters.environment import supply_hint
from af2kfp.converters.findings import CODES, Finding
from af2kfp.converters.values import LOOP_PREFIX, Call, DateTime, Duration, Deferred, Symbolic, TaskRef, is_known

__all__ = ["AirflowSemantics"]

_TASK_DECORATOR = f"{SDK}.task"
_DAG_DECORATOR = f"{SDK}.dag"
_GROUP_DECORATOR = f"{SDK}.task_group"
_ROLE_DECORATORS = {f"{SDK}.setup": "setup", f"{SDK}.teardown": "teardown"}
_ASSET_DECORATORS = {f"{SDK}.asset", f"{SDK}.asset.multi"}
_ENUMS = ("TriggerRule", "WeightRule")
_DURATIONS = {"datetime.timedelta", "pendulum.duration", "pendulum.Duration"}
_DATETIMES = {"datetime.datetime", "pendulum.datetime", "pendulum.DateTime"}
_TIMEDELTA_POSITIONAL = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")
_SECONDS = {
    "weeks": 604800,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
    "milliseconds": 0.001,
    "microseconds": 0.000001,
}
_BUILDS_AIRFLOW = re.compile(r"dag|operator|sensor|task", re.IGNORECASE)
_CONTEXT_CODES = {codes.UNKNOWN_LOOP, codes.UNKNOWN_CONDITION, codes.NEEDS_VALUE}
# Reading a Connection when the file is parsed: ``BaseHook.get_connection("id")`` (any hook class) and friends.
_GET_CONNECTION = ("Hook.get_connection", "Connection.get_connection_from_secrets", f"{SDK}.Connection.get")
# str methods that keep their arguments whole in the result: a Deferred argument's template goes through.
_TEMPLATE_METHODS = frozenset({"format", "join", "format_map"})
# Relatives of a task and views of a DAG that Airflow computes when they are read.
_TASK_VIEWS = frozenset({"downstream_list", "upstream_list", "downstream_task_ids", "upstream_task_ids",
                         "task_group"})
_DAG_VIEWS = frozenset({"tasks", "task_ids", "roots", "leaves", "task_group"})
_PATH_TYPES = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath"})
_BUILTIN_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict, "tuple": tuple}


def _on_str(func: Callable[[str], Any], args: list[Any]) -> Any:
    return func(str(args[0])) if len(args) == 1 and isinstance(args[0], (str, PurePosixPath)) else UNKNOWN


def _path(args: list[Any]) -> Any:
    if args and all(isinstance(a, (str, PurePosixPath)) for a in args):
        return PurePosixPath(*args)
    return UNKNOWN


class AirflowSemantics(
    ModuleLoader, SubDagTasks, RepositoryOperators, RunOverrides, TaskBuilder, Dependencies, Branches, HigherOrder,
    DataFiles, Interpreter,
):
    """The analyzer proper: executes modules of the scanned repository symbolically."""

    def __init__(self, config: Config, roots: list[tuple[Path, str]]) -> None:
        super().__init__()
        self.config = config
        self.roots = roots  # (resolved folder, display prefix)
        self.runs: dict[Path, ModuleRun | None] = {}
        self.parse_findings: dict[Path, Finding] = {}
        self.run_stack: list[ModuleRun] = []
        self.dag_stack: list[DagObj] = []
        self.group_stack: list[GroupObj] = []
        self.detached: list[TaskObj] = []
        self.setup_contexts: list[tuple[Any, list[TaskObj], set[str]]] = []
        self.callables: dict[int, tuple[str, list[str], list[str]]] = {}
        self.module_paths: dict[tuple[Path, tuple[str, ...]], Path | str | None] = {}
        self.reported: dict[int, set[Finding]] = {}
        self.search_paths: dict[Path, list[Path]] = {}
        self.carrier = Carrier(self.resolve_import, self.display_for)
        # While a run-method override is walked, its findings are kept here, (code, message at file:line): what
        # it could not evaluate, said on the task instead.
        self.captured: list[tuple[str, str]] | None = None

    # ----------------------------------------------------------------- findings
    def finding(
        self,
        code: str,
        message: str,
        suggestion: str | None = None,
        node: cst.CSTNode | None = None,
        task_id: str | None = None,
        dag: DagObj | None = None,
    ) -> None:
        if self.captured is not None and task_id is None:
            self.captured.append((code, f"{message} ({self.where(node)})" if self.frames else message))
            return
        dag = dag if dag is not None else (self.dag_stack[-1] if self.dag_stack else None)
        if code in _CONTEXT_CODES and dag is None and self.depth > 0 and node is not None:
            if not _BUILDS_AIRFLOW.search(self.source.code(node)):
                return  # a helper's loop/condition outside any DAG that builds no DAG or task: noise
        entry = CODES[code]
        result = Finding(
            code=code,
            severity=entry.severity,
            message=message,
            suggestion=suggestion or entry.help,
            file=self.source.display if self.frames else "",
            line=self.line_of(node) if self.frames else None,
            dag_id=dag.dag_id if dag is not None else None,
            task_id=task_id,
        )
        target = dag.findings if dag is not None else (self.run_stack[-1].findings if self.run_stack else None)
        seen = self.reported.setdefault(id(target), set())
        if target is not None and result not in seen:  # a helper called N times reports once
            seen.add(result)
            target.append(result)

    def truth(self, value: Any) -> bool | None:
        if isinstance(value, Ref):
            return False if value.qualname == "typing.TYPE_CHECKING" else True
        if isinstance(value, BoundMethod):
            return True
        return super().truth(value)

    def discarded_call(self, node: cst.Call, callee: Any) -> None:
        external = isinstance(callee, Ref) and callee.qualname.rsplit(".", 1)[-1][:1].islower()
        # an unknown name, or a method of an object the analyzer does not model (``Factory(dag).add_all()``)
        unknown = isinstance(callee, Symbolic) or isinstance(callee, BoundMethod) and isinstance(
            callee.receiver, (Call, Symbolic))
        if self.dag_stack and (external or unknown):
            self.finding(
                codes.UNKNOWN_CALL,
                f"`{self.source.code(node.func)}(...)` is called inside DAG "
                f"'{self.dag_stack[-1].dag_id}' but its code is not in the scanned files",
                None,
                node,
            )

    def needs_value(self, what: str, value: Deferred, node: cst.CSTNode, task_id: str | None = None) -> None:
        self.finding(
            codes.NEEDS_VALUE,
            f"{what} depends on {supply_hint(value.needs)}, which was not supplied; KFP needs it when the pipeline "
            "is compiled",
            None,
            node,
            task_id=task_id,
        )

    # ----------------------------------------------------------------- what Airflow knows at parse time
    def ref_item(self, ref: Ref, key: Any, node: cst.CSTNode) -> Any:
        if ref.qualname == "os.environ" and isinstance(key, str):
            return self.env_value(key, node)
        return UNKNOWN

    def env_value(self, key: str, node: cst.CSTNode, default: Any = UNKNOWN) -> Any:
        """``os.environ[key]`` / ``os.getenv(key, default)``: the supplied value, the default, or a Deferred."""
        known = self.config.environment.env.get(key)
        if known is not None:
            return known
        if default is not UNKNOWN:
            return default
        return Deferred(source=self.source.code(node), needs=(f"env {key}",))

    def env_get(self, args: list[Any], kwargs: dict[str, Any], node: cst.CSTNode) -> Any:
        key = args[0] if args else kwargs.get("key")
        if not isinstance(key, str):
            return UNKNOWN
        default = args[1] if len(args) > 1 else kwargs.get("default", UNKNOWN)
        return self.env_value(key, node, default)

    def connection_attribute(self, connection: ConnectionObj, name: str, node: cst.CSTNode) -> Any:
        """A field of a Connection read at parse time: the supplied value (never a password), or a Deferred."""
        supplied = self.config.environment.connections.get(connection.conn_id)
        known = supplied.value_of(name) if supplied is not None else None
        if known is not None:
            return copy.deepcopy(known)
        if name not in ("host", "port", "schema", "login", "password", "conn_type", "extra_dejson", "extra"):
            return UNKNOWN
        template = f"{{{{ conn.{connection.conn_id}.{name} }}}}"
        return Deferred(source=self.source.code(node), template=template, needs=(f"Connection {connection.conn_id}",))

    def variable_get(self, args: list[Any], kwargs: dict[str, Any], node: cst.CSTNode) -> Any:
        """``Variable.get(key, default, deserialize_json=...)``: the supplied value, else a Deferred whose
        template is what Airflow renders for it (``{{ var.value.key }}``)."""
        key = kwargs.get("key", args[0] if args else None)
        as_json = kwargs.get("deserialize_json", args[2] if len(args) > 2 else False)
        if not isinstance(key, str) or not isinstance(as_json, bool):
            return UNKNOWN
        given = [name for name in ("default_var", "default") if name in kwargs]
        has_default = len(args) > 1 or bool(given)
        default = args[1] if len(args) > 1 else kwargs[given[0]] if given else None
        environment = self.config.environment
        if as_json and environment.has_json(key):
            return copy.deepcopy(environment.json_variable(key))  # the analyzer may mutate what it returns
        if not as_json and key in environment.variables:
            return environment.variables[key]
        path = f"var.{'json' if as_json else 'value'}" + (f".{key}" if key.isidentifier() else f"[{key!r}]")
        if not has_default:
            template: str | None = f"{{{{ {path} }}}}"
        elif isinstance(default, str) and not as_json:
            template = f"{{{{ var.value.get({key!r}, {default!r}) }}}}"
        else:
            template = None  # a default that is not a string renders differently from the value it stands for
        return Deferred(source=self.source.code(node), template=template, needs=(f"Variable {key}",))

    def task_call_not_followed(self, node: cst.Call, args: list[Any], kwargs: dict[str, Any], result: Any) -> Any:
        """Inside a DAG, a call given a literal ``task_id=`` that the analyzer cannot follow stands for
        the task it creates (an operator it does not know: a placeholder when converted), so the DAG
        keeps that task and its dependencies; A114 says so on the call's line."""
        callee = " ".join(self.source.code(node.func).replace(chr(92) + chr(10), " ").split())
        task_id = kwargs["task_id"]
        if not self.dag_stack or not isinstance(task_id, str):
            self.finding(codes.UNKNOWN_CALL, f"`{callee}(task_id=..., ...)` is not followed: the task it creates "
                                             "is missing from the graph", None, node)
            return result
        method = callee.rsplit(".", 1)[-1] if isinstance(node.func, cst.Attribute) else callee
        created = self.create_task(f"<not followed>.{method}", callee, args, kwargs, node)
        self.finding(
            codes.UNKNOWN_CALL,
            f"`{callee}(task_id={task_id!r}, ...)` is not followed (its code is not in the scanned files, or does "
            f"what the analyzer cannot evaluate); assumed to create task {task_id!r} of an unknown operator",
            "Scan the folder that holds the helper, or create the operator in the DAG file, so the analyzer sees "
            "what it builds.",
            node,
            task_id=created.task_id if isinstance(created, TaskObj) else None,
        )
        return created

    def dag_call_not_followed(self, ref: Ref, args: list[Any], kwargs: dict[str, Any], node: cst.Call) -> Any:
        """``make_pod(dag=dag, name="load", ...)`` from a library outside the scanned files: given the DAG as
        BaseOperator's ``dag=`` is, it stands for the task it builds, which Airflow names by the call's
        ``name`` (the convention of task-builder libraries) or, without one, the analyzer names after the
        function and line. The DAG keeps that task (a placeholder when converted) and its dependencies
        instead of losing it silently; A114 says what was assumed."""
        named = kwargs.get("name", kwargs.get("task_name"))
        line = self.line_of(node)
        task_id = named if isinstance(named, str) and named else f"{ref.qualname.rsplit('.', 1)[-1]}_line{line}"
        created = self.create_task(f"<not followed>.{ref.qualname.rsplit('.', 1)[-1]}", ref.imported_as, args,
                                   {**kwargs, "task_id": task_id}, node)
        how = f"named after its `name` argument {task_id!r}" if task_id == named else f"called {task_id!r} here"
        self.finding(
            codes.UNKNOWN_CALL,
            f"`{self.source.code(node.func)}(dag=..., ...)` is given the DAG but its code is not in the scanned files; "
            f"assumed to create one task of an unknown operator, {how}",
            "Scan the folder (or install and map the library) that holds this helper so the analyzer sees the "
            "tasks it builds and their ids; until then the task is a placeholder.",
            node,
            task_id=created.task_id if isinstance(created, TaskObj) else None,
        )
        return created

    # ----------------------------------------------------------------- context managers
    def enter_context(self, value: Any, node: cst.WithItem) -> Any:
        if isinstance(value, DagObj):
            value.registered = True
            self.dag_stack.append(value)
        elif isinstance(value, GroupObj):
            self.group_stack.append(value)
        elif isinstance(value, (TaskObj, XComArgObj, list, tuple)):
            tasks = self.endpoints(value, True, node)
            if not tasks or not all(isinstance(t, TaskObj) and (t.is_setup or t.is_teardown) for t in tasks):
                self.finding(
                    codes.UNSUPPORTED_CONSTRUCT,
                    f"context manager `{self.source.code(node.item)}` is not a setup/teardown task",
                    "Tasks in this block may miss dependencies; declare them with `>>` explicitly.",
                    node,
                )
                return value
            dag = tasks[0].dag
            self.setup_contexts.append((value, tasks, set(dag.tasks) if dag is not None else set()))
        return value

    def exit_context(self, value: Any) -> None:
        if isinstance(value, DagObj) and self.dag_stack and self.dag_stack[-1] is value:
            self.dag_stack.pop()
        elif isinstance(value, GroupObj) and self.group_stack and self.group_stack[-1] is value:
            self.group_stack.pop()
        elif self.setup_contexts and self.setup_contexts[-1][0] is value:
            _, tasks, before = self.setup_contexts.pop()
            self.wire_setup_context(tasks, before)

    # ----------------------------------------------------------------- attributes
    @staticmethod
    def task_view(task: TaskObj, name: str) -> Any:
        """What a task's relatives are at this point of the file, as Airflow answers then."""
        if name == "task_group":
            return task.group if task.group is not None else (task.dag.root if task.dag is not None else None)
        relatives = task.downstream if name.startswith("downstream") else task.upstream
        return list(relatives) if name.endswith("_list") else {t.task_id for t in relatives}

    @staticmethod
    def dag_view(dag: DagObj, name: str) -> Any:
        """``dag.tasks``, ``roots``, ``leaves``, ``task_ids``, ``task_group`` as Airflow answers them at this point."""
        tasks = list(dag.tasks.values())
        if name == "tasks":
            return tasks
        if name == "task_ids":
            return [t.task_id for t in tasks]
        if name == "task_group":
            return dag.root
        members = {id(t) for t in tasks}
        relatives = (lambda t: t.upstream) if name == "roots" else (lambda t: t.downstream)
        return [t for t in tasks if not any(id(r) in members for r in relatives(t))]

    def iterate(self, value: Any) -> list[Any] | None:
        """A set of tasks or TaskGroups iterates in id order (Airflow's set order is arbitrary too)."""
        if isinstance(value, (set, frozenset)) and value and all(isinstance(v, (TaskObj, GroupObj)) for v in value):
            return sorted(value, key=lambda v: (v.task_id if isinstance(v, TaskObj) else v.group_id or ""))
        return super().iterate(value)

    def attribute(self, value: Any, name: str, node: cst.Attribute) -> Any:
        if name == "__name__" and isinstance(value, (Ref, FunctionObj, ClassObj)):
            return value.qualname.rsplit(".", 1)[-1] if isinstance(value, Ref) else value.name
        if isinstance(value, Ref):
            if value.qualname.endswith(_ENUMS) and name.isupper():
                return name.lower()
            return Ref(canonical(f"{value.qualname}.{name}"), f"{value.imported_as}.{name}")
        if isinstance(value, PurePosixPath):
            if name in ("stem", "name", "suffix", "parent", "parts"):
                result = getattr(value, name)
                return list(result) if isinstance(result, tuple) else result
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, ModuleObj):
            return self.module_attr(value, name)
        if isinstance(value, TaskObj):
            if name == "output":
                return XComArgObj(task=value)
            if name == "task_id":
                return value.task_id
            if name == "dag":
                return value.dag
            if name in _TASK_VIEWS:
                return self.task_view(value, name)
            if name in value.args and name not in ("set_upstream", "set_downstream"):
                return value.args[name]
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, XComArgObj):
            if name == "operator":
                return value.task
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, DagObj):
            if name == "dag_id":
                return value.dag_id
            if name == "default_args":
                return value.default_args
            if name == "task_dict":
                return dict(value.tasks)
            if name in _DAG_VIEWS:
                return self.dag_view(value, name)
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, GroupObj):
            if name == "group_id":
                return value.group_id
            if name == "children":  # Airflow: child id -> task or TaskGroup
                return {**{t.task_id: t for t in value.tasks}, **{g.group_id: g for g in value.children}}
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, ClassObj):
            owner, found = value.lookup(name)
            if owner is None:
                return BoundMethod(receiver=value, name=name)
            if value.is_enum() and not isinstance(found, FunctionObj):
                return EnumMember(name=name, value=found)
            return found
        if isinstance(value, SuperObj):
            for base in value.owner.bases:
                owner, found = base.lookup(name) if isinstance(base, ClassObj) else (None, None)
                if isinstance(found, FunctionObj):
                    return PartialCall(func=found, args=[value.instance], kwargs={})
                if owner is not None:
                    return found
            if name == "__init__" and isinstance(value.instance, InstanceObj):
                return BaseInit(instance=value.instance)  # the operator class Airflow or a provider ships
            return UNKNOWN
        if isinstance(value, EnumMember):
            return value.value if name == "value" else (value.name if name == "name" else UNKNOWN)
        if isinstance(value, ConnectionObj):
            return self.connection_attribute(value, name, node)
        if isinstance(value, InstanceObj):
            if name in value.attrs:
                return value.attrs[name]
            owner, found = value.klass.lookup(name)
            if isinstance(found, FunctionObj):
                if name in value.klass.properties:
                    return self.call_function(found, [value], {}, node)
                return BoundMethod(receiver=value, name=name)
            return found if owner is not None else UNKNOWN
        if isinstance(
            value, (TaskFlowObj, GroupFactoryObj, DagFactoryObj, PartialObj, LabelObj, FunctionObj, DecoratorObj)
        ):
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, Duration) and name == "total_seconds":
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, (str, bytes, list, dict, tuple, set)):
            return BoundMethod(receiver=value, name=name)
        if isinstance(value, Deferred) and hasattr(str, name):  # a text read later: its str methods
            return BoundMethod(receiver=value, name=name)
        return UNKNOWN

    # ----------------------------------------------------------------- decorators
    def decorate(self, decorator: Any, target: Any, node: cst.Decorator) -> Any:
        name, kwargs, imported_as = None, {}, ""
        if isinstance(decorator, Ref):
            name, imported_as = decorator.qualname, decorator.imported_as
        elif isinstance(decorator, DecoratorObj):
            name, kwargs, imported_as = decorator.name, decorator.kwargs, decorator.imported_as
        elif isinstance(decorator, FunctionObj) and isinstance(target, FunctionObj):
            return self.wrap_with_user_decorator(decorator, target, node)
        if name is None:
            return target
        if name in _ASSET_DECORATORS and isinstance(target, FunctionObj):
            return self.make_asset(name, imported_as, kwargs, target, node)
        return self.apply_decorator(name, imported_as, kwargs, target)

    def wrap_with_user_decorator(self, decorator: FunctionObj, target: FunctionObj, node: cst.Decorator) -> Any:
        result = self.call_function(decorator, [target], {}, node)
        return result if isinstance(result, (TaskFlowObj, FunctionObj, DagFactoryObj, GroupFactoryObj)) else target

    def apply_decorator(self, name: str, imported_as: str, kwargs: dict[str, Any], target: Any) -> Any:
        if name in _ROLE_DECORATORS:
            if isinstance(target, TaskFlowObj):
                return TaskFlowObj(
                    name=target.name,
                    imported_as=target.imported_as,
                    function=target.function,
                    kwargs=target.kwargs,
                    role=_ROLE_DECORATORS[name],
                )
            if isinstance(target, FunctionObj):
                return TaskFlowObj(
                    name=_TASK_DECORATOR,
                    imported_as=imported_as,
                    function=target,
                    kwargs=dict(kwargs),
                    role=_ROLE_DECORATORS[name],
                )
            return target
        if not isinstance(target, FunctionObj):
            return target
        if name == _TASK_DECORATOR or name.startswith(_TASK_DECORATOR + "."):
            return TaskFlowObj(name=name, imported_as=imported_as, function=target, kwargs=dict(kwargs))
        if name == _DAG_DECORATOR:
            return DagFactoryObj(function=target, kwargs=dict(kwargs))
        if name == _GROUP_DECORATOR:
            return GroupFactoryObj(function=target, kwargs=dict(kwargs))
        return target

    # ----------------------------------------------------------------- calls
    def call_value(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: cst.Call, star_unknown: bool) -> Any:
        if isinstance(func, BoundMethod):
            return self.call_method(func.receiver, func.name, args, kwargs, node, star_unknown)
        if isinstance(func, Ref):
            return self.call_ref(func, args, kwargs, node, star_unknown)
        if isinstance(func, FunctionObj):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, TaskFlowObj):
            return self.call_taskflow(func, args, kwargs, node)
        if isinstance(func, DagFactoryObj):
            return self.call_dag_factory(func, args, kwargs, node)
        if isinstance(func, GroupFactoryObj):
            return self.call_group_factory(func, args, kwargs, node)
        if isinstance(func, DecoratorObj):
            if args and isinstance(args[0], FunctionObj):
                return self.apply_decorator(func.name, func.imported_as, func.kwargs, args[0])
            return UNKNOWN
        if isinstance(func, ClassObj):
            return self.call_class(func, args, kwargs, node, star_unknown)
        if isinstance(func, PartialCall):
            inner, bound = func.func, func.args
            if (isinstance(inner, FunctionObj) and inner.name == "__init__" and bound
                    and isinstance(bound[0], InstanceObj) and bound[0].defaults):
                kwargs = with_defaults(inner, args, kwargs, bound[0].defaults)  # super().__init__ of a base too
            return self.call_value(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, node, star_unknown)
        if isinstance(func, BaseInit):
            self.call_base_init(func.instance, args, kwargs, star_unknown)
            return None
        return UNKNOWN

    def call_builtin(self, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call) -> Any:
        if name == "globals":
            return GLOBALS
        if name in HIGHER_ORDER_BUILTINS and (name != "sorted" or "key" in kwargs or not is_plain(args)):
            return self.higher_order(name, args, kwargs, node)
        if name == "super":
            return self.make_super(args)
        if name == "isinstance" and len(args) == 2:
            return self.isinstance_of(args[0], args[1])
        if name in ("getattr", "hasattr") and len(args) in (2, 3) and isinstance(args[1], str) and (
                isinstance(args[0], (TaskObj, DagObj, GroupObj, XComArgObj))):
            found = self.attribute(args[0], args[1], node)  # type: ignore[arg-type]
            return found is not UNKNOWN if name == "hasattr" else found
        if name == "open":
            return self.open_file(args, kwargs)
        if name in ("print", "isinstance", "getattr", "hasattr", "type"):
            return None if name == "print" else UNKNOWN
        if name == "str" and len(args) == 1 and isinstance(args[0], Deferred) and args[0].template is not None:
            return args[0]  # a Variable's text is a string already
        if name == "str" and len(args) == 1 and isinstance(args[0], XComArgObj) and args[0].task.dag is not None:
            return xcom_pull_template(args[0])  # str(XComArg) is Airflow's xcom_pull template
        return BUILTINS[name](*args, **kwargs)

    def make_super(self, args: list[Any]) -> Any:
        """``super(Class, self)`` or the zero-argument form inside a method of a scanned class."""
        if len(args) == 2 and isinstance(args[0], ClassObj):
            return SuperObj(owner=args[0], instance=args[1])
        frame = self.frames[-1]
        if not args and frame.function is not None and isinstance(frame.function.owner, ClassObj):
            return SuperObj(owner=frame.function.owner, instance=frame.first_arg)
        return UNKNOWN

    @staticmethod
    def isinstance_of(value: Any, types: Any) -> Any:
        """``isinstance`` against builtin types, on values the analyzer knows."""
        candidates = types if isinstance(types, (list, tuple)) else [types]
        names = {c.name for c in candidates if isinstance(c, BoundMethod) and c.receiver is None}
        paths = [c for c in candidates if isinstance(c, Ref) and c.qualname in _PATH_TYPES]
        if len(names) + len(paths) != len(candidates) or not names <= set(_BUILTIN_TYPES):
            return UNKNOWN
        if isinstance(value, (Symbolic, Ref, BoundMethod)) or value is UNKNOWN:
            return UNKNOWN
        return isinstance(value, tuple(_BUILTIN_TYPES[n] for n in names) + ((PurePosixPath,) if paths else ()))

    def call_method(
        self, receiver: Any, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call, star_unknown: bool
    ) -> Any:
        if receiver is None:
            return self.call_builtin(name, args, kwargs, node)
        if isinstance(receiver, Deferred):  # not known either, and what would make it known is the same
            return Deferred(source=self.source.code(node), needs=receiver.needs)
        if isinstance(receiver, (TaskObj, XComArgObj, GroupObj, LabelObj)):
            return self.call_node_method(receiver, name, args, kwargs, node)
        if isinstance(receiver, TaskFlowObj):
            return self.call_taskflow_method(receiver, name, args, kwargs, node)
        if isinstance(receiver, GroupFactoryObj):
            if name == "override":
                return GroupFactoryObj(function=receiver.function, kwargs={**receiver.kwargs, **kwargs},
                                       partial=receiver.partial)
            if name == "partial":
                return GroupFactoryObj(function=receiver.function, kwargs=receiver.kwargs,
                                       partial={**receiver.partial, **kwargs})
            if name == "expand" and not args and kwargs and all(self.loop_items(v) is not None for v in kwargs.values()):
                return self.call_mapped_group(receiver, kwargs, node)
            if name in ("expand", "expand_kwargs"):
                self.finding(
                    codes.UNSUPPORTED_CONSTRUCT,
                    "mapped task group (`.expand`) over values not known statically, analyzed as one instance",
                    "Expand over a literal list or a task's return value to get a KFP ParallelFor over the group.",
                    node,
                )
                return self.call_group_factory(receiver, [], {**receiver.partial, **kwargs} if name == "expand"
                                               else dict(receiver.partial), node)
            return UNKNOWN
        if isinstance(receiver, PartialObj):
            if name in ("expand", "expand_kwargs") and receiver.klass is not None:
                return self.expand_operator(receiver, name, args, kwargs, node)
            if name in ("expand", "expand_kwargs"):
                return self.expand_partial(receiver, name, args, kwargs, node)
            return UNKNOWN
        if isinstance(receiver, DagObj):
            if name == "add_task" and args and isinstance(args[0], TaskObj):
                self.attach(args[0], receiver, node)
            elif name == "add_tasks" and args and isinstance(args[0], (list, tuple)):
                for item in args[0]:
                    if isinstance(item, TaskObj):
                        self.attach(item, receiver, node)
            return None
        if isinstance(receiver, FileObj):
            return self.file_text(receiver) if name == "read" and not args else UNKNOWN
        if isinstance(receiver, PurePosixPath):
            if name in ("read_text", "open", "exists", "is_file"):
                return self.path_method(receiver, name)
            if name in ("with_suffix", "with_name", "joinpath", "as_posix") and all(isinstance(a, str) for a in args):
                try:
                    return getattr(receiver, name)(*args)
                except ValueError:
                    return UNKNOWN
            return UNKNOWN
        if isinstance(receiver, InstanceObj):
            owner, method = receiver.klass.lookup(name)
            if isinstance(method, FunctionObj):
                bound = args if name in receiver.klass.static else [receiver, *args]
                return self.call_function(method, bound, kwargs, node)
            return UNKNOWN
        if isinstance(receiver, Duration) and name == "total_seconds":
            return receiver.seconds
        if isinstance(receiver, ClassObj):
            if name == "partial":
                return PartialObj(
                    operator=receiver.qualname, imported_as=receiver.qualname, kwargs=dict(kwargs), node=node,
                    klass=receiver if self.class_is_operator(receiver) else None,
                )
            return UNKNOWN
        if isinstance(receiver, str) and name in _TEMPLATE_METHODS:
            result = with_templates(lambda *a, **k: call_method(receiver, name, list(a), k), args, kwargs,
                                    lambda: self.source.code(node))
            if result is not UNKNOWN:
                return result
        return call_method(receiver, name, args, kwargs)

    def call_ref(self, ref: Ref, args: list[Any], kwargs: dict[str, Any], node: cst.Call, star_unknown: bool) -> Any:
        name = ref.qualname
        if name in HIGHER_ORDER_REFS:
            return self.higher_order(name, args, kwargs, node)
        handler = self.ref_handlers.get(name)
        if handler is not None:
            return handler(ref, args, kwargs, node)
        pure = PURE_FUNCTIONS.get(name)
        if pure is not None and not star_unknown:
            if name in KEEPS_TEMPLATES:
                return self.templated(pure, args, kwargs, node)
            return pure(*args, **kwargs)
        if (
            name == _TASK_DECORATOR
            or name.startswith(_TASK_DECORATOR + ".")
            or name in (_DAG_DECORATOR, _GROUP_DECORATOR, *_ROLE_DECORATORS, *_ASSET_DECORATORS)
        ):
            if args and isinstance(args[0], (FunctionObj, TaskFlowObj)):
                return self.apply_decorator(name, ref.imported_as, kwargs, args[0])
            if name == _TASK_DECORATOR and "python_callable" in kwargs:
                target = kwargs.pop("python_callable")
                return self.apply_decorator(name, ref.imported_as, kwargs, target)
            return DecoratorObj(name=name, imported_as=ref.imported_as, kwargs=dict(kwargs))
        last = name.rsplit(".", 1)[-1]
        if name.endswith(_GET_CONNECTION) and (args or "conn_id" in kwargs):
            conn_id = kwargs.get("conn_id", args[0] if args else None)
            return ConnectionObj(conn_id=conn_id) if isinstance(conn_id, str) else UNKNOWN
        if last == "__init__" and args and isinstance(args[0], InstanceObj):  # Operator.__init__(self, ...)
            self.call_base_init(args[0], args[1:], kwargs, star_unknown)
            return None
        if last == "partial" and self.is_operator_name(name.rsplit(".", 1)[0]):
            owner = name.rsplit(".", 1)[0]
            return PartialObj(
                operator=owner, imported_as=ref.imported_as.rsplit(".", 1)[0], kwargs=dict(kwargs), node=node
            )
        if self.is_operator_name(name) or ("task_id" in kwargs and self.may_be_operator_class(name)):
            return self.create_task(name, ref.imported_as, args, kwargs, node, star_unknown)
        if "task_id" in kwargs and last[:1].islower():
            created = self.create_task(name, ref.imported_as, args, kwargs, node, star_unknown)
            self.finding(
                codes.UNKNOWN_CALL,
                f"`{ref.imported_as}(task_id=...)` is not in the scanned files; assumed to create task "
                f"'{created.task_id}' with operator {name}",
                "Scan the folder that holds this helper so the analyzer sees the operator it builds.",
                node,
                task_id=created.task_id,
            )
            return created
        if isinstance(kwargs.get("dag"), DagObj) and last[:1].islower():
            return self.dag_call_not_followed(ref, args, kwargs, node)
        if name in _DURATIONS:
            return self.duration(args, kwargs)
        if name in _DATETIMES:
            return self.datetime(args, kwargs)
        if last[:1].isupper():
            return Call(
                func=name, args=tuple(to_value(a) for a in args), kwargs={k: to_value(v) for k, v in kwargs.items()}
            )
        return UNKNOWN

    @functools.cached_property
    def ref_handlers(self) -> dict[str, Callable[..., Any]]:
        """Calls of outside names the analyzer evaluates itself, by qualified name (built once)."""
        return {
            f"{SDK}.DAG": lambda ref, a, k, n: self.make_dag(a, k, n),
            f"{SDK}.TaskGroup": lambda ref, a, k, n: self.make_group(a, k, n),
            f"{SDK}.chain": lambda ref, a, k, n: self.chain(a, n),
            f"{SDK}.chain_linear": lambda ref, a, k, n: self.chain_linear(a, n),
            f"{SDK}.cross_downstream": lambda ref, a, k, n: self.cross_downstream(a, k, n),
            f"{SDK}.Label": lambda ref, a, k, n: LabelObj(text=a[0] if a else k.get("label")),
            f"{SDK}.XComArg": lambda ref, a, k, n: (
                XComArgObj(task=a[0], key=a[1] if len(a) > 1 else k.get("key", "return_value"))
                if a and isinstance(a[0], TaskObj)
                else UNKNOWN
            ),
            "functools.partial": lambda ref, a, k, n: PartialCall(func=a[0], args=a[1:], kwargs=k) if a else UNKNOWN,
            f"{SDK}.Variable.get": lambda ref, a, k, n: self.variable_get(a, k, n),
            "os.environ.get": lambda ref, a, k, n: self.env_get(a, k, n),
            "os.getenv": lambda ref, a, k, n: self.env_get(a, k, n),
            "os.path.join": lambda ref, a, k, n: self.templated(path_join, a, k, n),
            "os.path.basename": lambda ref, a, k, n: _on_str(posixpath.basename, a),
            "os.path.dirname": lambda ref, a, k, n: _on_str(posixpath.dirname, a),
            "os.path.abspath": lambda ref, a, k, n: _on_str(posixpath.normpath, a),
            "os.path.realpath": lambda ref, a, k, n: _on_str(posixpath.normpath, a),
            "os.path.splitext": lambda ref, a, k, n: _on_str(lambda p: list(posixpath.splitext(p)), a),
            "yaml.safe_load": lambda ref, a, k, n: self.load_data("yaml", a, k),
            "yaml.load": lambda ref, a, k, n: self.load_data("yaml", a, k),
            "yaml.full_load": lambda ref, a, k, n: self.load_data("yaml", a, k),
            "json.load": lambda ref, a, k, n: self.load_data("json", a, k),
            "pathlib.Path": lambda ref, a, k, n: _path(a),
            "pathlib.PurePath": lambda ref, a, k, n: _path(a),
            "pathlib.PosixPath": lambda ref, a, k, n: _path(a),
        }

    def templated(self, func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any], node: cst.CSTNode) -> Any:
        """``func`` on known values, or on Deferred ones through their templates (``os.path.join(root, var)``)."""
        result = with_templates(func, args, kwargs, lambda: self.source.code(node))
        return func(*args, **kwargs) if result is UNKNOWN else result

    @staticmethod
    def duration(args: list[Any], kwargs: dict[str, Any]) -> Any:
        values = dict(zip(_TIMEDELTA_POSITIONAL, args))
        values.update(kwargs)
        if not all(
            k in _SECONDS and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in values.items()
        ):
            return UNKNOWN
        return Duration(seconds=float(sum(_SECONDS[k] * v for k, v in values.items())))

    @staticmethod
    def datetime(args: list[Any], kwargs: dict[str, Any]) -> Any:
        tz = kwargs.pop("tz", kwargs.pop("tzinfo", None))
        if not all(isinstance(a, int) for a in args) or not all(isinstance(v, int) for v in kwargs.values()):
            return UNKNOWN
        try:
            moment = _dt.datetime(*args, **kwargs)
        except (TypeError, ValueError):
            return UNKNOWN
        iso = moment.isoformat()
        if tz is None:
            return DateTime(iso=iso)
        if isinstance(tz, str):
            return DateTime(iso=iso + "+00:00" if tz.upper() in ("UTC", "Z") else f"{iso}[{tz}]")
        return DateTime(iso=iso)

    # ----------------------------------------------------------------- DAGs
    def make_dag(self, args: list[Any], kwargs: dict[str, Any], node: cst.Call, dag_id: Any = None) -> DagObj:
        if dag_id is None:
            dag_id = kwargs.pop("dag_id", args[0] if args else None)
        else:
            kwargs.pop("dag_id", None)
        kwargs = dict(kwargs)
        given_id = dag_id
        if not isinstance(dag_id, str):
            text = dag_id.source if isinstance(dag_id, Symbolic) else "<missing>"
            dag_id = f"<unresolved dag_id {text}>"
            unresolved = True
        else:
            unresolved = False
        default_args = kwargs.get("default_args")
        run = self.run_stack[-1]
        file, line = self.anchor(run, node)
        dag = DagObj(
            dag_id=dag_id,
            file=file,
            line=line,
            kwargs=kwargs,
            default_args=dict(default_args) if isinstance(default_args, dict) else {},
        )
        run.dags.append(dag)
        if unresolved and isinstance(given_id, Deferred) and given_id.needs:
            self.finding(codes.NEEDS_VALUE, f"the dag_id of this DAG depends on {supply_hint(given_id.needs)}, which "
                         "was not supplied; KFP needs it to name the pipeline", None, node, dag=dag)
        elif unresolved:
            self.finding(
                codes.UNKNOWN_DAG_ID, "dag_id of the DAG created here is not known statically", None, node, dag=dag
            )
        if default_args is not None and not isinstance(default_args, dict):
            self.finding(
                codes.UNSUPPORTED_CONSTRUCT,
                "default_args is not known statically; not merged into tasks",
                "Build default_args from literals and module constants.",
                node,
                dag=dag,
            )
        return dag

    def anchor(self, run: ModuleRun, node: cst.CSTNode) -> tuple[str, int | None]:
        """File and line of a DAG: the innermost frame in the file whose execution created it."""
        for frame in reversed(self.frames):
            if frame.source is run.source:
                line = self.line_of(node) if frame is self.frames[-1] else frame.line
                return run.source.display, line or frame.line
        return run.source.display, self.line_of(node)

    def call_dag_factory(self, factory: DagFactoryObj, args: list[Any], kwargs: dict[str, Any], node: cst.Call) -> Any:
        dag_kwargs = dict(factory.kwargs)
        dag_id = dag_kwargs.pop("dag_id", factory.function.name)
        dag = self.make_dag([], dag_kwargs, node, dag_id=dag_id)
        dag.registered = True
        bind = {}
        params = factory.function.node.params
        declared = [*params.posonly_params, *params.params, *params.kwonly_params]
        for param in declared:
            bind[param.name.value] = Symbolic(source=f"params.{param.name.value}")
        # As Airflow: the function's parameters become DAG params; call arguments override their defaults.
        values = dict(factory.function.defaults)
        values.update(zip((p.name.value for p in declared), args))
        values.update({k: v for k, v in kwargs.items() if k in bind})
        if values and isinstance(dag.kwargs.get("params", {}), dict):
            dag.kwargs["params"] = {**dag.kwargs.get("params", {}), **values}
        self.dag_stack.append(dag)
        saved_groups, self.group_stack = self.group_stack, []
        try:
            self.call_function(factory.function, args, kwargs, node, bind=bind)
        finally:
            self.group_stack = saved_groups
            self.dag_stack.pop()
        return dag

    # ----------------------------------------------------------------- task groups
    def current_dag(self) -> DagObj | None:
        return self.dag_stack[-1] if self.dag_stack else None

    def current_group(self, dag: DagObj | None) -> GroupObj | None:
        if dag is None:
            return None
        for group in reversed(self.group_stack):
            if group.dag is dag:
                return group
        return dag.root

    def make_group(self, args: list[Any], kwargs: dict[str, Any], node: cst.Call, add_suffix: bool = False) -> Any:
        group_id = kwargs.get("group_id", args[0] if args else None)
        parent = kwargs.get("parent_group")
        dag = kwargs.get("dag")
        if not isinstance(dag, DagObj):
            dag = parent.dag if isinstance(parent, GroupObj) else self.current_dag()
        if dag is None:
            self.finding(codes.UNSUPPORTED_CONSTRUCT, "TaskGroup created outside any DAG", None, node)
            return UNKNOWN
        if not isinstance(parent, GroupObj):
            parent = self.current_group(dag)
        if not isinstance(group_id, str):
            if isinstance(group_id, Deferred) and group_id.needs:
                self.needs_value("the group_id of this TaskGroup", group_id, node)
            else:
                self.finding(
                    codes.UNKNOWN_TASK_ID, f"group_id `{self.source.code(node)[:60]}` is not known statically", None,
                    node
                )
            group_id = f"<{group_id.source if isinstance(group_id, Symbolic) else 'group'}>"
        given = kwargs.get("default_args")
        default_args = {**parent.default_args, **given} if isinstance(given, dict) else dict(parent.default_args)
        group = GroupObj(
            raw_id=group_id,
            dag=dag,
            parent=parent,
            prefix_group_id=kwargs.get("prefix_group_id", True) is not False,
            default_args=default_args,
        )
        if group.group_id in dag.used_group_ids:
            if add_suffix:
                base = re.split(r"__\d+$", group.raw_id)[0]
                suffixes = [
                    int(u.rsplit("__", 1)[1]) for u in dag.used_group_ids if re.match(rf"^{re.escape(base)}__\d+$", u)
                ]
                group.raw_id = f"{base}__{max(suffixes) + 1}" if suffixes else f"{group.raw_id}__1"
            else:
                self.finding(
                    codes.DUPLICATE_TASK_ID,
                    f"group_id '{group.group_id}' is already used in DAG " f"'{dag.dag_id}'",
                    "Rename one of the task groups.",
                    node,
                    dag=dag,
                )
        dag.used_group_ids.add(group.group_id or "")
        parent.children.append(group)
        return group

    @staticmethod
    def loop_items(value: Any) -> Any:
        """What a mapped group loops over: a non-empty list, or a task's return value; else ``None``."""
        if isinstance(value, XComArgObj) and value.key == "return_value":
            return value
        if isinstance(value, (list, tuple)) and value and all(is_known(to_value(v)) for v in value):
            return list(value)
        return None

    def call_mapped_group(self, factory: GroupFactoryObj, expand: dict[str, Any], node: cst.Call) -> Any:
        """A ``@task_group`` expanded: its tasks read loop variables (``dsl.ParallelFor`` around them)."""
        variables = {key: f"{re.sub(r'[^0-9a-zA-Z_]', '_', key)}_item" for key in expand}
        refs = {key: TaskRef(task_id=f"{LOOP_PREFIX}{variable}") for key, variable in variables.items()}
        loops = [(variables[key], self.loop_items(value)) for key, value in expand.items()]
        return self.call_group_factory(factory, [], {**factory.partial, **refs}, node, loops=loops)

    def call_group_factory(
        self, factory: GroupFactoryObj, args: list[Any], kwargs: dict[str, Any], node: cst.Call,
        loops: list[tuple[str, Any]] | None = None,
    ) -> Any:
        tg_kwargs = dict(factory.kwargs)
        tg_kwargs.setdefault("group_id", factory.function.name)
        group = self.make_group([], tg_kwargs, node, add_suffix=True)
        if not isinstance(group, GroupObj):
            return UNKNOWN
        group.loops = list(loops or [])
        self.group_stack.append(group)
        try:
            result = self.call_function(factory.function, args, kwargs, node)
        finally:
            self.group_stack.pop()
        return group if result is None or result is UNKNOWN else result
