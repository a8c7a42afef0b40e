"""Build a lightweight Python component from an Airflow callable's source, statically.

The ``def`` gets a signature generated here (KFP types, literal defaults only): the
user's annotations, defaults and decorators would run when the module is imported, so
none of them is copied. The body is kept verbatim with the imports it uses moved inside,
then the module-level constants it reads (copied as written). ``ti.xcom_pull(task_ids="x")``
calls become inputs fed by ``x``'s output (:mod:`af2kfp.converters.mappings.xcom_pull`), and
context parameters the body then no longer reads are dropped; what it still reads of the
Airflow context is built at the top of the body (:mod:`af2kfp.converters.mappings.context_shim`).
"""

from __future__ import annotations

import ast
import builtins
import json
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import libcst as cst

from af2kfp.converters.findings import CODES, Finding
from af2kfp.converters.graph import PythonCallable
from af2kfp.converters.mappings import airflow_exceptions, codes
from af2kfp.converters.mappings.airflow_exceptions import Provided
from af2kfp.converters.mappings.carried import Carry, plan_carry, remove_imports
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.variable_shim import VARIABLE_UNSERVED, VariableShim, build_variable_shim, variable_names
from af2kfp.converters.mappings.context_shim import PENDULUM_METHOD, Shim, build_shim, gather
from af2kfp.converters.mappings.current_context import current_context_names, replace_current_context
from af2kfp.converters.mappings.dataflow import RETURN_VALUE, output_id
from af2kfp.converters.mappings.encoding import decode_parameters, encode_returns
from af2kfp.converters.mappings.model import SINGLE_OUTPUT, Input, PythonFunction, Template
from af2kfp.converters.mappings.packages import resolve_modules
from af2kfp.converters.mappings.pytypes import (
    JSON,
    JSON_ITEMS,
    SCALARS,
    decode_source,
    encode_literal,
    kfp_type,
    literal_carrier,
    needs_json,
)
from af2kfp.converters.mappings.returns import OutputPlan, plan_outputs
from af2kfp.converters.mappings.standins import STAND_IN_LACKS, lacking, stand_in, stand_in_imports
from af2kfp.converters.mappings.values import is_plain, short
from af2kfp.converters.mappings.xcom_pull import TI_NAMES, drop_aliases, input_name, rewrite_pulls, ti_aliases
from af2kfp.converters.templating import ParamRef
from af2kfp.converters.values import Symbolic, TaskRef

__all__ = ["build_function", "CONTEXT_KEYS", "KFP_TYPES"]

KFP_TYPES = ("str", "int", "float", "bool", "dict", "list")
_GENERIC = {"Dict": "dict", "List": "list", "dict": "dict", "list": "list"}
# Airflow context values (Airflow 3 ``KNOWN_CONTEXT_KEYS`` plus 1.x/2.x names) that are strings.
_CONTEXT_STRINGS = {
    "ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz", "run_id", "logical_date", "execution_date",
    "data_interval_start", "data_interval_end", "next_ds", "next_ds_nodash", "prev_ds", "prev_ds_nodash",
    "tomorrow_ds", "yesterday_ds", "task_instance_key_str", "next_execution_date", "prev_execution_date",
    "prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success",
    "prev_end_date_success", "partition_date", "partition_key", "reason",
}
_CONTEXT_OBJECTS = {
    "ti", "task_instance", "dag", "dag_run", "task", "params", "conf", "macros", "var", "conn",
    "templates_dict", "inlets", "outlets", "inlet_events", "outlet_events", "triggering_asset_events",
    "triggering_dataset_events", "test_mode", "try_number", "map_index_template", "expanded_ti_count",
    "exception", "task_reschedule_count", "asset_state_store", "task_state_store",
}
CONTEXT_KEYS = frozenset(_CONTEXT_STRINGS | _CONTEXT_OBJECTS)
_Def = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class _Param:
    name: str
    annotation: str
    default: str | None
    value: Any = None
    has_value: bool = False


@dataclass
class _Signature:
    params: list[_Param] = field(default_factory=list)
    context: list[str] = field(default_factory=list)


def _annotation(node: ast.expr | None) -> str | None:
    """A KFP type for a simple user annotation (``str``, ``dict[str, int]``, ``Optional[int]``)."""
    if isinstance(node, ast.Name) and node.id in KFP_TYPES:
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KFP_TYPES:
        return node.value
    if isinstance(node, ast.Subscript):
        base = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", None)
        if base in _GENERIC:
            return _GENERIC[base]
        if base == "Optional":
            return _annotation(node.slice)
    return None


def _value_type(value: Any) -> str | None:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dict, "dict"), (list, "list")):
        if isinstance(value, kind):
            return name
    return None


def _literal_default(node: ast.expr | None) -> tuple[bool, str | None]:
    """``(ok, repr)`` of a literal default; ``ok`` False when the default is code."""
    if node is None:
        return True, None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    if value is None or _value_type(value) is not None:
        return True, repr(value)
    return False, None


