"""Module-level constants and helpers a Python callable reads, collected statically (nothing is executed).

A lightweight component holds only its own function, so a name such as ``MIN_AUC_GAIN``
defined beside the callable would be missing at run time. When the module binds that
name exactly once, by a plain top-level assignment whose value reads only builtins, the
module's imports and earlier such definitions (``LIMIT = 3``, ``log = logging.getLogger(__name__)``,
``BUCKET = os.environ.get("BUCKET", "raw")``), the assignment is copied into the component
as written: Airflow evaluates it too each time a worker imports the DAG file to run the
task. A value that reads ``__file__`` is not (the component runs from another file), nor
one with a lambda, a comprehension or an assignment expression inside. So is a plain
module-level ``def`` (no decorator, no ``global``) that reads only builtins, module
imports, such constants and other such functions.
:func:`callable_constants` returns those definitions, by name, in module order.
"""

from __future__ import annotations

import ast
import builtins
import re
from functools import lru_cache

__all__ = ["callable_constants"]

_Def = ast.FunctionDef | ast.AsyncFunctionDef
_BUILTINS = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


_TOP_LEVEL = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)|^([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=(?!=)", re.M)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


@lru_cache(maxsize=16)
def _top_level_names(text: str) -> frozenset[str]:
    """Names a line at column 0 assigns or defines: a cheap superset of what could be copied."""
    return frozenset(a or b for a, b in _TOP_LEVEL.findall(text))


@lru_cache(maxsize=256)
def callable_constants(text: str, name: str, def_line: int | None, body: str = "") -> dict[str, str]:
    """``name -> source`` of the constants and helpers the function's body reads (and those they read).

    ``def_line`` is the line of the ``def`` (``None``: the only function called ``name``);
    ``body``, the ``def``'s source when known, lets most callables skip parsing the module.
    Names another scope around a nested function binds are left out: they shadow the module's.
    Cached (a callable used by many tasks is looked up once): callers copy the result.
    """
    if body and not _top_level_names(text) & set(_IDENTIFIER.findall(body)):
        return {}  # the body names nothing the module defines at the top: no need to parse the module
    table = _module_constants(text)
    if not table:  # most DAG files: nothing a body could read
        return {}
    paths = _def_paths(text).get(name, [])
    matches = [path for line, path in paths if def_line in (None, line)]
    if len(matches) != 1:
        return {}
    path = matches[0]
    fn, enclosing = path[-1], path[:-1]
    shadowed = set().union(*(_scope_names(scope) for scope in enclosing if not isinstance(scope, ast.ClassDef)))
    wanted = {n.id for s in fn.body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    needed: set[str] = set()
    pending = sorted(wanted & set(table) - shadowed)
    while pending:
        current = pending.pop()
        if current in needed:
            continue
        needed.add(current)
        pending.extend(table[current][1] & table.keys() - needed)
    return {key: source for key, (source, _) in table.items() if key in needed}


@lru_cache(maxsize=16)
def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


@lru_cache(maxsize=16)
def _module_constants(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Every qualifying definition of the module, in source order: ``name -> (source, names it reads)``."""
    module = _parse(text)
    if module is None:
        return {}
    counts: dict[str, int] = {}
    for binding in _module_bindings(module):
        counts[binding] = counts.get(binding, 0) + 1
    declared_global = {n for node in ast.walk(module) if isinstance(node, ast.Global) for n in node.names}
    once = {name for name, count in counts.items() if count == 1 and name not in declared_global}
    table: dict[str, tuple[str, frozenset[str]]] = {}
    lines = text.splitlines(keepends=True)
    imported = _imported_names(module) & once | _BUILTINS
    for statement in module.body:
        name, reads = _definition(statement, set(table) | imported)
        source = _segment(lines, statement) if name in once and reads is not None else None
        if name is not None and reads is not None and source is not None:
            table[name] = (source, frozenset(reads))
    changed = True
    while changed:  # drop functions reading a name that is none of these, until nothing changes
        changed = False
        for name, (_, reads) in list(table.items()):
            if not reads <= set(table) | imported:
                del table[name]
                changed = True
    return table


def _segment(lines: list[str], node: ast.stmt) -> str | None:
    """``ast.get_source_segment`` on lines split once (it splits the whole text on every call)."""
    if node.end_lineno is None or node.end_col_offset is None:
        return None
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first].encode()[node.col_offset:node.end_col_offset].decode()
    head = lines[first].encode()[node.col_offset:].decode()
    tail = lines[last].encode()[:node.end_col_offset].decode()
    return head + "".join(lines[first + 1:last]) + tail


def _definition(statement: ast.stmt, earlier: set[str]) -> tuple[str | None, set[str] | None]:
    """The name a statement defines and the names it reads; ``None`` reads when it does not qualify."""
    if isinstance(statement, ast.FunctionDef):
        if statement.decorator_list or any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(statement)):
            return statement.name, None
        return statement.name, _function_reads(statement)
    target, value = _simple_assignment(statement)
    if target is None or value is None:
        return None, None
    reads = _value_reads(value)
    # Only earlier definitions and imports: a later one is unbound when the module runs this line.
    return target, reads if reads is not None and reads <= earlier | {"__name__"} else None


def _function_reads(fn: ast.FunctionDef) -> set[str]:
    """Names a function reads from outside it: defaults, annotations and body (builtins included)."""
    local = _scope_names(fn) - {fn.name}
    loaded = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loaded - local | ({fn.name} & loaded)


def _imported_names(module: ast.Module) -> set[str]:
    return {(alias.asname or alias.name).split(".")[0] for statement in module.body
            if isinstance(statement, (ast.Import, ast.ImportFrom)) for alias in statement.names}


def _simple_assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    """``NAME = value`` or ``NAME: type = value``; anything else is ``(None, None)``."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
        return statement.target.id, statement.value
    return None, None


_VALUE_NODES = (ast.Constant, ast.Name, ast.Load, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp,
                ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword, ast.Attribute, ast.Subscript, ast.Slice,
                ast.JoinedStr, ast.FormattedValue, ast.Starred, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


def _value_reads(node: ast.expr) -> set[str] | None:
    """Names a module-level value reads; ``None`` when it has a scope of its own (lambda,
    comprehension), binds a name, or reads ``__file__`` (another path in the component)."""
    reads: set[str] = set()
    for child in ast.walk(node):
        if not isinstance(child, _VALUE_NODES):
            return None
        if isinstance(child, ast.Name):
            reads.add(child.id)
    return None if "__file__" in reads else reads


def _module_bindings(module: ast.Module) -> list[str]:
    """Every binding of a module-level name, once per binding site (inner scopes skipped)."""
    found: list[str] = []
    stack: list[ast.AST] = list(module.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append(node.name)
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            found.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.extend((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.append(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            found.append(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            found.append(node.rest)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _scope_names(scope: ast.AST) -> set[str]:
    """Every name a function scope binds (conservatively, nested scopes included)."""
    names = {a.arg for a in ast.walk(scope) if isinstance(a, ast.arg)}
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


@lru_cache(maxsize=16)
def _def_paths(text: str) -> dict[str, list[tuple[int, list[ast.AST]]]]:
    """Every ``def`` of the module by name: ``(line, [enclosing scopes..., the def])``, one walk per file."""
    module = _parse(text)
    found: dict[str, list[tuple[int, list[ast.AST]]]] = {}
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(module, [])] if module is not None else []
    while stack:
        node, scopes = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner = [*scopes, child] if isinstance(child, _SCOPES) else scopes
            if isinstance(child, _Def):
                found.setdefault(child.name, []).append((child.lineno, inner))
            stack.append((child, inner))
    return found
