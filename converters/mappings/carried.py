"""The repository's own code a Python callable imports, copied into its component (M264-M266).

The analyzer collected, per name imported from the repository, the definitions that give
it its value (:mod:`af2kfp.converters.analysis.carry`). Here the names the component really reads
are picked (module-level imports the body or its copied constants read, and imports inside
the body), their definitions ordered once each, outside import lines split from the code,
and the import statements that brought them removed. A name that cannot travel, or whose
definitions would collide with the callable's own names, is a finding naming why, and its
import stays (the module is not in the image: the task fails at run time as reported).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.graph import PythonCallable

__all__ = ["Carry", "plan_carry", "remove_imports", "NOT_CARRIED", "CARRY_CLASH", "CARRIED"]

NOT_CARRIED = register_code(
    "M264", Severity.WARNING, "Repository code cannot travel with the task",
    "The callable uses a name from a module of the repository that af2kfp cannot copy into the component (the "
    "message says why and where). Install the repository's package in python_base_image and declare it in "
    "[tool.af2kfp.packages] (module = false), or make the helper a plain definition: a def, class or constant "
    "bound once at the top of its module, importing no Airflow.",
).code
CARRY_CLASH = register_code(
    "M265", Severity.WARNING, "Repository code clashes with the callable's names",
    "Copied into the component, a definition the callable needs from the repository would bind the same name as "
    "the callable itself (a parameter, a local, a module constant or import) with another value. Rename one of "
    "them, or install the repository's package in python_base_image ([tool.af2kfp.packages], module = false).",
).code
CARRIED = register_code(
    "M266", Severity.INFO, "Repository code copied into the component",
    "The definitions the callable imports from the repository's own modules (and what they read there) are "
    "copied into the component, as the analyzer found them; a change to the helper needs a new conversion.",
).code


@dataclass
class Carry:
    """What to copy: ``imports`` (outside import lines), ``code`` (definitions, dependencies first),
    the import ``statements`` to drop (as ``ast.unparse`` writes them), the ``names`` carried, the
    repository ``modules`` whose use is carried or explained, findings ``(code, message)``, and the
    Airflow classes the copied code reads that the component ``provided`` itself (name -> kind:
    ``Variable``, ``Asset``, ``Param``; defined before the copied code)."""

    imports: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    statements: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    findings: list[tuple[str, str]] = field(default_factory=list)
    provided: dict[str, str] = field(default_factory=dict)


def _import_module(statement: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    return ["." * statement.level + (statement.module or "")]


def _bound(statement: ast.AST) -> set[str]:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    names: set[str] = set()  # a block, or a module's namespace (its function and the name bound to it)
    for child in ast.iter_child_nodes(statement):
        if isinstance(child, ast.stmt):
            names |= _bound(child)
        elif isinstance(child, ast.ExceptHandler):
            names |= set().union(*(_bound(s) for s in child.body)) | ({child.name} if child.name else set())
        elif isinstance(statement, ast.For) and child is statement.target:
            names |= {n.id for n in ast.walk(child) if isinstance(n, ast.Name)}
    return names


def plan_carry(callable_: PythonCallable, fn_name: str, statements: list[tuple[ast.stmt, set[str]]],
               taken: dict[str, str]) -> Carry:
    """The carry for the repository import ``statements`` (each with the names of it the component reads).

    ``taken``: names the component binds itself -> what binds them (a constant's source, ``"local"``...).
    """
    carry = Carry()
    local = set(callable_.local_modules)
    wanted: list[tuple[ast.stmt, list[str]]] = []
    for statement, used in statements:
        modules = [m for m in _import_module(statement) if m in local]
        if not modules or not used:
            continue
        problems = [(name, callable_.carried.get(name)) for name in sorted(used)
                    if not isinstance(callable_.carried.get(name), list)]
        if problems:
            carry.modules.update(modules)
            for name, why in problems:
                reason = why if isinstance(why, str) else "the analyzer did not resolve it"
                carry.findings.append((NOT_CARRIED, f"`{fn_name}` reads `{name}` from `{modules[0]}`, which cannot "
                                                    f"be copied into the component: {reason}"))
            continue
        wanted.append((statement, sorted(used)))
    keys: list[str] = []
    for _, used in wanted:
        for name in used:
            keys.extend(key for key in callable_.carried[name] if key not in keys)
    binders: dict[str, str] = {}
    blocks: list[tuple[str, ast.stmt]] = []
    for key in keys:
        if key.startswith("airflow:"):  # a class the component provides itself (the Variable shim, stand-ins)
            kind, _, name = key.removeprefix("airflow:").partition(" as ")
            carry.provided[name] = kind
            continue
        text = callable_.carried_code.get(key)
        try:
            nodes = ast.parse(text).body if text else []
        except SyntaxError:
            nodes = []
        if not nodes:
            return carry  # a graph from another version: leave the imports (M261) as they were
        node = nodes[0] if len(nodes) == 1 else ast.Module(body=nodes, type_ignores=[])
        blocks.append((text, node))
        for name in _bound(node):
            if binders.setdefault(name, text) != text:
                carry.findings.append((CARRY_CLASH, f"`{fn_name}` needs two definitions of `{name}` from the "
                                                    "repository's modules; they cannot both be copied"))
        carried_names = {name for _, used in wanted for name in used}
        clashes = sorted(name for name in _bound(node) if name in taken and taken[name] != text
                         and name not in carried_names)
        for name in clashes:
            carry.findings.append((CARRY_CLASH, f"`{fn_name}` binds `{name}` itself, and so does the repository "
                                                f"code it needs (`{key}`)"))
    if any(code == CARRY_CLASH for code, _ in carry.findings):
        carry.modules.update(m for statement, _ in wanted for m in _import_module(statement) if m in local)
        return carry
    froms: dict[str, list[ast.alias]] = {}
    for text, node in blocks:
        if isinstance(node, ast.ImportFrom):  # one line per module, as a person writes them
            if node.module not in froms:
                froms[node.module or ""] = []
                carry.imports.append(node.module or "")
            froms[node.module or ""].extend(node.names)
        elif isinstance(node, ast.Import):
            carry.imports.append(text.rstrip("\n"))
        else:
            carry.code.append(text.rstrip("\n"))
    carry.imports = [ast.unparse(ast.ImportFrom(module=line, names=froms[line], level=0)) if line in froms else line
                     for line in carry.imports]
    for statement, used in wanted:
        carry.statements.add(ast.unparse(statement))
        carry.names.update(used)
        carry.modules.update(m for m in _import_module(statement) if m in local)
    if wanted:
        names = ", ".join(f"`{name}`" for _, used in wanted for name in used)
        sources = sorted({_file_of(key) for key in keys if not key.startswith(("import:", "airflow:"))})
        carry.findings.append((CARRIED, f"`{fn_name}` carries {names} from the repository ({', '.join(sources)}): "
                                        f"{len(carry.code)} definition(s) copied into the component"))
    return carry


def _file_of(key: str) -> str:
    """The file a key of carried code comes from (``file:line``, ``file:a = b``, ``module:file:name:attrs``)."""
    if key.startswith("module:"):
        return key.removeprefix("module:").rsplit(":", 2)[0]
    return key.split(" = ")[0].rsplit(":", 1)[0]


class _DropImports(cst.CSTTransformer):
    """Remove the import statements the carried code replaces (a block left empty gets ``pass``)."""

    def __init__(self, statements: set[str]) -> None:
        self.statements = statements

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine):
        items = updated_node.body
        if items and all(isinstance(i, (cst.Import, cst.ImportFrom)) for i in items):
            code = cst.Module(body=[updated_node.with_changes(leading_lines=())]).code
            try:
                nodes = ast.parse(code.strip()).body
            except SyntaxError:
                return updated_node
            if nodes and all(ast.unparse(n) in self.statements for n in nodes):
                return cst.RemovalSentinel.REMOVE
        return updated_node

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock):
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
        return updated_node


def remove_imports(module: cst.Module, statements: set[str]) -> cst.Module:
    """``module`` (the callable) without the body's import statements in ``statements``."""
    return module.visit(_DropImports(statements)) if statements else module
