"""Code of the repository's own modules a Python callable uses, collected statically to travel with it.

A callable that does ``from common.utils import clean_rows`` runs in Airflow because the
DAGs folder is on ``sys.path``; a lightweight component holds only its own function. For
each name the callable's module (or its body) imports from the repository, the definition
that binds it in its module is found (through re-exports in ``__init__.py``), with what it
reads there, transitively: the module's other definitions, its imports of outside packages
(copied as import lines), and names it imports from further repository modules. Nothing is
executed. The mapping copies these definitions into the component, dependencies first.

A name that cannot travel gets the reason instead (``file:line: why``): a module used as an
object, a name bound twice or conditionally, code reading ``__file__`` or declaring
``global``, a definition importing Airflow, a name its module does not define.
Under the helper module's ``from __future__ import annotations`` its functions'
annotations are never evaluated; copied elsewhere they would be, so they are left out.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

__all__ = ["Carrier", "CarryProblem"]

_BUILTINS = frozenset(dir(builtins)) | {"__name__"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)

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
    bindings: dict[str, list[ast.stmt]] = field(default_factory=dict)
    conditional: dict[str, int] = field(default_factory=dict)  # bound inside if/try/for/with -> its line
    future_annotations: bool = False


class Carrier:
    """Collects definitions across the repository's modules; one per analysis (results cached)."""

    def __init__(self, resolve: Resolver, display: Callable[[Path], str]) -> None:
        self.resolve = resolve
        self.display = display
        self.modules: dict[Path, _Module | None] = {}
        self.code: dict[str, str] = {}  # key -> source, every definition ever collected
        self.done: dict[tuple[Path, str], list[str] | str] = {}

    def carry(self, here: Path, imports: list[str], wanted: set[str]) -> dict[str, list[str] | str]:
        """``bound name -> keys of self.code`` (dependencies first) or the reason it cannot travel.

        ``here``: the callable's file; ``imports``: its import lines (module-level and its body's);
        ``wanted``: the names the callable may read (a superset is fine).
        """
        out: dict[str, list[str] | str] = {}
        for text in imports:
            try:
                statements = ast.parse(text).body
            except SyntaxError:
                continue
            for statement in statements:
                if isinstance(statement, ast.ImportFrom):
                    self._from_import(here, statement, wanted, out)
                elif isinstance(statement, ast.Import):
                    for alias in statement.names:
                        bound = (alias.asname or alias.name).split(".")[0]
                        if bound in wanted and self.resolve(here, alias.name, 0) is not None:
                            out[bound] = (f"`import {alias.name}` uses a repository module as an object; import "
                                          f"the names it needs (`from {alias.name} import ...`) to have them carried")
        return out

    def _from_import(self, here: Path, statement: ast.ImportFrom, wanted: set[str],
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
                out[bound] = self._imported(here, module, statement.level, alias.name, bound, target)
            except CarryProblem as problem:
                out[bound] = str(problem)

    def _imported(self, here: Path, module: str, level: int, name: str, bound: str,
                  target: Path | str) -> list[str]:
        """Keys for ``from module import name as bound`` read in a file at ``here``."""
        written = "." * level + module
        sub = self.resolve(here, f"{module}.{name}" if module else name, level)
        if not isinstance(target, Path) or sub is not None:
            if sub is not None:
                raise CarryProblem(f"`{name}` is a module of the repository (`from {written} import {name}`), "
                                   f"used as an object; import the names it needs from `{written}.{name}`")
            raise CarryProblem(f"`{written}` is a package folder without `{name}`")
        keys = list(self._name(target, name, ()))
        if bound != name:
            key = f"{self.display(target)}:{bound} = {name}"
            self.code[key] = f"{bound} = {name}"
            keys.append(key)
        return keys

    def _module(self, path: Path) -> _Module | None:
        if path not in self.modules:
            table = None
            try:
                text = path.read_text(encoding="utf-8")
                tree = ast.parse(text)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                tree = None
            if tree is not None:
                display = self.display(path)
                table = _Module(path, display, text.splitlines(keepends=True))
                for statement in tree.body:
                    if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                        table.future_annotations |= any(a.name == "annotations" for a in statement.names)
                        continue
                    for name in _binds(statement):
                        table.bindings.setdefault(name, []).append(statement)
                table.conditional = _nested_bindings(tree)
            self.modules[path] = table
        return self.modules[path]

    def _name(self, path: Path, name: str, visiting: tuple[tuple[Path, str], ...]) -> list[str]:
        """Keys (dependencies first) of what gives ``name`` its value in the module at ``path``."""
        key = (path, name)
        if key in self.done:
            found = self.done[key]
            if isinstance(found, str):
                raise CarryProblem(found)
            return found
        if key in visiting:  # functions reading each other: each is defined once, order is free
            return []
        try:
            found = self._collect(path, name, (*visiting, key))
        except CarryProblem as problem:
            self.done[key] = str(problem)
            raise
        self.done[key] = found
        return found

    def _collect(self, path: Path, name: str, visiting: tuple[tuple[Path, str], ...]) -> list[str]:
        table = self._module(path)
        where = self.display(path)
        if table is None:
            raise CarryProblem(f"{where}: does not parse")
        statements = table.bindings.get(name, [])
        if name in table.conditional:
            raise CarryProblem(f"{where}:{table.conditional[name]}: `{name}` is bound conditionally (inside "
                               "`if`/`try`/`for`/`with`); which value Airflow sees is not known statically")
        if not statements:
            raise CarryProblem(f"{where}: `{name}` is not defined at the top level of the module")
        statement = statements[0]
        if len(statements) > 1:
            raise CarryProblem(f"{where}:{statement.lineno}: `{name}` is bound more than once or conditionally; "
                               "which value Airflow sees is not known statically")
        at = f"{where}:{statement.lineno}"
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return self._import_binding(table, statement, name, visiting)
        if not isinstance(statement, _DEF_TYPES) or isinstance(statement, ast.AnnAssign) and statement.value is None:
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
            for dependency in self._name(path, read, visiting):
                if dependency not in keys:
                    keys.append(dependency)
        own = f"{table.display}:{statement.lineno}"  # one key per statement (``a, b = ...`` binds two names)
        self.code[own] = _source(table, statement)
        keys.append(own)
        return keys

    def _import_binding(self, table: _Module, statement: ast.Import | ast.ImportFrom, name: str,
                        visiting: tuple[tuple[Path, str], ...]) -> list[str]:
        at = f"{table.display}:{statement.lineno}"
        alias = next(a for a in statement.names if (a.asname or a.name).split(".")[0] == name)
        module = statement.module or "" if isinstance(statement, ast.ImportFrom) else alias.name
        level = statement.level if isinstance(statement, ast.ImportFrom) else 0
        if not level and module.split(".")[0] == "airflow":
            raise CarryProblem(f"{at}: `{name}` comes from Airflow (`{ast.unparse(statement)}`), which the "
                               "component's image does not have")
        target = self.resolve(table.path, module, level)
        if target is None:  # an outside package: the import line travels (only this name)
            single = ast.ImportFrom(module=module, names=[alias], level=0) if isinstance(statement, ast.ImportFrom) \
                else ast.Import(names=[alias])
            text = ast.unparse(single)
            key = f"import:{text}"
            self.code[key] = text
            return [key]
        if isinstance(statement, ast.Import):
            raise CarryProblem(f"{at}: `{ast.unparse(statement)}` uses a repository module as an object")
        return self._imported(table.path, module, level, alias.name, name, target)


def _binds(statement: ast.stmt) -> list[str]:
    """Names a top-level statement binds (every binding form; nested scopes excluded)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in statement.names]
    names = []
    for node in _walk_scope(statement):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.append(node.id)
    return names


def _nested_bindings(tree: ast.Module) -> dict[str, int]:
    """Module-level names bound inside ``if``/``try``/``for``/``with`` blocks (not one plain definition), with
    the line of the block."""
    found: dict[str, int] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.If, ast.Try, ast.For, ast.While, ast.With, ast.AsyncFor, ast.AsyncWith)):
            for node in _walk_scope(statement):
                names: list[str] = []
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names = [node.name]
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [(a.asname or a.name).split(".")[0] for a in node.names]
                elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                    names = [node.id]
                for name in names:
                    found.setdefault(name, statement.lineno)
    return found


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
