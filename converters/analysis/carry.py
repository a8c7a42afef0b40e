"""Code of the repository's own modules a Python callable uses, collected statically to travel with it.

A callable that does ``from common.utils import clean_rows`` runs in Airflow because the
DAGs folder is on ``sys.path``; a lightweight component holds only its own function. For
each name the callable's module (or its body) imports from the repository, the definition
that binds it in its module is found (through re-exports in ``__init__.py``), with what it
reads there, transitively: the module's other definitions, its imports of outside packages
(copied as import lines), and names it imports from further repository modules. Nothing is
executed. The mapping copies these definitions into the component, dependencies first.

A name bound several times, or inside a top-level ``if``/``try``/``for``, travels as every
statement that binds it, in source order (the whole block), when all they read travels too.
A repository module used as an object (``from lib import config`` then ``config.env``) travels
as a namespace of the attributes read of it, built by a function holding that module's
definitions (:func:`Carrier.module_object`). The few Airflow classes a component provides
itself (``Variable``, ``Dataset``/``Asset``, ``Param``, ``TriggerRule``, Airflow's exception classes:
:data:`PROVIDED`) travel as a marker key
``airflow:<kind> as <name>`` that the mapping serves.

A name that cannot travel gets the reason instead (``file:line: why``): a module used other
than through its attributes, code reading ``__file__`` or declaring ``global``, a definition
importing the rest of Airflow, a name its module does not define.
Under the helper module's ``from __future__ import annotations`` its functions'
annotations are never evaluated; copied elsewhere they would be, so they are left out.
"""

from __future__ import annotations

import ast
import builtins
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

from af2kfp.converters.airflow_exception_table import EXCEPTION_MODULES

__all__ = ["Carrier", "CarryProblem", "PROVIDED", "provided_kind"]

# Airflow classes a component provides itself (the Variable shim, stand-ins): qualified name -> kind
PROVIDED = {
    **{f"{module}.Variable": "Variable" for module in (
        "airflow.models", "airflow.models.variable", "airflow.sdk", "airflow.sdk.definitions.variable")},
    **{name: "Asset" for name in (
        "airflow.Dataset", "airflow.datasets.Dataset", "airflow.sdk.Asset", "airflow.sdk.Dataset",
        "airflow.sdk.definitions.asset.Asset", "airflow.assets.Asset")},
    **{f"{module}.Param": "Param" for module in (
        "airflow.models.param", "airflow.models", "airflow.sdk", "airflow.sdk.definitions.param")},
    **{f"{module}.TriggerRule": "TriggerRule" for module in (
        "airflow.utils.trigger_rule", "airflow.task.trigger_rule", "airflow.sdk")},
    # Airflow's exception classes: the kind is the class (the component defines it once, for the callable too)
    **{f"{module}.{name}": name for module, names in EXCEPTION_MODULES.items() for name in names},
}
_BLOCKS = (ast.If, ast.Try, ast.For)  # top-level blocks whose bindings travel as the whole block

_BUILTINS = frozenset(dir(builtins)) | {"__name__"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.AugAssign)

# (importing file, module as written without dots, level) -> a repository file, "module" when
# that is a package folder or namespace, None when outside the repository
Resolver = Callable[[Path, str, int], "Path | str | None"]


class CarryProblem(Exception):
    """Why a name cannot travel with the callable (``file:line: why``)."""


@dataclass
class _Module:
    """One repository module, parsed once: its top-level statements by the names they bind."""

    path: Path
    display: str
    lines: list[str]
    bindings: dict[str, list[ast.stmt]] = field(default_factory=dict)  # in source order, blocks included
    future_annotations: bool = False