def _typed_param(ctx: MapContext, name: str, annotation: str | None, default: str | None,
                 given: dict[str, Any]) -> _Param:
    """The parameter with the carrier of what it receives, so the body gets Airflow's exact value.

    An XCom travels as its producer outputs it; a literal by its own type (JSON text when KFP
    would change it); an unpassed parameter by its default. The user's annotation only
    speaks when nothing else does: Airflow never converts a value to it.
    """
    value = given.get(name)
    default_value = ast.literal_eval(default) if default is not None else None
    carrier = literal_carrier(default_value) or (annotation if annotation in SCALARS else "str")
    passed = False  # a value always arrives (else the default, or _bind reports why not)
    if isinstance(value, TaskRef) and ctx.producers.get(output_id(value.task_id, value.key)):
        carrier, passed = ctx.producers[output_id(value.task_id, value.key)] or carrier, True
    elif name in given and value is None:  # KFP cannot pass None: the parameter's own None default can
        if default_value is None:
            return _Param(name, carrier, "None")
        carrier, passed = JSON, True
    elif name in given and is_plain(value):
        carrier, passed = literal_carrier(value) or carrier, True
    if default is not None and carrier == JSON:
        default = repr(json.dumps(default_value))
    elif passed and default_value is not None and literal_carrier(default_value) != carrier:
        default = None  # a value of another type always arrives: the default cannot be that type
    return _Param(name, carrier, default, value, name in given)


def _signature(ctx: MapContext, fn: _Def, args: list[Any], kwargs: dict[str, Any]) -> _Signature:
    sig = _Signature()
    a = fn.args
    positional = a.posonlyargs + a.args
    defaults: dict[str, ast.expr | None] = {p.arg: None for p in positional + a.kwonlyargs}
    for param, node in zip(positional[len(positional) - len(a.defaults):], a.defaults):
        defaults[param.arg] = node
    for param, node in zip(a.kwonlyargs, a.kw_defaults):
        defaults[param.arg] = node
    given = dict(zip((p.arg for p in positional), args))
    given.update(kwargs)
    for param in positional + a.kwonlyargs:
        name = param.arg
        if name in CONTEXT_KEYS and name not in given:
            sig.context.append(name)
            kind = "str" if name in _CONTEXT_STRINGS else "dict"
            sig.params.append(_Param(name, kind, '""' if kind == "str" else "{}"))
            continue
        ok, default = _literal_default(defaults[name])
        if not ok:
            ctx.add(codes.UNRESOLVED_VALUE, f"parameter `{name}` has a default that is code; it is not copied")
            default = "None"
        sig.params.append(_typed_param(ctx, name, _annotation(param.annotation), default, given))
    extra = sorted(set(given) - {p.name for p in sig.params})
    if extra and a.kwarg is None:
        ctx.add(codes.ARGUMENT_DROPPED, f"arguments {extra} match no parameter of `{fn.name}`; dropped")
    if a.vararg is not None:
        ctx.add(codes.ARGUMENT_DROPPED, f"`*{a.vararg.arg}` of `{fn.name}` cannot be a component parameter; dropped")
    if a.kwarg is not None:  # extra keyword arguments (and the context) arrive as one dict parameter
        sig.context.append(f"**{a.kwarg.arg}")
        rest = {key: given[key] for key in extra}
        sig.params.append(_Param(a.kwarg.arg, "dict", "{}", rest, bool(rest)))
    return sig


def _unavailable(ctx: MapContext, name: str, ref: TaskRef) -> None:
    """Why an XCom cannot feed parameter ``name``: a key its producer never pushes, or no output."""
    if ref.key != RETURN_VALUE and ctx.producers.get(ref.task_id) and ref.task_id not in ctx.flow.pushers:
        ctx.add(codes.XCOM_KEY_NOT_PUSHED, f"parameter `{name}` reads XCom {ref.key!r} of {ref.task_id!r}, which "
                                           "pushes its return value whole (no multiple_outputs=True): Airflow fails "
                                           "this task")
        return
    ctx.add(codes.XCOM_UNAVAILABLE, f"parameter `{name}` reads XCom {ref.key!r} of {ref.task_id!r}")


def _bind(ctx: MapContext, sig: _Signature) -> dict[str, Any]:
    """Call arguments for the component; XComs from Python producers become :class:`Input`."""
    arguments: dict[str, Any] = {}
    for param in sig.params:
        if not param.has_value:
            if param.default is None:
                ctx.add(codes.UNRESOLVED_VALUE, f"parameter `{param.name}` gets no value; it defaults to None")
                param.default = "None"
            continue
        value = param.value
        if isinstance(value, (Input, ParamRef, Template)):  # the context shim's inputs
            arguments[param.name] = value
            continue
        if isinstance(value, TaskRef):
            if ctx.producers.get(output_id(value.task_id, value.key)):
                arguments[param.name] = Input(name=param.name, task_id=value.task_id, key=value.key)
                continue
            _unavailable(ctx, param.name, value)
        elif isinstance(value, Symbolic):
            ctx.add(codes.UNRESOLVED_VALUE, f"parameter `{param.name}`: `{short(value.source)}` is not known statically")
        elif is_plain(value):
            arguments[param.name] = encode_literal(value, param.annotation)
            continue
        else:
            ctx.add(codes.UNRESOLVED_VALUE, f"parameter `{param.name}`: value {short(repr(value))} is not plain data")
        if param.default is None:
            param.default = "None"
    # A parameter given a default here may stand before one without: Python wants those
    # first. Components are called by keyword, so the order is free (stable otherwise).
    sig.params.sort(key=lambda p: p.default is not None)
    return arguments


def _bound_names(statement: ast.stmt) -> set[str]:
    names = set()
    for alias in getattr(statement, "names", []):
        names.add((alias.asname or alias.name).split(".")[0])
    return names


