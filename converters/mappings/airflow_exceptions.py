"""Airflow's exception classes inside a Python component, so an unchanged callable raises them.

A callable imports ``AirflowSkipException``, ``AirflowFailException``... from
``airflow.exceptions`` (Airflow 2 and 3) or ``airflow.sdk.exceptions`` (Airflow 3), at module
level or in its body, or reads them through ``import airflow.exceptions`` /
``from airflow import exceptions``. The component's image has no Airflow: those imports go,
and the classes it uses are defined at the top of the body, with Airflow's names and bases
(Airflow 3's, the installed one), so ``raise``/``except`` behave as in Airflow. Repository code
copied into the component (:mod:`.carried`) that imports them is served by the same classes
(:func:`carried`): one definition per component. What Airflow
does when a task raises one (skip it, fail it without retrying) is the caller's to carry:
:func:`uses` says which classes a body references outside ``except`` clauses.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from af2kfp.converters.airflow_exception_table import EXCEPTION_BASES, EXCEPTION_MODULES
from af2kfp.converters.findings import Severity, register_code

__all__ = ["SKIP", "NO_RETRY", "Provided", "provide", "definitions", "remove_imports", "uses", "carried",
           "is_exception", "MAY_SKIP", "RETRIED", "SKIP_NOT_CARRIED"]

MAY_SKIP = register_code(
    "M294", Severity.INFO, "Task may skip itself (AirflowSkipException)",
    "The component catches AirflowSkipException and outputs whether the task ran (a bool); the tasks after it "
    "run under dsl.If on that output exactly as their trigger rules let Airflow run them after a skipped task "
    "(all_success skips, all_done and none_failed run). Its return value flows as JSON text: null when skipped, "
    "as Airflow passes None. Nothing to do.",
).code
RETRIED = register_code(
    "M295", Severity.INFO, "AirflowFailException is retried in KFP",
    "Airflow fails a task that raises AirflowFailException (or AirflowSensorTimeout) at once, without using its "
    "retries; KFP's retry policy (set_retry) has no per-exception rule, so KFP runs the task again up to "
    "num_retries times before it fails. The run ends the same (failed); if what the task does before raising "
    "must not run twice, drop its retries.",
).code
SKIP_NOT_CARRIED = register_code(
    "M296", Severity.WARNING, "AirflowSkipException not carried",
    "Where the task raises AirflowSkipException, Airflow marks it skipped (and skips what follows by trigger "
    "rule); here the component cannot report a skip KFP's conditions could test (a branch or short circuit's "
    "decision, a mapped task's items), so the raise fails the KFP task. Return a value the downstream tasks "
    "test instead (a short circuit returning False), or check the run.",
).code

SKIP = "AirflowSkipException"
# Airflow fails the task at once, whatever its retries (AirflowFailException; a sensor's timeout).
NO_RETRY = frozenset({"AirflowFailException", "AirflowSensorTimeout"})
_BASES = EXCEPTION_BASES
_MODULES = EXCEPTION_MODULES


@dataclass
class Provided:
    """What the component defines in place of Airflow's exception imports.

    ``classes``: bound name -> Airflow class (``from ... import X as name``);
    ``modules``: bound name -> the module it stands for (``import airflow.exceptions`` binds
    ``airflow``, whose ``exceptions`` attribute is the module; ``from airflow import exceptions``
    binds the module itself).
    """

    classes: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.classes or self.modules)


def is_exception(kind: str) -> bool:
    """True when a kind of class the carried code reads (:data:`af2kfp.converters.analysis.carry.PROVIDED`) is one of these."""
    return kind in _BASES


def carried(kinds: dict[str, str]) -> dict[str, str]:
    """The exception classes repository code copied into the component imports (bound name -> class): the
    component defines them with the callable's own, once, so a helper's raise behaves as the callable's."""
    return {name: kind for name, kind in kinds.items() if is_exception(kind)}


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; ``None`` for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def _module_reads(trees: list[ast.AST], name: str, depth: int) -> set[str] | None:
    """The classes read as ``name.<attrs>.X`` (``depth`` attributes before the class) in ``trees``;
    ``None`` when ``name`` is used any other way (the component could not stand in for it)."""
    parents = {child: node for tree in trees for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
                continue
            top: ast.AST = node
            for _ in range(depth + 1):
                parent = parents.get(top)
                if not isinstance(parent, ast.Attribute):
                    return None
                top = parent
            chain = _chain(top)
            if chain is None or depth and chain[1] != "exceptions":
                return None
            found.add(chain[-1])
    return found


def provide(statement: ast.stmt, trees: list[ast.AST]) -> tuple[Provided, ast.stmt | None]:
    """Split one import: what the component defines, and what is left to import (``None``: nothing).

    ``trees``: the code that will read the names (the body, the copied definitions).
    """
    provided = Provided()
    if isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module in _MODULES:
        known = _MODULES[statement.module]
        rest = [alias for alias in statement.names if alias.name not in known]
        provided.classes = {alias.asname or alias.name: alias.name for alias in statement.names if alias.name in known}
        left = ast.ImportFrom(module=statement.module, names=rest, level=0) if rest else None
        return provided, left
    if isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module == "airflow":
        alias = next((a for a in statement.names if a.name == "exceptions"), None)
        if alias is not None and len(statement.names) == 1:
            reads = _module_reads(trees, alias.asname or "exceptions", 0)
            if reads is not None and reads <= _MODULES["airflow.exceptions"]:
                provided.modules[alias.asname or "exceptions"] = "airflow.exceptions"
                return provided, None
    if isinstance(statement, ast.Import) and len(statement.names) == 1 and statement.names[0].name in _MODULES:
        alias = statement.names[0]
        bound = alias.asname or "airflow"
        reads = _module_reads(trees, bound, 0 if alias.asname else alias.name.count("."))
        if reads is not None and reads <= _MODULES[alias.name]:
            provided.modules[bound] = alias.name if alias.asname else "airflow"
            return provided, None
    return provided, statement


def _merge(into: Provided, other: Provided) -> None:
    into.classes.update(other.classes)
    into.modules.update(other.modules)


def uses(provided: Provided, trees: list[ast.AST]) -> set[str]:
    """The Airflow classes ``trees`` may raise: referenced outside ``except`` clauses, or caught by
    a handler that raises again."""
    handlers = {id(n) for tree in trees for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.type
                for n in ast.walk(h.type)}
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and node.type is not None and any(
                    isinstance(n, ast.Raise) for statement in node.body for n in ast.walk(statement)):
                found |= uses(provided, [ast.Expr(node.type)])
            if id(node) in handlers:
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in provided.classes:
                found.add(provided.classes[node.id])
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr in _BASES:
                chain = _chain(node)
                if chain and chain[0] in provided.modules:
                    found.add(node.attr)
    return found


def _read(provided: Provided, trees: list[ast.AST]) -> set[str]:
    """Every Airflow class ``trees`` read, ``except`` clauses included."""
    found = {cls for name, cls in provided.classes.items() if any(
        isinstance(n, ast.Name) and n.id == name for tree in trees for n in ast.walk(tree))}
    for name in provided.modules:
        found |= {n.attr for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                  and n.attr in _BASES and (chain := _chain(n)) is not None and chain[0] == name}
    return found


def definitions(provided: Provided, trees: list[ast.AST], taken: set[str]) -> list[str]:
    """The statements defining what ``trees`` read: each class (bases first), then the names
    the imports bound (an alias, a module namespace). ``taken``: names the body binds itself."""
    read = _read(provided, trees)
    if not read:
        return []
    needed: list[str] = []

    def add(name: str) -> None:
        for base in _BASES[name]:
            if base in _BASES:
                add(base)
        if name not in needed:
            needed.append(name)

    for name in sorted(read):
        add(name)
    out = []
    for i, name in enumerate(needed):
        doc = '"""Airflow\'s exception classes the task uses: the component\'s image has no Airflow."""'
        out.append(f"class {name}({', '.join(_BASES[name])}):\n    {doc if i == 0 else 'pass'}\n")
    for bound, cls in sorted(provided.classes.items()):
        if bound != cls and cls in read and bound not in taken:
            out.append(f"{bound} = {cls}")
    for bound, module in sorted(provided.modules.items()):
        out.append(_namespace(bound, sorted(read), module == "airflow"))
    return out


def _namespace(bound: str, members: list[str], nested: bool) -> str:
    """``bound = SimpleNamespace(...)`` standing for the module (``airflow.exceptions`` when ``nested``),
    on one line when it fits in the component's body, else exploded as black keeps it (trailing commas)."""
    inner = f"SimpleNamespace({', '.join(f'{c}={c}' for c in members)})"
    line = f"{bound} = " + (f"SimpleNamespace(exceptions={inner})" if nested else inner)
    if len(line) + 4 <= 88:
        return line
    pad = "    " * (2 if nested else 1)
    items = "".join(f"{pad}{c}={c},\n" for c in members)
    if nested:
        return f"{bound} = SimpleNamespace(\n    exceptions=SimpleNamespace(\n{items}    ),\n)"
    return f"{bound} = SimpleNamespace(\n{items})"


class _Remove(cst.CSTTransformer):
    """Drop the imports the component defines instead, from inside the function."""

    def __init__(self, trees: list[ast.AST]) -> None:
        self.trees = trees
        self.provided = Provided()

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
                                  ) -> cst.BaseStatement | cst.RemovalSentinel:
        body: list[cst.BaseSmallStatement] = []
        changed = False
        for item in updated_node.body:
            if not isinstance(item, (cst.Import, cst.ImportFrom)):
                body.append(item)
                continue
            statement = ast.parse(cst.Module(body=[cst.SimpleStatementLine(body=[item])]).code).body[0]
            provided, left = provide(statement, self.trees)
            if not provided:
                body.append(item)
                continue
            _merge(self.provided, provided)
            changed = True
            if left is not None:
                body.append(cst.ensure_type(cst.parse_statement(ast.unparse(left)), cst.SimpleStatementLine).body[0])
        if not changed:
            return updated_node
        return updated_node.with_changes(body=body) if body else cst.RemoveFromParent()

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if updated_node.body:
            return updated_node
        return updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def remove_imports(module: cst.Module, trees: list[ast.AST]) -> tuple[cst.Module, Provided]:
    """``module`` (one function) without its own imports of Airflow's exceptions, and what they bound."""
    remover = _Remove(trees)
    return module.visit(remover), remover.provided
