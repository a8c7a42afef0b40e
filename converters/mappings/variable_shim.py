"""``Variable.get("x")`` inside a Python callable: served in the component, as the context shim serves ``ds``.

Airflow's ``Variable`` (``airflow.sdk``, ``airflow.models``, ``airflow.models.variable``) reads
the metadata database, which a KFP component has not. When every use of it in the body is
``Variable.get("<literal key>", ...)``, the component defines a small ``Variable`` class of
its own, under the name the callable uses, holding the values it reads:

- a Variable supplied at conversion (``--variables``, never one that looks secret: those are
  left out when the file is read) is its stored text, written as a literal;
- any other becomes a pipeline parameter, as ``{{ var.value.x }}`` does in templates
  (``default_var`` becomes its default), fed to a component input; no value is written.

``deserialize_json=True`` decodes the text as Airflow does. Anything else (a key computed at
run time, ``Variable.set``, the class passed around) is ``M268`` on its line, and the body is
left as it is (it imports Airflow: ``M221``).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

from af2kfp.converters.environment import Environment
from af2kfp.converters.mappings.airflow_imports import imported_as
from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.templating import ParamRef, PipelineParameter, python_name, variable_parameter

__all__ = ["VariableShim", "variable_names", "build_variable_shim", "VARIABLE_UNSERVED"]

VARIABLE_UNSERVED = register_code(
    "M268", Severity.WARNING, "Airflow Variable read the component cannot serve",
    "af2kfp serves Variable.get(\"<literal key>\", default_var=..., deserialize_json=...) inside a component, from "
    "--variables or a pipeline parameter; a key computed at run time, Variable.set or the class passed on cannot "
    "be. Read the value with a literal key, or pass it to the task as an argument.",
).code
_MODULES = ("airflow.sdk", "airflow.models", "airflow.models.variable", "airflow.sdk.definitions.variable")
_NOTSET = object()


@dataclass
class VariableShim:
    """What the component needs: ``statements`` (the class, in the body), ``inputs`` (component
    input name, its pipeline parameter), the ``names`` it replaces, ``problems`` (node, what)."""

    statements: list[str] = field(default_factory=list)
    inputs: list[tuple[str, ParamRef]] = field(default_factory=list)
    parameters: list[PipelineParameter] = field(default_factory=list)
    names: frozenset[str] = frozenset()
    problems: list[tuple[ast.AST, str]] = field(default_factory=list)
    needs_json: bool = False


def variable_names(imports: list[str], source: str) -> frozenset[str]:
    """The names Airflow's ``Variable`` is imported as, at module level or in the function."""
    return imported_as(imports, source, "Variable", lambda module: module in _MODULES)


@dataclass
class _Read:
    key: str
    json: bool
    default: Any


def _reads(fn: ast.AST, names: frozenset[str]) -> tuple[list[_Read], list[tuple[ast.AST, str]]]:
    parents = {child: node for node in ast.walk(fn) for child in ast.iter_child_nodes(node)}
    reads, problems = [], []
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load)):
            continue
        attribute = parents.get(node)
        call = parents.get(attribute)
        if not (isinstance(attribute, ast.Attribute) and attribute.attr == "get" and isinstance(call, ast.Call)
                and call.func is attribute):
            what = f"`{ast.unparse(attribute)}`" if isinstance(attribute, ast.Attribute) else f"`{node.id}` itself"
            problems.append((node, f"{what} (only `{node.id}.get` with a literal key is served)"))
            continue
        key = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "key"), None)
        options = {k.arg: k.value for k in call.keywords}
        default = call.args[1] if len(call.args) > 1 else options.get("default_var", options.get("default"))
        as_json = call.args[2] if len(call.args) > 2 else options.get("deserialize_json")
        try:
            literal_default = _NOTSET if default is None else ast.literal_eval(default)
            literal_json = False if as_json is None else ast.literal_eval(as_json)
        except ValueError:
            literal_default = literal_json = None
            problems.append((call, f"`{ast.unparse(call)}`: its default or deserialize_json is computed"))
            continue
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)) or any(
                k.arg is None for k in call.keywords):
            problems.append((call, f"`{ast.unparse(call)}`: the key is not a literal"))
            continue
        reads.append(_Read(key.value, bool(literal_json), literal_default))
    return reads, problems


def _text(environment: Environment, key: str, as_json: bool) -> str | None:
    """The stored text known at conversion (never a secret-looking one: those were left out)."""
    if as_json and not environment.variable(key) and environment.has_json(key):
        return json.dumps(environment.json_variable(key))  # a JSON Variable with its secret entries left out
    return environment.variable(key)


def _literal(text: str) -> str:
    """A string literal as black writes it: double quotes unless that needs more escapes."""
    written = repr(text)
    return '"' + written[1:-1] + '"' if written.startswith("'") and '"' not in text else written


def build_variable_shim(fn: ast.AST, names: frozenset[str], environment: Environment,
                        taken: set[str]) -> VariableShim:
    """The class that serves the body's ``Variable.get`` calls; problems when one cannot be served."""
    shim = VariableShim(names=names)
    reads, shim.problems = _reads(fn, names)
    if shim.problems or not reads:
        return shim
    values: dict[str, str] = {}
    for read in reads:
        if read.key in values:
            continue
        known = _text(environment, read.key, read.json)
        if known is not None:
            values[read.key] = _literal(known)
            continue
        parameter = variable_parameter(read.key, read.default) if isinstance(read.default, str) else \
            variable_parameter(read.key)
        name = python_name(read.key)
        while name in taken:
            name = "variable_" + name
        taken.add(name)
        shim.inputs.append((name, ParamRef(parameter.name)))
        shim.parameters.append(parameter)
        values[read.key] = name
    shim.needs_json = any(read.json for read in reads)
    entries = [f"{json.dumps(key)}: {value}" for key, value in values.items()]
    line = f"    values = {{{', '.join(entries)}}}"
    if len(line) + 4 > 88:  # as black lays it out (the class sits one level inside the component)
        line = "    values = {\n" + "".join(f"        {entry},\n" for entry in entries) + "    }"
    decode = "json.loads(cls.values[key]) if deserialize_json else cls.values[key]" if shim.needs_json else \
        "cls.values[key]"
    first, *others = sorted(names)
    shim.statements += [
        f"class {first}:",
        '    """Airflow Variables this task reads: supplied at conversion, or pipeline parameters (af2kfp)."""',
        "",
        line,
        "",
        "    @classmethod",
        "    def get(cls, key, default_var=None, deserialize_json=False, **kwargs):",
        f"        return {decode}",
        "",
        *(f"{alias} = {first}" for alias in others),
    ]
    return shim