@lru_cache(maxsize=4)
def _body_nodes(fn: _Def) -> tuple[ast.AST, ...]:
    """Nodes of the body only: decorators, annotations and defaults are not copied.

    Cached per function node (several checks walk the same body; the tree is never changed).
    """
    return tuple(node for statement in fn.body for node in ast.walk(statement))


@lru_cache(maxsize=512)
def _import_statements(text: str) -> tuple[ast.stmt, ...]:
    """A module import line, parsed once for every callable of its file."""
    try:
        return tuple(ast.parse(text).body)
    except SyntaxError:
        return ()


def _used_imports(ctx: MapContext, callable_: PythonCallable, fn: _Def, copied: dict[str, str],
                  provided: Provided, carried: set[str] = frozenset(),
                  served: frozenset[str] = frozenset()) -> tuple[list[str], set[str], list[str]]:
    """The module imports the body and the ``copied`` definitions read, the names they bind, and
    every module the component imports (those kept, and the body's own), dotted.

    Airflow's exception classes are not imported: ``provided`` gathers them (the component defines them).
    Imports whose names the component carries (``carried``, as ``ast.unparse`` writes them) are left
    out, and so are those of which the body reads only names the Variable shim ``served``.
    """
    loaded = _loaded(fn).union(*(_definition_reads(text) for text in copied.values()))
    keep, bound, modules = [], set(), []
    readers = _readers(fn, copied)
    for text in callable_.imports:
        for statement in _import_statements(text):
            names = _bound_names(statement)
            if not names & loaded or isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                continue
            if carried and ast.unparse(statement) in carried or names & loaded <= served:
                continue
            found, left = airflow_exceptions.provide(statement, readers)
            provided.classes.update(found.classes)
            provided.modules.update(found.modules)
            bound |= names - (_bound_names(left) if left is not None else set())
            if left is None:
                continue
            keep.append(_import_source(left))
            bound |= _bound_names(left)
            modules += _modules(left)
    for node in _body_nodes(fn):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules += _modules(node)
    return keep, bound, modules


def _readers(fn: _Def, copied: dict[str, str]) -> list[ast.AST]:
    """The code that runs in the component: the body and the copied definitions."""
    trees: list[ast.AST] = list(fn.body)
    for text in copied.values():
        try:
            trees += ast.parse(text).body
        except SyntaxError:
            continue
    return trees


def _modules(statement: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted module names an import statement loads (a relative one keeps its leading dots)."""
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    return [("." * statement.level) + (statement.module or "")]


def _install(ctx: MapContext, callable_: PythonCallable, fn: _Def, modules: list[str],
             requirements: list[str]) -> list[str]:
    """``packages_to_install`` for the imported ``modules``; findings for those nothing provides.

    Airflow imports stay a finding (M221): the component's image has no Airflow. (What the
    component provides itself, ``get_current_context`` and Airflow's exception classes
    (:mod:`.airflow_exceptions`), is removed from ``modules`` before this check.)
    """
    airflow = [m for m in modules if m.split(".")[0] == "airflow"]
    if airflow:
        ctx.add(codes.AIRFLOW_IN_TASK, f"`{fn.name}` imports Airflow inside the task ({', '.join(sorted(set(airflow)))})")
    rest = [m for m in modules if m.split(".")[0] != "airflow"]
    found = resolve_modules(rest, user=ctx.config.packages, local=callable_.local_modules, requirements=requirements)
    for module in found.local:
        top = module.lstrip(".").split(".")[0] or module
        ctx.add(codes.IMPORT_LOCAL, f"`{fn.name}` imports `{module}` from the repository; the component does not "
                                    "carry it",
                f"Install the package that holds `{module}` in python_base_image and declare it in "
                f"[tool.af2kfp.packages] (`{top} = false`), or copy what the task needs into the callable.")
    for module in found.unknown:
        top = module.split(".")[0]
        ctx.add(codes.IMPORT_UNKNOWN, f"`{fn.name}` imports `{module}`, which af2kfp's package table does not know",
                f"Name its pip distribution in [tool.af2kfp.packages] (`{top} = \"<distribution>\"`), or "
                f"`{top} = false` when python_base_image has it.")
    if found.packages:
        ctx.add(codes.THIRD_PARTY_IMPORT, f"`{fn.name}` installs {', '.join(found.packages)} (packages_to_install)")
    return found.packages


def _variable_shim(ctx: MapContext, callable_: PythonCallable, fn: _Def, original: _Def, sig: _Signature,
                   carry: Carry) -> VariableShim:
    """``Variable.get(...)`` served inside the component (:mod:`.variable_shim`); M268 where it cannot be.

    One class serves the callable and the repository code it carries (``carry.provided``): the
    reads of both are gathered, and the class's names are the callable's and the copied code's.
    """
    names = variable_names(callable_.imports, callable_.source) if "Variable" in callable_.source else frozenset()
    carried = frozenset(name for name, kind in carry.provided.items() if kind == "Variable")
    if not names and not carried:
        return VariableShim()
    code = ast.Module(body=[*fn.body, *(s for text in carry.code for s in ast.parse(text).body)], type_ignores=[])
    taken = _loaded(fn) | _local_names(fn) | {p.name for p in sig.params} | set(callable_.constants)
    taken |= {n.id for n in ast.walk(code) if isinstance(n, ast.Name)}
    shim = build_variable_shim(code if carried else fn, names | carried, ctx.config.environment, taken)
    body = {id(n) for statement in fn.body for n in ast.walk(statement)}
    for node, what in shim.problems:
        if id(node) in body:
            _finding(ctx, callable_, _line(original, node), VARIABLE_UNSERVED,
                     f"`{fn.name}` reads the Airflow Variable through {what}")
        else:
            ctx.add(VARIABLE_UNSERVED, f"`{fn.name}` carries repository code reading the Airflow Variable through "
                                       f"{what}")
    for name, ref in shim.inputs:
        sig.params.append(_Param(name, "str", None, ref, True))
    return shim


def _variable_class(statements: list[str]) -> list[str]:
    """The Variable shim's lines as definitions to copy: the class, then each alias line."""
    lines = [line for line in statements]
    while lines and not lines[-1]:
        lines.pop()
    aliases = [line for line in lines if line and not line.startswith((" ", "class "))]
    body = [line for line in lines if line not in aliases]
    while body and not body[-1]:
        body.pop()
    return ["\n".join(body), *aliases]