class Carrier:
    """Collects definitions across the repository's modules; one per analysis (results cached)."""

    def __init__(self, resolve: Resolver, display: Callable[[Path], str]) -> None:
        self.resolve = resolve
        self.display = display
        self.modules: dict[Path, _Module | None] = {}
        self.unparsed: dict[Path, str] = {}  # a module Python's parser rejects -> why, as it says
        self.code: dict[str, str] = {}  # key -> source, every definition ever collected
        self.done: dict[tuple[Path, str, frozenset[str] | None], list[str] | str] = {}
        self.union: dict[tuple[str, str], frozenset[str]] = {}  # (file, bound) -> every attribute read of it

    def carry(self, here: Path, imports: list[str], wanted: set[str], reader: str = "") -> dict[str, list[str] | str]:
        """``bound name -> keys of self.code`` (dependencies first) or the reason it cannot travel.

        ``here``: the callable's file; ``imports``: its import lines (module-level and its body's);
        ``wanted``: the names the callable may read (a superset is fine); ``reader``: the code that
        reads them (the callable and its constants), for the attributes it reads of a module.
        """
        out = self._carry(here, imports, wanted, reader)
        for _ in range(3):  # one module read as an object by several definitions: one namespace, every attribute
            spaces: dict[tuple[str, str], set[frozenset[str]]] = {}
            for keys in out.values():
                for key in keys if isinstance(keys, list) else []:
                    if key.startswith("module:"):
                        where, bound, attributes = key.removeprefix("module:").rsplit(":", 2)
                        spaces.setdefault((where, bound), set()).add(frozenset(attributes.split(",")))
            merged = {space: frozenset().union(*sets) for space, sets in spaces.items() if len(sets) > 1}
            if not merged:
                break
            saved, self.done = self.done, {}
            self.union.update(merged)
            try:
                out = self._carry(here, imports, wanted, reader)
            finally:
                self.done, self.union = saved, {}
        return out

    def _carry(self, here: Path, imports: list[str], wanted: set[str], reader: str) -> dict[str, list[str] | str]:
        out: dict[str, list[str] | str] = {}
        try:
            tree: ast.AST | None = ast.parse(reader) if reader else None
        except SyntaxError:
            tree = None
        for text in imports:
            try:
                statements = ast.parse(text).body
            except SyntaxError:
                continue
            for statement in statements:
                if isinstance(statement, ast.ImportFrom):
                    self._from_import(here, statement, wanted, tree, out)
                elif isinstance(statement, ast.Import):
                    for alias in statement.names:
                        bound = (alias.asname or alias.name).split(".")[0]
                        if bound not in wanted:
                            continue
                        target = self.resolve(here, alias.name, 0)
                        if target is None:
                            continue
                        try:
                            out[bound] = self._import_module(alias, target, _attributes(tree, bound), ())
                        except CarryProblem as problem:
                            out[bound] = str(problem)
        return out

    def _from_import(self, here: Path, statement: ast.ImportFrom, wanted: set[str], tree: ast.AST | None,
                     out: dict[str, list[str] | str]) -> None:
        module = statement.module or ""
        target = self.resolve(here, module, statement.level)
        if target is None:
            return
        written = "." * statement.level + module
        for alias in statement.names:
            bound = alias.asname or alias.name
            if bound not in wanted:
                continue
            if alias.name == "*":
                out[bound] = f"`from {written} import *` names nothing statically"
                continue
            try:
                out[bound] = self._imported(here, module, statement.level, alias.name, bound, target,
                                            _attributes(tree, bound), ())
            except CarryProblem as problem:
                out[bound] = str(problem)

    def _import_module(self, alias: ast.alias, target: Path | str, attributes: frozenset[str] | None,
                       visiting: tuple) -> list[str]:
        """Keys for ``import module [as bound]`` of a repository module: a namespace of what is read of it."""
        bound = alias.asname or alias.name
        if "." in bound or not isinstance(target, Path):
            raise CarryProblem(f"`import {alias.name}` uses a repository package as an object; import the names "
                               f"it needs (`from {alias.name} import ...`) to have them carried")
        return self.module_object(target, bound, attributes, f"import {ast.unparse(alias)}", visiting)

    def _imported(self, here: Path, module: str, level: int, name: str, bound: str, target: Path | str,
                  attributes: frozenset[str] | None, visiting: tuple) -> list[str]:
        """Keys for ``from module import name as bound`` read in a file at ``here``."""
        written = "." * level + module
        sub = self.resolve(here, f"{module}.{name}" if module else name, level)
        if isinstance(sub, Path):
            return self.module_object(sub, bound, attributes, f"from {written} import {name}", visiting)
        if not isinstance(target, Path) or sub is not None:
            raise CarryProblem(f"`{written}.{name}` is a package folder of the repository, used as an object; "
                               f"import the names it needs from its modules")
        keys = list(self._name(target, name, visiting))
        if bound != name:
            key = f"{self.display(target)}:{bound} = {name}"
            self.code[key] = f"{bound} = {name}"
            keys.append(key)
        return keys

    def module_object(self, path: Path, bound: str, attributes: frozenset[str] | None, how: str,
                      visiting: tuple) -> list[str]:
        """A repository module used as an object (``config.env``): the attributes read of it, as a namespace.

        The module's definitions of those attributes (and what they read in it) run inside a function, as
        they would in the module's own namespace; it returns ``SimpleNamespace(attr=attr, ...)`` bound to
        ``bound``. What they read of other modules travels beside it, before.
        """
        where = self.display(path)
        if attributes is None:
            raise CarryProblem(f"`{how}` uses the repository module `{bound}` as an object other than by reading "
                               f"its attributes (`{bound}.name`); import the names it needs from it")
        if not attributes:
            raise CarryProblem(f"`{how}`: nothing is read of the module `{bound}`")
        attributes = attributes | self.union.get((where, bound), frozenset())
        inner_prefix = f"{where}:"
        outer: list[str] = []
        inner: list[str] = []
        for attribute in sorted(attributes):
            for key in self._name(path, attribute, visiting):
                into = inner if key.startswith(inner_prefix) else outer
                if key not in into:
                    into.append(key)
        inner = _in_source_order(inner)
        function = f"_{bound}_module"
        fields = ", ".join(f"{a}={a}" for a in sorted(attributes))
        if len(fields) + 40 > 88:  # black's layout one level inside the component: one per line
            fields = "\n" + "".join(f"    {a}={a},\n" for a in sorted(attributes))
        text = _namespace_function(function, f"`{how}`: what the task reads of it, as a namespace (af2kfp).",
                                   [self.code[key] for key in inner], f"return SimpleNamespace({fields})")
        text += f"\n\n{bound} = {function}()\n"
        namespace = "import:from types import SimpleNamespace"
        self.code[namespace] = "from types import SimpleNamespace"
        key = f"module:{where}:{bound}:{','.join(sorted(attributes))}"
        self.code[key] = text
        return [*outer, *([namespace] if namespace not in outer else []), key]

    def _module(self, path: Path) -> _Module | None:
        if path not in self.modules:
            table = None
            try:
                text = path.read_text(encoding="utf-8")
                tree = ast.parse(text)
            except SyntaxError as error:
                tree = None
                self.unparsed[path] = _syntax(error)
            except (OSError, UnicodeDecodeError, ValueError):
                tree = None
            if tree is not None:
                display = self.display(path)
                table = _Module(path, display, text.splitlines(keepends=True))
                for statement in tree.body:
                    if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                        table.future_annotations |= any(a.name == "annotations" for a in statement.names)
                        continue
                    for name in dict.fromkeys(_binds(statement)):
                        table.bindings.setdefault(name, []).append(statement)
            self.modules[path] = table
        return self.modules[path]

    def _name(self, path: Path, name: str, visiting: tuple, attributes: frozenset[str] | None = None) -> list[str]:
        """Keys (dependencies first) of what gives ``name`` its value in the module at ``path``.

        ``attributes``: what the reader reads of ``name`` (``None``: the name itself), which matters
        when ``name`` is a module imported as an object.
        """
        key = (path, name, attributes)
        if key in self.done:
            found = self.done[key]
            if isinstance(found, str):
                raise CarryProblem(found)
            return found
        if any(v[:2] == (path, name) for v in visiting):  # functions reading each other: order is free
            return []
        try:
            found = self._collect(path, name, (*visiting, key), attributes)
        except CarryProblem as problem:
            self.done[key] = str(problem)
            raise
        self.done[key] = found
        return found

    def _collect(self, path: Path, name: str, visiting: tuple, attributes: frozenset[str] | None) -> list[str]:
        table = self._module(path)
        where = self.display(path)
        if table is None:
            raise CarryProblem(f"{where}: does not parse{self.unparsed.get(path, '')}")
        statements = table.bindings.get(name, [])
        if not statements:
            raise CarryProblem(f"{where}: `{name}` is not defined at the top level of the module")
        if len(statements) == 1 and isinstance(statements[0], (ast.Import, ast.ImportFrom)):
            return self._import_binding(table, statements[0], name, visiting, attributes)
        provided = _provided_block(statements, name)
        if provided is not None:
            return self._import_binding(table, provided, name, visiting, attributes)
        keys: list[str] = []
        for statement in statements:  # every statement that binds it, in source order: Airflow's final value
            for dependency in self._statement(table, statement, name, visiting):
                if dependency not in keys:
                    keys.append(dependency)
        return keys

    def _statement(self, table: _Module, statement: ast.stmt, name: str, visiting: tuple) -> list[str]:
        """Keys of one top-level statement binding ``name``: what it reads, then itself."""
        at = f"{table.display}:{statement.lineno}"
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            raise CarryProblem(f"{at}: `{name}` is bound by an import and again elsewhere in the module; which "
                               "value Airflow sees is not known statically")
        if isinstance(statement, _BLOCKS):
            for node in _walk_scope(statement):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    module = node.module or "" if isinstance(node, ast.ImportFrom) else node.names[0].name
                    level = node.level if isinstance(node, ast.ImportFrom) else 0
                    if level or module.split(".")[0] == "airflow" or self.resolve(table.path, module, level):
                        raise CarryProblem(f"{at}: `{name}` is bound in a block importing "
                                           f"`{ast.unparse(node)}`, which cannot travel inside it")
        elif not isinstance(statement, _DEF_TYPES) or isinstance(statement, ast.AnnAssign) and statement.value is None:
            raise CarryProblem(f"{at}: `{name}` is bound by a {type(statement).__name__} statement, not a definition")
        nodes = list(ast.walk(statement))
        if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in nodes):
            raise CarryProblem(f"{at}: `{name}` declares `global`, which would not reach the component's names")
        reads = _reads(statement, table.future_annotations)
        if "__file__" in reads:
            raise CarryProblem(f"{at}: `{name}` reads `__file__`; the component runs from another file")
        keys: list[str] = []
        for read in sorted(reads - _BUILTINS, key=lambda n: (table.bindings.get(n, [statement])[0].lineno, n)):
            if read not in table.bindings:
                raise CarryProblem(f"{at}: `{name}` reads `{read}`, which the module does not define")
            for dependency in self._name(table.path, read, visiting, _attributes(statement, read)):
                if dependency not in keys:
                    keys.append(dependency)
        own = f"{table.display}:{statement.lineno}"  # one key per statement (``a, b = ...`` binds two names)
        self.code[own] = _source(table, statement)
        keys.append(own)
        return keys

    def _import_binding(self, table: _Module, statement: ast.Import | ast.ImportFrom, name: str,
                        visiting: tuple, attributes: frozenset[str] | None) -> list[str]:
        at = f"{table.display}:{statement.lineno}"
        alias = next(a for a in statement.names if (a.asname or a.name).split(".")[0] == name)
        module = statement.module or "" if isinstance(statement, ast.ImportFrom) else alias.name
        level = statement.level if isinstance(statement, ast.ImportFrom) else 0
        if not level and module.split(".")[0] == "airflow":
            kind = provided_kind(statement, alias)
            if kind is None:
                raise CarryProblem(f"{at}: `{name}` comes from Airflow (`{ast.unparse(statement)}`), which the "
                                   "component's image does not have")
            key = f"airflow:{kind} as {name}"
            self.code[key] = key
            return [key]
        target = self.resolve(table.path, module, level)
        if target is None:  # an outside package: the import line travels (only this name)
            single = ast.ImportFrom(module=module, names=[alias], level=0) if isinstance(statement, ast.ImportFrom) \
                else ast.Import(names=[alias])
            text = ast.unparse(single)
            key = f"import:{text}"
            self.code[key] = text
            return [key]
        if isinstance(statement, ast.Import):
            return self._import_module(alias, target, attributes, visiting)
        return self._imported(table.path, module, level, alias.name, name, target, attributes, visiting)


