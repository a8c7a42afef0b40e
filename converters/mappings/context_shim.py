"""The Airflow context inside a Python component: what an unchanged callable reads, built there.

Airflow hands a callable its context: named parameters (``ds``, ``ti``, ``params``...), the
``**context``/``**kwargs`` dict, or ``get_current_context()``. In KFP the component gets
only what the body reads (:class:`Reads`, gathered statically), built at the top of the
body from component inputs: the run's dates from the run context
(:mod:`af2kfp.converters.run_context`), ``params`` from the pipeline parameters, ``dag_run.conf``
from the ``dag_run_conf`` parameter, ``run_id`` from KFP's job id, ids and the DAG's schedule
text known at conversion (``dag.schedule``, Airflow 2's ``dag.schedule_interval``) as literals::

    context = {"ds": ds, "dag_run": SimpleNamespace(conf=dag_run_conf)}

What cannot be built (``ti.xcom_push``, ``var``, ``conn``, another XCom key...) is a finding
(M210) on the line that reads it; a context passed whole gets every value that can be built,
and M210 says the rest is missing. ``datetime`` has no pendulum method: M271 on such a read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Any

from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.mappings.model import Input, Template
from af2kfp.converters.run_context import (
    DATE_STRINGS,
    DATE_TIMES,
    MACRO_MEMBERS,
    RUN_CONTEXT_ID,
    macros_imports,
    macros_source,
)
from af2kfp.converters.templating import (
    ParamRef,
    PipelineParameter,
    PlaceholderRef,
    TaskParam,
    TemplateContext,
    merged_params,
    python_name,
)
from af2kfp.converters.date_expressions import PENDULUM_ONLY

__all__ = ["Reads", "Shim", "gather", "build_shim", "DAG_RUN_CONF", "PENDULUM_METHOD", "shim_parameters"]

PENDULUM_METHOD = register_code(
    "M271", Severity.WARNING, "Pendulum method on a context date",
    "Airflow's dates are pendulum DateTimes; in KFP they are datetime.datetime, which has no such method. "
    "Use datetime's own (strftime, replace, + timedelta(...)).",
).code
# The pipeline parameter a shim's ``dag_run.conf`` reads: a run's configuration, empty by default.
DAG_RUN_CONF = PipelineParameter(name="dag_run_conf", kind="run", type="dict", default={},
                                 airflow="{{ dag_run.conf }}", description="Airflow's dag_run.conf")
# What each context object offers: attribute -> how its value is built (see Shim._attribute).
_OBJECTS: dict[str, tuple[str, ...]] = {
    "dag_run": ("conf", "run_id", "dag_id", "logical_date", "data_interval_start", "data_interval_end"),
    "ti": ("task_id", "dag_id", "run_id", "map_index"),
    "task_instance": ("task_id", "dag_id", "run_id", "map_index"),
    "task": ("task_id", "dag_id"),
    "dag": ("dag_id", "schedule", "schedule_interval"),
}
# Keys the shim builds when a context dict is passed whole (what a helper most likely reads).
_WHOLE = ("ds", "ds_nodash", "ts", "logical_date", "data_interval_start", "data_interval_end", "run_id", "params",
          "dag_run", "ti", "task_instance", "task", "dag")
_PROVIDED = frozenset(DATE_STRINGS) | frozenset(DATE_TIMES) | frozenset(_OBJECTS) | {"run_id", "params", "macros"}


@dataclass
class _Use:
    """How the body uses one context key: attributes and sub-keys read, or the whole value."""

    attrs: dict[str, ast.AST] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    whole: ast.AST | None = None


@dataclass
class Reads:
    """What a callable reads of its context: ``keys`` by context key; ``passed``: context dicts
    used whole (passed on, printed, iterated), with the node that does it."""

    keys: dict[str, _Use] = field(default_factory=dict)
    passed: list[ast.AST] = field(default_factory=list)

    def use(self, key: str) -> _Use:
        return self.keys.setdefault(key, _Use())


def _parents(fn: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(fn) for child in ast.iter_child_nodes(node)}


def _key(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[str | None, ast.AST] | None:
    """``d["k"]`` / ``d.get("k", ...)`` around a dict holder: ``(key, the access node)``."""
    parent = parents.get(node)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        index = parent.slice
        return (index.value if isinstance(index, ast.Constant) and isinstance(index.value, str) else None), parent
    if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "get":
        call = parents.get(parent)
        if isinstance(call, ast.Call) and call.func is parent and call.args:
            first = call.args[0]
            return (first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None), call
    return None


def _value_use(key: str, node: ast.AST, parents: dict[ast.AST, ast.AST], reads: Reads) -> None:
    """Record how the value of ``key`` at ``node`` is used: an attribute, a sub-key, or whole."""
    use = reads.use(key)
    parent = parents.get(node)
    if isinstance(parent, ast.Attribute) and parent.value is node:
        if key == "params" and parent.attr == "get":
            found = _key(node, parents)
            if found and found[0] is not None:
                use.keys.add(found[0])
                return
        use.attrs.setdefault(parent.attr, parent)
        return
    if key == "params":
        found = _key(node, parents)
        if found and found[0] is not None:
            use.keys.add(found[0])
            return
    use.whole = use.whole or node


def gather(fn: ast.AST, named: list[str], dicts: list[str]) -> Reads:
    """What the body of ``fn`` reads through the context parameters ``named`` (``ds``, ``ti``...)
    and the context dicts ``dicts`` (``**context``, ``get_current_context()``), aliases included
    (``ti = context["ti"]``, ``ctx = context``)."""
    reads = Reads()
    parents = _parents(fn)
    holders = {name: name for name in named}  # name -> the context key it holds ("" for a whole dict)
    holders.update({name: "" for name in dicts})
    for node in ast.walk(fn):  # aliases bound by plain assignments
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Name) and holders.get(value.id) == "":
                holders.setdefault(node.targets[0].id, "")
            elif isinstance(value, ast.Name) and value.id in holders:
                holders.setdefault(node.targets[0].id, holders[value.id])
            elif isinstance(value, (ast.Subscript, ast.Call)):
                base = value.value if isinstance(value, ast.Subscript) else getattr(value.func, "value", None)
                if isinstance(base, ast.Name) and holders.get(base.id) == "":
                    found = _key(base, parents)
                    if found and found[0] is not None and found[1] is value:
                        holders.setdefault(node.targets[0].id, found[0])
    aliases = {id(n.value) for n in ast.walk(fn) if isinstance(n, ast.Assign) and len(n.targets) == 1
               and isinstance(n.targets[0], ast.Name) and n.targets[0].id in holders}
    for node in ast.walk(fn):
        if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load) or node.id not in holders:
            continue
        key = holders[node.id]
        if key:
            if id(node) not in aliases:
                _value_use(key, node, parents, reads)
            continue
        found = _key(node, parents)
        if found is None:
            if id(node) not in aliases:
                reads.passed.append(parents.get(node, node))
            continue
        name, access = found
        if name is None:
            reads.passed.append(access)
        elif id(access) not in aliases:
            _value_use(name, access, parents, reads)
        else:
            reads.use(name)
    return reads


@dataclass
class Shim:
    """The statements that build the context at the top of the body, and what they need.

    ``inputs``: component parameters ``(name, annotation, value)`` (an :class:`Input` of the
    run context, a :class:`ParamRef`, or a :class:`Template` of a placeholder);
    ``missing``: ``(node, what)`` the shim cannot build; ``pendulum``: ``(node, what)``.
    """

    statements: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    inputs: list[tuple[str, str, Any]] = field(default_factory=list)
    missing: list[tuple[ast.AST | None, str]] = field(default_factory=list)
    pendulum: list[tuple[ast.AST, str]] = field(default_factory=list)


class _Builder:
    """Builds value expressions, allocating component inputs as they are needed."""

    def __init__(self, *, task_id: str, dag_id: str, params: dict[str, PipelineParameter], task_params: Any,
                 taken: set[str], mapped: bool, schedule: str | None = None) -> None:
        self.task_id, self.dag_id, self.params, self.task_params = task_id, dag_id, params, task_params
        self.schedule = schedule
        self.taken, self.mapped = taken, mapped
        self.shim = Shim()
        self.inputs: dict[str, str] = {}  # what an input carries -> its name
        self.uses_datetime = self.uses_namespace = self.uses_conf = False
        self.names = {"datetime": "datetime", "SimpleNamespace": "SimpleNamespace"}

    def input(self, what: str, annotation: str, value: Any, name: str | None = None) -> str:
        if what in self.inputs:
            return self.inputs[what]
        base = name or what
        chosen, n = base, 1
        while chosen in self.taken:
            n += 1
            chosen = f"airflow_{base}" if n == 2 else f"airflow_{base}_{n}"
        self.taken.add(chosen)
        self.inputs[what] = chosen
        if isinstance(value, (Input, Template)):
            value = replace(value, name=chosen)
        self.shim.inputs.append((chosen, annotation, value))
        return chosen

    def date(self, key: str, name: str | None = None) -> str:
        source = self.input(key, "str", Input(name=name or key, task_id=RUN_CONTEXT_ID, key=key), name)
        if key in DATE_TIMES:
            self.uses_datetime = True
            return f"{self.names['datetime']}.fromisoformat({source})"
        return source

    def run_id(self, name: str | None = None) -> str:
        """KFP's job id stands for Airflow's run id: unique per run, the text differs."""
        job_id = Template(name=name or "run_id", parts=(PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"),))
        return self.input("run_id", "str", job_id, name)

    def params_dict(self, use: _Use | None) -> str:
        """``params`` as Airflow merges them for the task: the DAG's as pipeline parameters, the task's own
        over them (known values as literals, a Variable from its pipeline parameter)."""
        merged = merged_params(self.params, self.task_params, TemplateContext(dag_id=self.dag_id, task_id=self.task_id))
        wanted = sorted(use.keys) if use is not None and use.whole is None and not use.attrs else list(merged)
        items = []
        for key in wanted:
            param = merged.get(key)
            if isinstance(param, TaskParam):
                items.append(f"{_string(key)}: {self.task_param(key, param)}")
            elif param is not None:
                items.append(f"{_string(key)}: {self.input('param:' + key, param.type, ParamRef(param.name), param.name)}")
        return "{" + ", ".join(items) + "}"

    def task_param(self, key: str, param: TaskParam) -> str:
        """A param the task sets: its literal, the pipeline parameter it reads, or the text built from them."""
        if param.known and _plain(param.value):
            return _literal(param.value)
        for issue in param.issues:
            self.shim.missing.append((None, f"params[{key!r}] ({issue.message})"))
        if len(param.parts) == 1 and isinstance(param.parts[0], ParamRef) and param.parameters:
            parameter = param.parameters[0]
            return self.input("param:" + key, parameter.type, param.parts[0], parameter.name)
        return self.input("param:" + key, "str", Template(name=key, parts=param.parts), python_name(key))

    def attribute(self, obj: str, attr: str) -> str | None:
        if attr in ("task_id",):
            return _string(self.task_id)
        if attr == "dag_id":
            return _string(self.dag_id)
        if attr in ("schedule", "schedule_interval") and obj == "dag":  # the text given, as Airflow keeps it
            return None if self.schedule is None else _string(self.schedule)
        if attr == "run_id":
            return self.run_id()
        if attr == "map_index":
            return None if self.mapped else "-1"
        if attr == "conf":
            self.uses_conf = True
            return self.input("dag_run_conf", "dict", ParamRef(DAG_RUN_CONF.name), DAG_RUN_CONF.name)
        if attr in DATE_TIMES:
            return self.date(attr)
        return None

    def namespace(self, obj: str, use: _Use) -> str:
        self.uses_namespace = True
        attrs = list(_OBJECTS[obj]) if use.whole is not None else [a for a in _OBJECTS[obj] if a in use.attrs]
        items = [(a, self.attribute(obj, a)) for a in attrs]
        given = ", ".join(f"{a}={v}" for a, v in items if v is not None)
        return f"{self.names['SimpleNamespace']}({given})"

    def value(self, key: str, use: _Use | None, name: str | None = None) -> str | None:
        """The expression of context ``key``; ``None`` when the shim cannot build it."""
        if key in DATE_STRINGS or key in DATE_TIMES:
            return self.date(key, name)
        if key == "run_id":
            return self.run_id(name)
        if key == "params":
            return self.params_dict(use)
        if key in _OBJECTS:
            return self.namespace(key, use or _Use(whole=ast.Pass()))
        if key == "macros":
            return "macros"
        return None


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, dict) and all(isinstance(k, str) and _plain(v) for k, v in value.items())


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _assignment(target: str, items: list[tuple[str, str]], merge: bool) -> list[str]:
    """``target = {...}`` (``{**target, ...}`` when ``merge``), one item per line when it is too long."""
    entries = ([f"**{target}"] if merge else []) + [f"{_string(k)}: {v}" for k, v in items]
    line = f"{target} = {{{', '.join(entries)}}}"
    if len(line) + 4 <= 88:
        return [line]
    return [f"{target} = {{", *(f"    {entry}," for entry in entries), "}"]


def _unsupported(key: str, use: _Use, mapped: bool, airflow_keys: frozenset[str],
                 schedule: str | None = None) -> list[tuple[ast.AST | None, str]]:
    """What of ``key`` the shim cannot build: the key itself, or attributes of its object.

    A key Airflow's context does not have is another keyword argument (or missing in Airflow too);
    ``dag.schedule``/``dag.schedule_interval`` are built only from a ``schedule`` text known at conversion."""
    if key not in _PROVIDED:
        return [(use.whole or next(iter(use.attrs.values()), None), key)] if key in airflow_keys else []
    out: list[tuple[ast.AST | None, str]] = []
    if key in _OBJECTS:
        for attr, node in use.attrs.items():
            unknown = attr in ("schedule", "schedule_interval") and schedule is None
            if attr not in _OBJECTS[key] or attr == "map_index" and mapped or unknown:
                out.append((node, f"{key}.{attr}"))
        if use.whole is not None:
            out.append((use.whole, f"{key} passed whole (it has {', '.join(_OBJECTS[key])} only)"))
    if key == "macros":
        out += [(node, f"macros.{attr}") for attr, node in use.attrs.items() if attr not in MACRO_MEMBERS]
    return out


def build_shim(reads: Reads, *, named: dict[str, str], dicts: list[str], extras: dict[str, bool], task_id: str,
               dag_id: str, params: dict[str, PipelineParameter], task_params: Any, taken: set[str], mapped: bool,
               clashes: set[str], airflow_keys: frozenset[str], schedule: str | None = None) -> Shim:
    """The statements building what ``reads`` needs.

    ``named``: context parameter name -> its key; ``dicts``: context dict names (a ``**``
    parameter in ``extras`` already holds other keyword arguments: it is extended);
    ``taken``: names the component already uses; ``clashes``: names the body binds or reads
    that the shim's own imports must not shadow; ``airflow_keys``: the keys of Airflow's context;
    ``schedule``: the DAG's schedule text known at conversion (``None``: ``dag.schedule`` is M210).
    """
    builder = _Builder(task_id=task_id, dag_id=dag_id, params=params, task_params=task_params, taken=taken,
                       mapped=mapped, schedule=schedule)
    for name in ("datetime", "SimpleNamespace"):
        if name in clashes:
            builder.names[name] = f"airflow_{name}"
    shim = builder.shim
    for key, use in reads.keys.items():
        shim.missing += _unsupported(key, use, mapped, airflow_keys, schedule)
        if key in DATE_TIMES:
            shim.pendulum += [(node, f"{key}.{attr}") for attr, node in use.attrs.items() if attr in PENDULUM_ONLY]
    whole = bool(reads.passed)
    for node in reads.passed:
        shim.missing.append((node, "the context passed whole (it holds " + ", ".join(_WHOLE) + " only)"))
    statements: list[str] = []
    macros = {a for a in reads.keys.get("macros", _Use()).attrs if a in MACRO_MEMBERS} | (
        set(MACRO_MEMBERS) if reads.keys.get("macros", _Use()).whole is not None else set())
    if "macros" in reads.keys and ({"datetime", "timedelta"} & clashes):
        shim.missing.append((None, "macros (the body's own datetime names clash)"))
        macros = set()
    elif "macros" in reads.keys:
        statements += macros_source(macros)
        builder.uses_namespace = True
    for name, key in named.items():  # a context parameter: the input of its name, or built from inputs
        if key in _PROVIDED and key != "macros":
            value = builder.value(key, reads.keys.get(key), name)
            if value is not None and value != name:
                statements.append(f"{name} = {value}")
    for holder in dicts:
        keys = [k for k in reads.keys if k in _PROVIDED and k not in named.values()]
        if whole:
            keys = list(dict.fromkeys([*keys, *_WHOLE]))
        items = [(k, v) for k in keys if (v := builder.value(k, reads.keys.get(k))) is not None]
        if items or not extras.get(holder):
            statements += _assignment(holder, items, merge=extras.get(holder, False))
    if builder.uses_conf and not {"json", "number"} & clashes:  # KFP passes JSON numbers as floats
        conf = builder.inputs["dag_run_conf"]
        statements[:0] = ["def number(text):  # KFP carries a run's JSON numbers as floats: 25 arrives as 25.0",
                          "    return int(float(text)) if float(text).is_integer() else float(text)", "",
                          f"{conf} = json.loads(json.dumps({conf}), parse_float=number)"]
    imports = ["import json"] if builder.uses_conf and not {"json", "number"} & clashes else []
    if builder.uses_datetime or macros & {"ds_add", "ds_format", "datetime"}:
        names = {"datetime"} | ({"timedelta"} if macros & {"ds_add", "timedelta"} else set())
        alias = builder.names["datetime"]
        imports.append("from datetime import " + ", ".join(sorted(
            n if n != "datetime" or alias == "datetime" else f"datetime as {alias}" for n in names)))
    if macros:
        imports += [line for line in macros_imports(macros) if "SimpleNamespace" not in line]
    if builder.uses_namespace:
        alias = builder.names["SimpleNamespace"]
        imports.append("from types import SimpleNamespace" + (f" as {alias}" if alias != "SimpleNamespace" else ""))
    shim.imports = imports
    shim.statements = statements
    return shim


def shim_parameters(arguments: dict[str, Any],
                    params: dict[str, PipelineParameter | TaskParam]) -> list[PipelineParameter]:
    """The pipeline parameters a component's arguments read (``params``, ``dag_run_conf``), alone or inside
    a text built from them; ``params`` are the task's merged params (:func:`~af2kfp.converters.templating.merged_params`)."""
    by_name = {p.name: p for p in params.values() if isinstance(p, PipelineParameter)}
    by_name.update({p.name: p for t in params.values() if isinstance(t, TaskParam) for p in t.parameters})
    found = []
    for value in arguments.values():
        refs = [value] if isinstance(value, ParamRef) else [
            part for part in value.parts if isinstance(part, ParamRef)] if isinstance(value, Template) else []
        for ref in refs:
            parameter = DAG_RUN_CONF if ref.name == DAG_RUN_CONF.name else by_name.get(ref.name)
            if parameter is not None and parameter not in found:
                found.append(parameter)
    return found