def _stand_ins(ctx: MapContext, fn: _Def, carry: Carry) -> tuple[list[str], list[str]]:
    """Airflow's Asset/Dataset, Param and TriggerRule as the copied code uses them (:mod:`.standins`): their
    import lines and definitions; M269 for the rest."""
    kinds: dict[str, set[str]] = {}
    for name, kind in carry.provided.items():
        if kind != "Variable" and not airflow_exceptions.is_exception(kind):
            kinds.setdefault(kind, set()).add(name)
    if not kinds:
        return [], []
    missing = lacking(set(kinds), [*fn.body, *(ast.parse(text) for text in carry.code)])
    if missing:
        ctx.add(STAND_IN_LACKS, f"`{fn.name}` reads {', '.join(f'`.{a}`' for a in missing)} of Airflow's "
                                f"{' or '.join(sorted(kinds))}, which the component's stand-in has not")
    return stand_in_imports(set(kinds)), [text for kind in sorted(kinds) for text in stand_in(kind, kinds[kind])]


def _served_imports(fn: _Def, names: frozenset[str]) -> set[str]:
    """The body's own ``from airflow... import Variable`` statements (the shim defines the name)."""
    return {ast.unparse(node) for node in _body_nodes(fn) if isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] == "airflow" and _bound_names(node) <= names}


def _carry(ctx: MapContext, callable_: PythonCallable, fn: _Def, constants: dict[str, str],
           params: set[str]) -> Carry:
    """What the component copies of the repository's modules (:mod:`.carried`), with its findings."""
    if not callable_.carried:
        return Carry()
    local = set(callable_.local_modules)
    loaded = _loaded(fn).union(*(_definition_reads(text) for text in constants.values()))
    statements: list[tuple[ast.stmt, set[str]]] = []
    for text in callable_.imports:
        for statement in _import_statements(text):
            if isinstance(statement, (ast.Import, ast.ImportFrom)) and set(_modules(statement)) & local:
                statements.append((statement, _bound_names(statement) & loaded))
    inner: set[str] = set()
    for node in _body_nodes(fn):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and set(_modules(node)) & local:
            statements.append((node, _bound_names(node)))
            inner |= _bound_names(node)
    taken = {name: "the callable" for name in (_local_names(fn) - inner) | params}
    taken.update(constants)
    for text in callable_.imports:
        for statement in _import_statements(text):
            if not set(_modules(statement)) & local:
                taken.update({name: ast.unparse(statement) for name in _bound_names(statement) & loaded})
    carry = plan_carry(callable_, fn.name, statements, taken)
    for code, message in carry.findings:
        ctx.add(code, message)
    return carry


def _import_source(statement: ast.stmt) -> str:
    """The import as black writes it one level deep: too long a ``from`` import, one name per line."""
    text = ast.unparse(statement)
    if not isinstance(statement, ast.ImportFrom) or len(text) + 4 <= 88:
        return text
    names = "".join(f"    {ast.unparse(alias)},\n" for alias in statement.names)  # libcst adds the body's indent
    return f"from {'.' * statement.level}{statement.module or ''} import (\n{names})"