def _syntax(error: SyntaxError) -> str:
    """Why the converter's Python rejects a module: a syntax error, or a newer Python's syntax (PEP 701 f-strings)."""
    version = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    return (f" with {version} (line {error.lineno}: {error.msg}); if it is a newer Python's syntax, run af2kfp "
            "with that Python (and a python_base_image as new)")


def _in_source_order(keys: list[str]) -> list[str]:
    """Keys of one module as the module runs them (``file:line``); an alias (``file:a = b``) stays after the
    statement before it."""
    placed, line = [], 0.0
    for index, key in enumerate(keys):
        tail = key.rsplit(":", 1)[1]
        line = float(tail) if tail.isdigit() else line + 0.001
        placed.append((line, index, key))
    return [key for _, _, key in sorted(placed)]


def _namespace_function(name: str, doc: str, blocks: list[str], last: str) -> str:
    """``def name():`` holding ``blocks`` (indented by LibCST: a multi-line string keeps its text)."""
    body: list[cst.BaseStatement] = [cst.parse_statement(f'"""{doc}"""\n')]
    for block in blocks:
        statements = list(cst.parse_module(block).body)
        if isinstance(statements[0], (cst.FunctionDef, cst.ClassDef)) or \
                body and isinstance(body[-1], (cst.FunctionDef, cst.ClassDef)):
            statements[0] = statements[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        body += statements
    tail = cst.parse_statement(last + "\n")
    if isinstance(body[-1], (cst.FunctionDef, cst.ClassDef)):
        tail = tail.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    body.append(tail)
    header = cst.ensure_type(cst.parse_statement(f"def {name}():\n    pass\n"), cst.FunctionDef)
    return cst.Module(body=[header.with_changes(body=cst.IndentedBlock(body=body))]).code


def provided_kind(statement: ast.Import | ast.ImportFrom, alias: ast.alias) -> str | None:
    """The kind (``"Variable"``, ``"Asset"``, ``"Param"``, ``"TriggerRule"``, an exception class's name) when the
    import brings one of :data:`PROVIDED`."""
    if isinstance(statement, ast.ImportFrom) and not statement.level:
        return PROVIDED.get(f"{statement.module}.{alias.name}")
    return None


def _provided_block(statements: list[ast.stmt], name: str) -> ast.ImportFrom | None:
    """``try: from airflow.sdk import Variable`` / ``except ImportError: from airflow.models import Variable``:
    a block of imports only, each alternative bringing ``name`` as the same provided class; its first import."""
    if len(statements) != 1 or not isinstance(statements[0], ast.Try):
        return None
    imports = [n for n in _walk_scope(statements[0]) if isinstance(n, ast.stmt) and n is not statements[0]]
    if not imports or not all(isinstance(n, (ast.ImportFrom, ast.Pass)) for n in imports):
        return None
    kinds = {provided_kind(n, a) for n in imports if isinstance(n, ast.ImportFrom) for a in n.names
             if (a.asname or a.name) == name}
    if len(kinds) != 1 or None in kinds:
        return None
    return next(n for n in imports if isinstance(n, ast.ImportFrom) and any((a.asname or a.name) == name
                                                                            for a in n.names))


def _attributes(tree: ast.AST | None, name: str) -> frozenset[str] | None:
    """The attributes ``tree`` reads of ``name`` (``name.x``); ``None`` when it uses ``name`` otherwise."""
    if tree is None:
        return None
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            parent = parents.get(node)
            if not (isinstance(parent, ast.Attribute) and parent.value is node and isinstance(parent.ctx, ast.Load)):
                return None
            found.add(parent.attr)
    return frozenset(found)


def _binds(statement: ast.stmt) -> list[str]:
    """Names a top-level statement binds (every binding form, inside its blocks too; nested scopes excluded)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    names = []
    for node in _walk_scope(statement):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.append(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.append(node.name)
    return names


def _walk_scope(node: ast.AST):
    """``ast.walk`` that does not enter nested scopes (their names are not the module's)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, _SCOPES):
                yield child
            else:
                stack.append(child)


def _reads(statement: ast.stmt, future_annotations: bool) -> set[str]:
    """Names a definition reads from its module (conservative: any load not bound inside it)."""
    skip: set[int] = set()
    if future_annotations:  # annotations are strings there; they are left out of the copy too
        for node in ast.walk(statement):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.returns is not None:
                    skip.update(id(n) for n in ast.walk(node.returns))
                for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg,
                            node.args.kwarg]:
                    if arg is not None and arg.annotation is not None:
                        skip.update(id(n) for n in ast.walk(arg.annotation))
    bound: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(statement):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not statement:
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bound.discard(statement.name)  # a recursive function reads itself: defined, nothing to carry
        loaded.discard(statement.name)
    return loaded - bound


class _StripAnnotations(cst.CSTTransformer):
    """Function annotations out (never evaluated under the module's ``from __future__ import annotations``)."""

    def leave_Param(self, original_node: cst.Param, updated_node: cst.Param) -> cst.Param:
        return updated_node.with_changes(annotation=None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        return updated_node.with_changes(returns=None)


def _source(table: _Module, statement: ast.stmt) -> str:
    """The definition as written (decorators included), dedented to column 0."""
    first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
    text = "".join(table.lines[first - 1:statement.end_lineno]).rstrip() + "\n"
    if table.future_annotations and isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        text = cst.parse_module(text).visit(_StripAnnotations()).code
    return text