def _loaded(fn: _Def) -> set[str]:
    return {n.id for n in _body_nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _local_names(fn: _Def) -> set[str]:
    """Names the function binds itself: its parameters and whatever its body assigns or imports."""
    nodes = _body_nodes(fn)
    local = {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    local |= {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
    local |= {a.arg for a in nodes if isinstance(a, ast.arg)}
    local |= {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            local |= _bound_names(node)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
    return local


def _free_names(fn: _Def, bound: set[str]) -> list[str]:
    return sorted(_loaded(fn) - _local_names(fn) - bound - set(dir(builtins)))


def _definition_reads(source: str) -> set[str]:
    """Names a copied definition reads from outside it: a constant's value, a function's free names."""
    try:
        statement = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return set()
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        nodes = list(ast.walk(statement))
        local = {a.arg for a in nodes if isinstance(a, ast.arg)}
        local |= {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {n.name for n in nodes[1:] if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                local |= _bound_names(node)
        loaded = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        return loaded - (local - {statement.name}) - set(dir(builtins))
    value = getattr(statement, "value", None)  # an annotation is never evaluated inside a function
    if value is None:
        return set()
    return {n.id for n in ast.walk(value) if isinstance(n, ast.Name)} - set(dir(builtins))


def _module_imports(callable_: PythonCallable) -> set[str]:
    return set().union(*(_bound_names(s) for text in callable_.imports for s in _import_statements(text)))


def _constants(callable_: PythonCallable, fn: _Def, hidden: set[str]) -> dict[str, str]:
    """The module constants and helpers the body reads (with what they read), in module order.

    One is left out when a name it needs is ``hidden`` by the function's own names
    (parameters, locals): copied inside, it would read the wrong value.
    """
    reads = {name: _definition_reads(text) for name, text in callable_.constants.items()}
    outside = _module_imports(callable_) - hidden
    usable = set(reads) - hidden
    changed = True
    while changed:  # drop what reads a name neither usable nor imported, until nothing changes
        unusable = {name for name in usable if not reads[name] <= usable | outside}
        usable -= unusable
        changed = bool(unusable)
    needed: set[str] = set()
    pending = list(_loaded(fn) & usable)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(reads[name] & usable)
    return {name: text for name, text in callable_.constants.items() if name in needed}


def _pull_xcoms(ctx: MapContext, module: cst.Module, fn: _Def, sig: _Signature,
                holders: list[str]) -> tuple[cst.Module, _Def]:
    """``ti.xcom_pull(task_ids="x")`` -> a new parameter fed by ``x``'s output, when ``x`` has one."""
    dicts = frozenset(name[2:] for name in sig.context if name.startswith("**")) | frozenset(holders)
    stores = [n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)]
    params = {p.name for p in sig.params}
    aliases = {name for name in ti_aliases(module, dicts) if stores.count(name) == 1 and name not in params}
    names = frozenset(name for name in sig.context if name in TI_NAMES) | aliases
    if not names and not dicts:
        return module, fn
    taken = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | params
    taken |= {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
    inputs: dict[str, str] = {}

    def name_for(task_id: str) -> str | None:
        if task_id not in inputs:
            kind = ctx.producers.get(task_id)
            if not kind:
                return None
            inputs[task_id] = input_name(task_id, taken)
            taken.add(inputs[task_id])
            sig.params.append(_Param(inputs[task_id], kind, None, TaskRef(task_id=task_id), True))
        return inputs[task_id]

    rewritten = rewrite_pulls(module, names, dicts, name_for, available=lambda task_id: bool(ctx.producers.get(task_id)))
    if not inputs:
        return module, fn
    new_fn = _first_def(rewritten)
    unread = aliases - _loaded(new_fn)
    if unread:  # ``ti = kwargs["ti"]`` would still read the context
        rewritten = drop_aliases(rewritten, unread, dicts)
        new_fn = _first_def(rewritten)
    return rewritten, new_fn


def _first_def(module: cst.Module) -> _Def:
    tree = ast.parse(module.code)
    return next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def _drop_unread_context(fn: _Def, sig: _Signature) -> None:
    """A context parameter the body never reads (and no argument feeds) is left out: it reads nothing."""
    loaded = _loaded(fn)
    for entry in list(sig.context):
        param = next(p for p in sig.params if p.name == entry.lstrip("*"))
        if param.name not in loaded and not param.has_value:
            sig.context.remove(entry)
            sig.params.remove(param)


def _code(module: cst.Module, name: str, sig: _Signature, returns: str | None, imports: list[str],
          constants: list[str], shim: tuple[list[str], list[str]] = ([], []), skip: _Skip | None = None) -> str:
    """The component ``def``: generated signature, moved imports and constants, the context shim, the user's body.

    An ``async def`` stays whole (signature reduced to plain names) inside the component,
    which runs it with ``asyncio.run``: KFP calls components synchronously. So does a function
    that may raise ``AirflowSkipException`` (``skip``): the component catches it and reports it.
    """
    fn = next(node for node in module.body if isinstance(node, cst.FunctionDef))
    params = ", ".join(f"{p.name}: {kfp_type(p.annotation)}" + (f" = {p.default}" if p.default else "")
                       for p in sig.params)
    arrow = f" -> {returns}" if returns else ""
    header = cst.ensure_type(cst.parse_statement(f"def {name}({params}){arrow}:\n    pass\n"), cst.FunctionDef)
    body = fn.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [cst.SimpleStatementLine(body=list(body.body))]
    docstring = 1 if fn.get_docstring() is not None else 0
    shim_imports, shim_statements = shim
    if shim_statements:  # the context first: the user's statements read it, after a blank line
        built = [b.with_changes(leading_lines=[line.with_changes(indent=False) for line in b.leading_lines])
                 for b in cst.parse_module("\n".join(shim_statements) + "\n").body]
        after = statements[docstring:]
        if after and not (after[0].leading_lines and after[0].leading_lines[0].comment is None):
            after = [after[0].with_changes(leading_lines=[cst.EmptyLine(indent=False), *after[0].leading_lines]),
                     *after[1:]]
        statements = statements[:docstring] + built + after
    moved = [cst.parse_statement(text) for text in [*imports, *(i for i in shim_imports if i not in imports)]]
    copied = _spaced([s for text in constants for s in cst.parse_module(text).body], bool(moved), bool(docstring))
    if fn.asynchronous is not None or skip is not None:
        names = ", ".join(p.name for p in sig.params)
        keyword = "def" if fn.asynchronous is None else "async def"
        inner_name = fn.name.value
        while inner_name in {p.name for p in sig.params}:  # a parameter named as the function
            inner_name += "_"
        plain = cst.ensure_type(cst.parse_statement(f"{keyword} {inner_name}({names}):\n    pass\n"), cst.FunctionDef)
        inner = plain.with_changes(body=cst.IndentedBlock(body=statements[docstring:]))
        call = f"{inner_name}({names})"
        if fn.asynchronous is not None:
            call = f"asyncio.run({call})"
            if "import asyncio" not in imports:
                moved = [cst.parse_statement("import asyncio"), *moved]
        if skip is None:
            tail = [cst.parse_statement(f"return {call}")]
        else:
            if moved or copied:
                inner = inner.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            tail = list(cst.parse_module(_skip_source(call, skip)).body)
            note = cst.Comment("# AirflowSkipException: Airflow marks the task skipped; report it, do not fail")
            tail[0] = tail[0].with_changes(leading_lines=[cst.EmptyLine(indent=False), cst.EmptyLine(comment=note)])
        statements = statements[:docstring] + [inner, *tail]
    rest = statements[docstring:]
    if (moved or copied) and rest and (copied or not _is_import(rest[0])):  # one blank line after, as black writes it
        first = rest[0]
        if not (first.leading_lines and first.leading_lines[0].comment is None):
            rest = [first.with_changes(leading_lines=[cst.EmptyLine(indent=False), *first.leading_lines]), *rest[1:]]
    new = header.with_changes(body=cst.IndentedBlock(body=statements[:docstring] + moved + copied + rest))
    return cst.Module(body=[new]).code


def _skip_source(call: str, skip: _Skip) -> str:
    """Run the user's function; an ``AirflowSkipException`` is reported, as Airflow marks the task skipped."""
    run = f"result = {call}" if skip.keeps_result else call
    return (f"try:\n    {run}\n"
            "except AirflowSkipException as skip:\n"
            '    print(f"AirflowSkipException: {skip}")\n'
            f"    return {skip.skipped}\n"
            f"return {skip.ran}\n")


def _spaced(statements: list[cst.BaseStatement], after_imports: bool, after_docstring: bool) -> list[cst.BaseStatement]:
    """Copied definitions with black's blank lines: after imports, around each ``def`` and ``class``."""
    out: list[cst.BaseStatement] = []
    for i, statement in enumerate(statements):
        is_def = isinstance(statement, (cst.FunctionDef, cst.ClassDef))
        previous_def = i > 0 and isinstance(statements[i - 1], (cst.FunctionDef, cst.ClassDef))
        first = i == 0 and (after_imports or is_def and after_docstring)
        if first or i > 0 and (is_def or previous_def):
            statement = statement.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        out.append(statement)
    return out


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(item, (cst.Import, cst.ImportFrom)) for item in statement.body)


def _lambda_as_def(source: str, name: str) -> str | None:
    """``lambda x: expr`` as ``def name(x):\n    return expr``; ``None`` when not a lambda."""
    if not source.startswith("lambda"):
        return None
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Lambda):
        return None
    ident = name if name.isidentifier() and name != "<lambda>" else "callable_"
    return f"def {ident}({ast.unparse(node.args)}):\n    return {ast.unparse(node.body)}\n"


def _finding(ctx: MapContext, callable_: PythonCallable, line: int | None, code: str, message: str) -> None:
    """A finding on the callable's line ``line`` (1 = its ``def``), in the file that defines it."""
    entry = CODES[code]
    ctx.findings.append(Finding(code=code, severity=entry.severity, message=message, suggestion=entry.help,
                                file=callable_.file, line=callable_.line + (line or 1) - 1, dag_id=ctx.dag_id,
                                task_id=ctx.task.task_id))


def _line(original: _Def, node: ast.AST | None) -> int | None:
    """The line of ``node`` (from the rewritten function) in the original function: the same code's."""
    if node is None:
        return None
    text = ast.unparse(node)
    first = next((n for n in ast.walk(original) if type(n) is type(node) and ast.unparse(n) == text), None)
    return getattr(first, "lineno", None)


def _context_shim(ctx: MapContext, callable_: PythonCallable, fn: _Def, original: _Def, sig: _Signature,
                  holders: list[str]) -> tuple[list[str], list[str]]:
    """Build what the body reads of the Airflow context; the context parameters become its inputs.

    Returns the shim's imports and statements; what it cannot build is an ``M210`` finding on its line.
    """
    named = {e: e for e in sig.context if not e.startswith("**")}
    stars = [e[2:] for e in sig.context if e.startswith("**")]
    if not named and not stars and not holders:
        return [], []
    reads = gather(fn, list(named), stars + holders)
    extras = {name: p.has_value for name in stars for p in sig.params if p.name == name}
    context_params = set(named) | {name for name in stars if not extras[name]}
    sig.params = [p for p in sig.params if p.name not in context_params]
    for name in context_params:
        sig.context.remove(name if name in named else f"**{name}")
    module_names = set(callable_.constants) | _module_imports(callable_)
    taken = {p.name for p in sig.params} | set(holders) | set(stars) | module_names
    mapped = ctx.task.mapped is not None
    task_params = ctx.task.args.get("params")
    shim: Shim = build_shim(reads, named=named, dicts=stars + holders, extras=extras, task_id=ctx.task.task_id,
                            dag_id=ctx.dag_id, params=ctx.params, task_params=task_params, taken=taken, mapped=mapped,
                            clashes=_loaded(fn) | _local_names(fn), airflow_keys=CONTEXT_KEYS, schedule=ctx.schedule)
    for name, annotation, value in shim.inputs:
        sig.params.append(_Param(name, annotation, None, value, True))
    for node, what in shim.missing:
        _finding(ctx, callable_, _line(original, node), codes.AIRFLOW_CONTEXT,
                 f"`{fn.name}` reads {what} from the Airflow context, which af2kfp cannot build in KFP")
    for node, what in shim.pendulum:
        _finding(ctx, callable_, _line(original, node), PENDULUM_METHOD,
                 f"`{fn.name}` calls {what}: a pendulum method; the date is a datetime.datetime in KFP")
    return (shim.imports, shim.statements) if shim.statements else ([], [])


@lru_cache(maxsize=256)
def _parsed(source: str) -> cst.Module:
    """A callable's LibCST tree, parsed once: tasks generated in a loop share one callable, and
    LibCST trees are immutable (every rewrite below builds a new one)."""
    return cst.parse_module(source)


def build_function(ctx: MapContext, callable_: PythonCallable | None, args: list[Any], kwargs: dict[str, Any],
                   base_image: str, *, rule: str = "task", requirements: tuple[str, ...] = (),
                   decides: bool = False) -> tuple[PythonFunction, dict[str, Any]] | None:
    """The component function and its call arguments; ``None`` (with ``M211``) when impossible.

    ``rule``: the Python rule (TaskFlow rules infer ``multiple_outputs``; ``@task.docker`` and
    ``@task.kubernetes`` images are the user's, nothing is installed); ``requirements``: what the
    task installs itself; ``decides``: a branch's callable (:mod:`.branch` adapts its returns).
    """
    if callable_ is None:
        ctx.add(codes.CALLABLE_UNAVAILABLE, "the python callable's source is not known statically",
                "Define the callable with def in a file the converter scans.")
        return None
    source = _lambda_as_def(textwrap.dedent(callable_.source).strip(), callable_.name) or textwrap.dedent(callable_.source)
    try:
        tree = ast.parse(source)
        module = _parsed(source)
    except (SyntaxError, cst.ParserSyntaxError) as exc:
        ctx.add(codes.CALLABLE_UNAVAILABLE, f"the source of `{callable_.name}` does not parse: {exc}")
        return None
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fn is None:
        ctx.add(codes.CALLABLE_UNAVAILABLE, f"`{callable_.name}` is not a def")
        return None
    sig = _signature(ctx, fn, args, kwargs)
    original, holders = fn, []
    if "get_current_context" in source:
        names = current_context_names(callable_.imports, source)
        module, holder = replace_current_context(module, names, _local_names(fn) | {p.name for p in sig.params})
        if holder is not None:
            holders.append(holder)
            fn = _first_def(module)
    if "xcom_pull" in source:  # the LibCST pass costs; most callables pull nothing
        module, fn = _pull_xcoms(ctx, module, fn, sig, holders)
    provided = Provided()
    if "exceptions" in source:  # Airflow's exception classes imported in the body: defined in the component
        module, provided = airflow_exceptions.remove_imports(module, [fn])
        if provided:
            fn = _first_def(module)
    _drop_unread_context(fn, sig)
    shim = _context_shim(ctx, callable_, fn, original, sig, holders)
    params = {p.name for p in sig.params}
    constants = _constants(callable_, fn, _local_names(fn) | params)
    carry = _carry(ctx, callable_, fn, constants, params)
    provided.classes.update(airflow_exceptions.carried(carry.provided))  # one definition serves both
    variables = _variable_shim(ctx, callable_, fn, original, sig, carry)
    stand_in_lines, stand_ins = _stand_ins(ctx, fn, carry)
    if variables.statements and any(kind == "Variable" for kind in carry.provided.values()):
        stand_ins += _variable_class(variables.statements)  # before the copied code, which reads it
    elif variables.statements:
        shim = (shim[0], [*variables.statements, *([""] if shim[1] and not variables.statements[-1] == "" else []),
                          *shim[1]])
    arguments = _bind(ctx, sig)
    params = {p.name for p in sig.params}
    served = _served_imports(fn, variables.names) if variables.statements else set()
    imports, bound, modules = _used_imports(ctx, callable_, fn, constants, provided, carry.statements | served,
                                            variables.names if variables.statements else frozenset())
    dropped = carry.modules | {m for text in served for s in _import_statements(text) for m in _modules(s)}
    modules = [m for m in modules if m not in dropped]
    if served:
        module = remove_imports(module, served)
    for text in carry.imports:
        for statement in _import_statements(text):
            modules += _modules(statement)
    imports += [text for text in [*carry.imports, *stand_in_lines] if text not in imports]
    bound |= carry.names | {name for text in carry.imports for s in _import_statements(text) for name in _bound_names(s)}
    module = remove_imports(module, carry.statements)
    # a helper's raise is the task's: one definition of each class, skips and fails as the callable's
    readers = _readers(fn, constants) + [node for text in carry.code for node in ast.parse(text).body]
    raised = airflow_exceptions.uses(provided, readers)
    skips = airflow_exceptions.SKIP in raised and _carries_skip(ctx, fn, rule, decides)
    plan = OutputPlan() if decides else plan_outputs(
        ctx, fn, {p.name: p.annotation for p in sig.params}, _annotation(fn.returns), taskflow=rule.startswith("task"),
        shadowed=set(callable_.constants) | _module_imports(callable_) - {"json"}, json_names=_json_names(callable_),
        nullable=skips)
    encoded = plan.encode is not None or any(decode_source(p.name, p.annotation) for p in sig.params)
    if encoded:
        module = _encode_values(module, sig, plan)
    if (encoded or variables.needs_json) and "json" not in bound | _local_names(fn) and (variables.needs_json or needs_json(
            [p.annotation for p in sig.params] + [plan.carrier or "", *(c for _, c in plan.outputs.values())])):
        imports, bound = ["import json", *imports], bound | {"json"}
    defined = airflow_exceptions.definitions(provided, readers, _local_names(fn))
    if provided.modules and "SimpleNamespace" not in bound:
        imports = [*imports, "from types import SimpleNamespace"]
    free = _free_names(fn, bound | params | set(constants) | set(holders) | set(provided.classes)
                       | set(provided.modules) | set(variables.names))
    if free:
        ctx.add(codes.MODULE_NAME_USED, f"`{fn.name}` uses names defined outside it: {', '.join(free)}")
    packages = list(requirements)
    if rule not in ("task.docker", "task.kubernetes"):
        packages += _install(ctx, callable_, fn, modules, packages)
    retries = ctx.task.args.get("retries")
    if raised & airflow_exceptions.NO_RETRY and isinstance(retries, int) and retries > 0:
        ctx.add(airflow_exceptions.RETRIED, f"`{fn.name}` raises {', '.join(sorted(raised & airflow_exceptions.NO_RETRY))}"
                                            f", which Airflow never retries; KFP retries it up to {retries} time(s)")
    outputs = plan.outputs or ({RETURN_VALUE: (RETURN_VALUE, plan.carrier or plan.returns or JSON)}
                               if skips and plan.returns else {})
    skip = _skip_plan(ctx, fn, outputs) if skips else None
    code = _code(module, "__AF2KFP_NAME__", sig, plan.returns, imports,
                 [*defined, *stand_ins, *carry.code, *constants.values()], shim, skip)
    params_out = [(p.name, p.annotation, p.default) for p in sig.params]
    if skip is not None:
        function = PythonFunction(code=code, params=params_out, returns=None if outputs else "bool",
                                  base_image=base_image, packages=packages, outputs=outputs,
                                  skip_output=skip.output or SINGLE_OUTPUT, parameters=variables.parameters)
    else:
        function = PythonFunction(code=code, params=params_out, returns=plan.returns, base_image=base_image,
                                  packages=packages, carrier=plan.carrier, outputs=plan.outputs,
                                  parameters=variables.parameters)
    return function, arguments


@dataclass
class _Skip:
    """How the component reports an ``AirflowSkipException``: ``output`` (``None``: its single
    bool output), what it returns when the task skipped, and how the inner call's result is returned."""

    output: str | None
    skipped: str
    ran: str
    keeps_result: bool


def _carries_skip(ctx: MapContext, fn: _Def, rule: str, decides: bool) -> bool:
    """True when a raised ``AirflowSkipException`` becomes a skip KFP's conditions test.

    Only where Airflow runs the callable in its own process: in ``@task.virtualenv``/``@task.docker``
    (and ExternalPythonOperator) the raise ends a subprocess, and Airflow fails the task as KFP does.
    """
    if rule not in ("PythonOperator", "task") or ctx.task.operator.endswith(("ExternalPythonOperator",
                                                                               "external_python")):
        return False
    if decides or ctx.looped or ctx.task.mapped is not None:
        what = ("its output is the branch's or short circuit's decision, it cannot also say the task skipped"
                if decides else "the task is mapped, and KFP's conditions cannot test each item's skip")
        ctx.add(airflow_exceptions.SKIP_NOT_CARRIED, f"`{fn.name}` raises AirflowSkipException, which Airflow "
                                                     f"turns into a skip: {what}; in KFP the raise fails the task")
        return False
    return True


def _skip_plan(ctx: MapContext, fn: _Def, outputs: dict[str, tuple[str, str]]) -> _Skip:
    """The component's reporting of a skip, and the M294 finding that says so."""
    taken = {name for name, _ in outputs.values()}
    output = None
    if outputs:
        output = "not_skipped"
        while output in taken:
            output += "_"
    empty = ", ".join("[]" if carrier == JSON_ITEMS else '"null"' for _, carrier in outputs.values())
    if not outputs:
        plan = _Skip(None, "False", "True", False)
    elif len(outputs) == 1:
        plan = _Skip(output, f"{empty}, False", "result, True", True)
    else:
        plan = _Skip(output, f"{empty}, False", "(*result, True)", True)
    where = f"its {output!r} output" if output else "its bool output"
    ctx.add(airflow_exceptions.MAY_SKIP, f"`{fn.name}` raises AirflowSkipException: {where} says whether it ran; "
                                         "the tasks after it run as their trigger rules say")
    return plan


def _json_names(callable_: PythonCallable) -> set[str]:
    """Names the callable's module binds to the ``json`` module."""
    return {alias.asname or "json" for text in callable_.imports for statement in _import_statements(text)
            if isinstance(statement, ast.Import) for alias in statement.names if alias.name == "json"}


def _encode_values(module: cst.Module, sig: _Signature, plan: OutputPlan) -> cst.Module:
    """Returns encoded and JSON parameters decoded, as the plan and the carriers say.

    The user's names are unchanged (only ``json`` and the generated helper are new), so the
    ``ast`` of the original function still tells which names the body binds and reads.
    """
    carriers = [(p.name, p.annotation) for p in sig.params]
    if plan.encode is not None:
        module = encode_returns(module, plan.encode, plan.falls_through and plan.encode.carrier != JSON_ITEMS)
    return decode_parameters(module, carriers)
