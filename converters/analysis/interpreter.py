"""The symbolic interpreter: "runs" a DAG file over LibCST nodes without executing it.

Statements and expressions are evaluated over a safe value domain (plain data, the
tagged values of ``af2kfp.converters.values`` and the Airflow look-alikes of ``model``);
Airflow's own semantics (DAGs, tasks, groups, dependencies) live in :mod:`af2kfp.converters.analysis.semantics`.
Anything it cannot know becomes ``Symbolic(source=...)``; user code is never imported.
"""

from __future__ import annotations

import ast
import logging
import operator
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.deferred import DecidedInt, DecidedStr, Decision, decided, json_item, with_templates
from af2kfp.converters.analysis.limits import FILE_SECONDS, TIME_LIMIT, Deadline
from af2kfp.converters.analysis.model import BoundMethod, ClassObj, FunctionObj, ModuleObj, Ref, XComArgObj, xcom_pull_template
from af2kfp.converters.analysis.names import canonical
from af2kfp.converters.analysis.safe_ops import (
    BUILTINS, MAX_ITEMS, UNKNOWN, binary, compare, is_plain, safe_format, unary,
)
from af2kfp.converters.analysis.source import SourceFile
from af2kfp.converters.values import Deferred, Symbolic

__all__ = ["Scope", "Interpreter", "ReturnSignal", "GLOBALS", "RAISES", "BLOCK_EXITS", "module_path_name"]

log = logging.getLogger(__name__)

MAX_STEPS = 200_000
MAX_DEPTH = 60
MAX_LOOP = 10_000
# A loop body that may create tasks or dependencies: a call, or >> / <<.
_MAY_BUILD = re.compile(r"\(|>>|<<")
_RETURNS = re.compile(r"(?m)^\s*return\b")
GLOBALS = object()  # the value of ``globals()``
RAISES = object()  # the callee of a watched ``raise`` (see ``Interpreter.watched``)


_SHIFTS = (cst.RightShift, cst.LeftShift)


def _symbolic_node(interpreter: "Interpreter", node: cst.CSTNode, scope: "Scope") -> Any:
    return UNKNOWN


_DISPATCH: dict[type, Any] = {}


# Operators that keep a string whole: a Deferred operand's template goes through (``"gs://" + bucket``).
_TEMPLATE_OPS: dict[str, Any] = {
    "Add": lambda a, b: a + b if isinstance(a, str) and isinstance(b, str) else UNKNOWN,
    "Modulo": lambda a, b: a % b if isinstance(a, str) and safe_format(a) else UNKNOWN,
}


def _holds_deferred(value: Any) -> bool:
    """A Deferred, or a tuple/list/dict with one as an item (``"%s/%s" % (bucket, "x")``)."""
    if isinstance(value, Deferred):
        return True
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return any(isinstance(item, Deferred) for item in items)


_IDENTITY_OPS = {
    "Equal": lambda a, b: a is b,
    "NotEqual": lambda a, b: a is not b,
    "Is": lambda a, b: a is b,
    "IsNot": lambda a, b: a is not b,
    "In": lambda a, b: any(a is item for item in b),
    "NotIn": lambda a, b: not any(a is item for item in b),
}


_SET_OPS = {"Subtract": operator.sub, "BitOr": operator.or_, "BitAnd": operator.and_, "BitXor": operator.xor}


def _collections(op: str, left: Any, right: Any) -> Any:
    """``+`` of lists/tuples and set algebra over the analyzer's own objects (tasks, groups), or UNKNOWN."""
    if not (_by_identity(list(left) if isinstance(left, (set, frozenset)) else left)
            and _by_identity(list(right) if isinstance(right, (set, frozenset)) else right)):
        return UNKNOWN
    if op == "Add" and isinstance(left, (list, tuple)) and type(left) is type(right):
        return left + right if len(left) + len(right) <= MAX_ITEMS else UNKNOWN
    if op in _SET_OPS and isinstance(left, (set, frozenset)) and isinstance(right, (set, frozenset)):
        return _SET_OPS[op](left, right)
    return UNKNOWN


def _by_identity(value: Any, depth: int = 0) -> bool:
    """Values the analyzer fully knows whose equality is identity (its own objects), or containers of them."""
    if isinstance(value, (Symbolic, Ref, BoundMethod)) or value is UNKNOWN:
        return False
    if isinstance(value, (list, tuple)) and depth < 3:
        return all(_by_identity(item, depth + 1) for item in value)
    return not is_plain(value) or value is None


class ReturnSignal(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Budget(Exception):
    """The file's evaluation budget is spent: its steps, or its time (``timed_out``)."""

    def __init__(self, timed_out: bool = False) -> None:
        super().__init__()
        self.timed_out = timed_out


# How a block is left early: ``return``, ``break``, ``continue``.
BLOCK_EXITS = (ReturnSignal, _Break, _Continue)


class Scope:
    """Names of one function call (or module); lookups fall back to the enclosing scope."""

    def __init__(self, parent: "Scope | None" = None, module: ModuleObj | None = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.module = module if module is not None else (parent.module if parent else None)

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        raise KeyError(name)


class _Frame:
    """One file being executed: its current statement line and expression root (for call lines)."""

    def __init__(self, source: SourceFile, module: ModuleObj) -> None:
        self.source = source
        self.module = module
        self.line: int | None = None
        self.root: cst.CSTNode | None = None
        self.function: FunctionObj | None = None  # the function this frame runs, and its first argument
        self.first_arg: Any = None


class Interpreter:
    """Evaluates statements and expressions; subclass :class:`AirflowSemantics` adds Airflow."""

    def __init__(self) -> None:
        self.frames: list[_Frame] = []
        self.steps = 0
        self.deadline = Deadline(FILE_SECONDS)
        self.depth = 0
        self.last_callee: Any = None
        # What the expressions under evaluation read: a Deferred's needs, a decided value's conditions.
        # Each eval keeps what its sub-expressions added only for its own result (see ``eval``).
        self.trace: list[tuple[tuple[str, ...], tuple[Decision, ...]]] = []
        # Lists and dicts an unknown condition decided, by identity (the object is held so ids stay unique).
        self.decided: dict[int, tuple[Any, tuple[Decision, ...]]] = {}
        # While a run-method override is walked: (callee, code, file:line) of each call whose value stayed
        # unknown, and of each ``raise`` reached in a function it calls (callee RAISES).
        self.watched: list[tuple[Any, str, str]] | None = None

    # ----------------------------------------------------------------- hooks (Airflow side)
    def finding(self, code: str, message: str, suggestion: str | None = None, node: cst.CSTNode | None = None) -> None:
        raise NotImplementedError

    def call_value(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: cst.Call, star_unknown: bool) -> Any:
        raise NotImplementedError

    def enter_context(self, value: Any, node: cst.WithItem) -> Any:
        raise NotImplementedError

    def exit_context(self, value: Any) -> None:
        raise NotImplementedError

    def dependency(self, left: Any, right: Any, node: cst.CSTNode) -> Any:
        raise NotImplementedError

    def shift(self, op: str, left: Any, right: Any, node: cst.CSTNode) -> Any:
        """``left >> right`` (op "RightShift") or ``left << right``: a dependency; returns ``right``."""
        if op == "RightShift":
            return self.dependency(left, right, node)
        self.dependency(right, left, node)
        return right

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        """``obj.name = value`` on an object the analyzer models."""

    def attribute(self, value: Any, name: str, node: cst.Attribute) -> Any:
        raise NotImplementedError

    def import_module(self, dotted: str, level: int) -> ModuleObj | None:
        """The repository's own module ``dotted`` (relative ``level``), executed once; None if not local."""
        raise NotImplementedError

    def decorate(self, decorator: Any, target: Any, node: cst.Decorator) -> Any:
        raise NotImplementedError

    def needs_value(self, what: str, value: Deferred, node: cst.CSTNode) -> None:
        """``what`` must be known when converting, and ``value`` is only known when Airflow parses the DAG."""

    def ref_item(self, ref: Ref, key: Any, node: cst.CSTNode) -> Any:
        """``ref[key]`` on a name imported from outside (``os.environ["X"]``); UNKNOWN by default."""
        return UNKNOWN

    def unknown_if(self, node: cst.If, scope: "Scope", test: Any) -> None:
        """An ``if`` whose condition is not known: both branches, one after the other."""
        self.exec_block(node.body.body, scope)
        self.exec_else(node, scope)

    def discarded_call(self, node: cst.Call, callee: Any) -> None:
        """A call whose result is dropped and unknown: it may have created tasks the analyzer cannot see."""

    def task_call_not_followed(self, node: cst.Call, args: list[Any], kwargs: dict[str, Any], result: Any) -> Any:
        """A call given ``task_id=`` whose result is unknown: it may create a task; returns the call's value."""
        return result

    # ----------------------------------------------------------------- helpers
    @property
    def source(self) -> SourceFile:
        return self.frames[-1].source

    def line_of(self, node: cst.CSTNode | None) -> int | None:
        line = self.source.line(node, self.frames[-1].root) if node is not None else None
        return line if line is not None else self.frames[-1].line

    def where(self, node: cst.CSTNode | None) -> str:
        """``file:line`` of ``node`` in the file being run, for messages."""
        line = self.line_of(node)
        return f"{self.source.display}:{line}" if line is not None else self.source.display

    def end_line_of(self, node: cst.CSTNode | None) -> int | None:
        line = self.source.end_line(node, self.frames[-1].root) if node is not None else None
        return line if line is not None else self.frames[-1].line

    def set_root(self, root: cst.CSTNode) -> None:
        """The expression root now evaluated: calls inside it are located on demand."""
        self.frames[-1].root = root
        line = self.source.roots.get(id(root))
        if line is not None:
            self.frames[-1].line = line

    def symbolic(self, node: cst.CSTNode) -> Symbolic:
        return Symbolic(source=self.source.code(node))

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Budget()
        if self.deadline.passed():
            raise _Budget(timed_out=True)

    # ----------------------------------------------------------------- modules
    def run_module(self, source: SourceFile, scope: Scope) -> None:
        assert scope.module is not None
        self.frames.append(_Frame(source, scope.module))
        try:
            self.exec_block(source.module.body, scope)
        except _Budget as spent:
            if spent.timed_out:
                self.finding(
                    TIME_LIMIT,
                    f"analysis stopped after {self.deadline.seconds:g} s of computation; the DAGs found so far are "
                    "kept",
                    None,
                    None,
                )
            else:
                self.finding(
                    codes.LIMIT,
                    f"stopped after {MAX_STEPS} evaluation steps",
                    "Split the file or simplify its loops; the graph may be incomplete.",
                )
        except RecursionError:
            self.finding(codes.LIMIT, "nesting too deep to follow", "Simplify the nesting of helper calls.")
        except (ReturnSignal, _Break, _Continue):
            pass
        except Exception as exc:  # noqa: BLE001 - one file's analyzer bug must not stop the run
            log.debug("analyzer failed on %s", source.display, exc_info=True)  # the finding tells the user
            self.finding(
                codes.INTERNAL, f"analyzer error ({type(exc).__name__}: {exc}) while reading this file", None, None
            )
        finally:
            self.frames.pop()

    # ----------------------------------------------------------------- statements
    def exec_block(self, body: Any, scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: cst.CSTNode, scope: Scope) -> None:
        mark = len(self.trace)
        try:
            self._exec_stmt(stmt, scope)
        finally:
            del self.trace[mark:]  # what the statement's expressions read is theirs alone

    def _exec_stmt(self, stmt: cst.CSTNode, scope: Scope) -> None:
        self._tick()
        line = self.source.line(stmt)
        if line is not None:
            self.frames[-1].line = line
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, scope)
        elif isinstance(stmt, cst.FunctionDef):
            self.exec_def(stmt, scope)
        elif isinstance(stmt, cst.ClassDef):
            self.exec_class(stmt, scope)
        elif isinstance(stmt, cst.If):
            self.exec_if(stmt, scope)
        elif isinstance(stmt, cst.For):
            self.exec_for(stmt, scope)
        elif isinstance(stmt, cst.With):
            self.exec_with(stmt, list(stmt.items), stmt.body, scope)
        elif isinstance(stmt, cst.Try):
            self.exec_block(stmt.body.body, scope)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, scope)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body.body, scope)
        elif isinstance(stmt, cst.While):
            if "(" in self.source.code(stmt.body):
                self.finding(
                    codes.UNSUPPORTED_CONSTRUCT,
                    "`while` loop not followed",
                    "Tasks or dependencies created in this loop are missing; use a `for` loop over a "
                    "literal collection.",
                    stmt,
                )
        elif isinstance(stmt, cst.IndentedBlock):
            self.exec_block(stmt.body, scope)

    def exec_small(self, small: cst.BaseSmallStatement, scope: Scope) -> None:
        self.set_root(small)
        if isinstance(small, cst.Expr):
            value = self.eval(small.value, scope)
            if isinstance(value, Symbolic) and isinstance(small.value, cst.Call):
                self.discarded_call(small.value, self.last_callee)
        elif isinstance(small, cst.Assign):
            value = self.eval(small.value, scope)
            for target in small.targets:
                self.assign(target.target, value, scope)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, scope), scope)
        elif isinstance(small, cst.AugAssign):
            self.exec_augassign(small, scope)
        elif isinstance(small, cst.Return):
            raise ReturnSignal(self.eval(small.value, scope) if small.value is not None else None)
        elif isinstance(small, cst.Import):
            self.exec_import(small, scope)
        elif isinstance(small, cst.ImportFrom):
            self.exec_import_from(small, scope)
        elif isinstance(small, cst.Raise) and self.watched is not None:
            self.watched.append((RAISES, self.source.code(small), self.where(small)))
        elif isinstance(small, cst.Break):
            raise _Break()
        elif isinstance(small, cst.Continue):
            raise _Continue()

    def exec_augassign(self, small: cst.AugAssign, scope: Scope) -> None:
        current = self.eval(small.target, scope)
        value = self.eval(small.value, scope)
        op = type(small.operator).__name__.replace("Assign", "")
        if op in ("RightShift", "LeftShift"):
            left, right = (current, value) if op == "RightShift" else (value, current)
            self.dependency(left, right, small)
            return
        if isinstance(current, list) and op == "Add" and isinstance(value, (list, tuple)):
            if len(current) + len(value) <= MAX_ITEMS:
                current.extend(value)  # in place, as Python does: aliases see it
                return
        if isinstance(current, dict) and op == "BitOr" and isinstance(value, dict):
            current.update(value)
            return
        result = binary(op, current, value)
        self.assign(small.target, self.symbolic(small.target) if result is UNKNOWN else result, scope)

    def exec_def(self, node: cst.FunctionDef, scope: Scope) -> None:
        function = FunctionObj(
            node=node,
            name=node.name.value,
            source=self.source,
            closure=scope,
            defaults=self.param_defaults(node.params, scope),
        )
        value: Any = function
        for decorator in reversed(node.decorators):
            self.set_root(decorator.decorator)
            value = self.decorate(self.eval(decorator.decorator, scope), value, decorator)
        scope.vars[node.name.value] = value

    def param_defaults(self, params: cst.Parameters, scope: Scope) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if param.default is not None:
                defaults[param.name.value] = self.eval(param.default, scope)
        return defaults

    def exec_class(self, node: cst.ClassDef, scope: Scope) -> None:
        module = scope.module
        bases = [self.eval(arg.value, scope) for arg in node.bases]
        qualname = f"{module.name}.{node.name.value}" if module and module.name else node.name.value
        klass = ClassObj(name=node.name.value, qualname=qualname, bases=bases, source=self.source, node=node)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        class_scope = Scope(parent=scope)
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        self.exec_small(small, class_scope)
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        klass.fields.append(small.target.value)
            elif isinstance(stmt, cst.FunctionDef):
                names = {self.dotted(d.decorator) for d in stmt.decorators}
                if names & {"staticmethod", "classmethod"}:
                    klass.static.add(stmt.name.value)
                if "property" in names:
                    klass.properties.add(stmt.name.value)
                class_scope.vars[stmt.name.value] = FunctionObj(
                    node=stmt,
                    name=stmt.name.value,
                    source=self.source,
                    closure=scope,
                    defaults=self.param_defaults(stmt.params, scope),
                    owner=klass,
                )
        klass.attrs = class_scope.vars
        scope.vars[node.name.value] = klass

    def exec_if(self, node: cst.If, scope: Scope) -> None:
        self.set_root(node.test)
        value = self.eval(node.test, scope)
        test = self.truth(value)
        if test is True:
            self.exec_block(node.body.body, scope)
        elif test is None:
            self.unknown_if(node, scope, value)
        else:
            self.exec_else(node, scope)

    def exec_else(self, node: cst.If, scope: Scope) -> None:
        """The ``elif``/``else`` part of ``node``, if any."""
        if isinstance(node.orelse, cst.If):
            self.exec_if(node.orelse, scope)
        elif isinstance(node.orelse, cst.Else):
            self.exec_block(node.orelse.body.body, scope)

    def exec_for(self, node: cst.For, scope: Scope) -> None:
        self.set_root(node.iter)
        collection = self.eval(node.iter, scope)
        items = self.iterate(collection)
        if items is None:
            if self.depth and self.watched is None and _RETURNS.search(self.source.code(node.body)):
                # the loop may return, and what is not known: so is the function's result (not the code after it)
                raise ReturnSignal(UNKNOWN)
            if not _MAY_BUILD.search(self.source.code(node.body)) and self.watched is None:
                pass  # a loop that calls nothing and sets no dependency builds no task (walked, it may set values)
            elif isinstance(collection, Deferred) and collection.needs:
                self.needs_value(f"loop over `{self.source.code(node.iter)}`", collection, node)
            else:
                self.finding(
                    codes.UNKNOWN_LOOP,
                    f"loop over `{self.source.code(node.iter)}` not unrolled: its value is not known statically",
                    None,
                    node,
                )
            return
        broke = False
        for count, item in enumerate(items):
            if count >= MAX_LOOP:
                self.finding(codes.LIMIT, f"loop stopped after {MAX_LOOP} iterations", None, node)
                break
            self.assign(node.target, item, scope)
            try:
                self.exec_block(node.body.body, scope)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke and node.orelse is not None:
            self.exec_block(node.orelse.body.body, scope)

    def exec_with(self, node: cst.With, items: list[cst.WithItem], body: cst.BaseSuite, scope: Scope) -> None:
        if not items:
            self.exec_block(body.body, scope)
            return
        item = items[0]
        self.set_root(item)
        value = self.eval(item.item, scope)
        bound = self.enter_context(value, item)
        if item.asname is not None:
            self.assign(item.asname.name, bound, scope)
        try:
            self.exec_with(node, items[1:], body, scope)
        finally:
            self.exit_context(value)

    def exec_import(self, node: cst.Import, scope: Scope) -> None:
        for alias in node.names:
            dotted = self.dotted(alias.name)
            if alias.asname is not None:
                module = self.import_module(dotted, 0)
                scope.vars[alias.asname.name.value] = module if module is not None else Ref(canonical(dotted), dotted)
            else:
                top = dotted.split(".")[0]
                module = self.import_module(top, 0)
                scope.vars[top] = module if module is not None else Ref(canonical(top), top)

    def exec_import_from(self, node: cst.ImportFrom, scope: Scope) -> None:
        level = len(node.relative)
        dotted = self.dotted(node.module) if node.module is not None else ""
        module = self.import_module(dotted, level) if (dotted or level) else None
        if isinstance(node.names, cst.ImportStar):
            if module is not None:
                scope.vars.update({k: v for k, v in module.scope.items() if not k.startswith("_")})
            return
        for alias in node.names:
            name = self.dotted(alias.name)
            local = alias.asname.name.value if alias.asname is not None else name
            if module is not None:
                value = self.module_attr(module, name)
                scope.vars[local] = value if value is not UNKNOWN else Symbolic(source=f"{dotted}.{name}")
            elif level:
                submodule = self.import_module(f"{dotted}.{name}" if dotted else name, level)
                scope.vars[local] = submodule if submodule is not None else Symbolic(source=name)
            else:
                qualified = f"{dotted}.{name}"
                scope.vars[local] = Ref(canonical(qualified), qualified)

    def module_attr(self, module: ModuleObj, name: str) -> Any:
        if name in module.scope:
            return module.scope[name]
        base = module.name
        sub = self.import_module(f"{base}.{name}" if base else name, 0)
        return sub if sub is not None else UNKNOWN

    @staticmethod
    def dotted(node: cst.CSTNode) -> str:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            return f"{Interpreter.dotted(node.value)}.{node.attr.value}"
        return ""

    # ----------------------------------------------------------------- assignment
    def assign(self, target: cst.CSTNode, value: Any, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            scope.vars[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = list(target.elements)
            items = self.iterate(value)
            starred = [i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)]
            if items is not None and not starred and len(items) == len(elements):
                for element, item in zip(elements, items):
                    self.assign(element.value, item, scope)
            elif items is not None and len(starred) == 1 and len(items) >= len(elements) - 1:
                star = starred[0]
                tail = len(elements) - star - 1
                for element, item in zip(elements[:star], items[:star]):
                    self.assign(element.value, item, scope)
                self.assign(elements[star].value, list(items[star : len(items) - tail]), scope)
                for element, item in zip(elements[star + 1 :], items[len(items) - tail :]):
                    self.assign(element.value, item, scope)
            else:
                for element in elements:
                    self.assign(element.value, Symbolic(source=self.source.code(element.value)), scope)
        elif isinstance(target, cst.Subscript):
            container = self.eval(target.value, scope)
            key = self.subscript_key(target, scope)
            if container is GLOBALS and isinstance(key, str):
                root = scope
                while root.parent is not None:
                    root = root.parent
                root.vars[key] = value
            elif isinstance(container, dict) and isinstance(key, (str, int, float, bool, bytes, type(None))):
                container[key] = value
            elif isinstance(container, list) and isinstance(key, int):
                try:
                    container[key] = value
                except IndexError:
                    pass
        elif isinstance(target, cst.Attribute):
            self.set_attribute(self.eval(target.value, scope), target.attr.value, value)

    # ----------------------------------------------------------------- expressions
    def truth(self, value: Any) -> bool | None:
        if isinstance(value, Symbolic) or value is UNKNOWN:
            return None
        if is_plain(value):
            try:
                return bool(value)
            except TypeError:
                return None
        if isinstance(value, (Ref, BoundMethod)):
            return None
        return True

    def iterate(self, value: Any) -> list[Any] | None:
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, dict):
            return list(value.keys())
        if isinstance(value, (str, set, frozenset)) and is_plain(value):
            return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return None

    def eval(self, node: cst.BaseExpression, scope: Scope) -> Any:
        """The value of ``node``; UNKNOWN becomes a :class:`Symbolic` with its source, or a :class:`Deferred`
        when what it read was (an unknown Variable...). A value derived from a decided one is decided too."""
        self._tick()
        kind = type(node)
        method = _DISPATCH.get(kind)
        if method is None:
            method = _DISPATCH[kind] = getattr(type(self), "eval_" + kind.__name__, None) or _symbolic_node
        trace = self.trace
        mark = len(trace)
        value = method(self, node, scope)
        if len(trace) > mark:
            needs = tuple(dict.fromkeys(n for entry in trace[mark:] for n in entry[0]))
            notes = tuple(dict.fromkeys(d for entry in trace[mark:] for d in entry[1]))
            del trace[mark:]
            if value is UNKNOWN:
                value = Deferred(source=self.source.code(node), needs=needs) if needs else self.symbolic(node)
            elif notes:
                value = self.tag(value, notes)
        elif value is UNKNOWN:
            return self.symbolic(node)
        if isinstance(value, Deferred):
            trace.append((value.needs, ()))
        elif isinstance(value, (DecidedStr, DecidedInt)):
            trace.append(((), value.notes))
        elif self.decided and isinstance(value, (list, dict)) and id(value) in self.decided:
            trace.append(((), self.decided[id(value)][1]))
        return value

    def tag(self, value: Any, notes: tuple[Decision, ...]) -> Any:
        """``value`` as decided by ``notes``: a tagged scalar, or a list/dict remembered by identity."""
        if isinstance(value, (list, dict)):
            known = self.decided.get(id(value), (value, ()))[1]
            self.decided[id(value)] = (value, tuple(dict.fromkeys((*known, *notes))))
            return value
        return decided(value, notes)

    def eval_Integer(self, node: cst.Integer, scope: Scope) -> Any:
        try:
            return int(node.value, 0)
        except ValueError:
            return UNKNOWN

    def eval_Float(self, node: cst.Float, scope: Scope) -> Any:
        return float(node.value)

    def eval_Imaginary(self, node: cst.Imaginary, scope: Scope) -> Any:
        return complex(node.value)

    def eval_SimpleString(self, node: cst.SimpleString, scope: Scope) -> Any:
        text = node.value
        quote = text[-1]
        if "\\" not in text and text[0] == quote:  # no prefix, no escapes: the text between the quotes
            size = 3 if text.startswith(quote * 3) and len(text) >= 6 else 1
            return text[size:-size]
        try:
            return node.evaluated_value
        except (ValueError, SyntaxError):
            return UNKNOWN

    def eval_ConcatenatedString(self, node: cst.ConcatenatedString, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return UNKNOWN

    def eval_FormattedString(self, node: cst.FormattedString, scope: Scope) -> Any:
        """The string, or a :class:`Symbolic` whose ``parts`` keep the known text when only
        some plain ``{expression}`` parts are unknown (no format spec, no conversion)."""
        out: list[Any] = []
        prefix = "".join(c for c in node.start if c not in "fF'\"")
        quote = node.end
        deferred: list[Deferred] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                try:
                    text = ast.literal_eval(prefix + quote + part.value + quote) if part.value else ""
                except (ValueError, SyntaxError):
                    return UNKNOWN
                out.append(text.replace("{{", "{").replace("}}", "}"))
                continue
            value = self.eval(part.expression, scope)
            if isinstance(value, Deferred):
                if value.template is not None and not part.format_spec and part.conversion in (None, "s"):
                    deferred.append(value)
                    out.append(value.template)  # Airflow renders the whole string, so the template stays one
                    continue
                if part.format_spec or part.conversion:
                    return UNKNOWN  # the eval around this one says what it needs
                out.append(Deferred(source=self.source.code(part.expression), needs=value.needs))
                continue
            if isinstance(value, XComArgObj) and not part.format_spec and part.conversion in (None, "s"):
                value = xcom_pull_template(value) or UNKNOWN  # f"{xcom_arg}" is str(xcom_arg): Airflow's template
            if isinstance(value, Symbolic) and not value.parts and not part.format_spec and not part.conversion:
                out.append(Symbolic(source=self.source.code(part.expression)))
                continue
            if not is_plain(value) or isinstance(value, bytes):
                return UNKNOWN
            spec = ""
            if part.format_spec:
                spec_value = self.eval_FormattedString(
                    cst.FormattedString(parts=part.format_spec, start='f"', end='"'), scope
                )
                if not isinstance(spec_value, str) or not safe_format(spec_value):
                    return UNKNOWN
                spec = spec_value
            if part.conversion == "r":
                value = repr(value)
            elif part.conversion == "s":
                value = str(value)
            elif part.conversion == "a":
                value = ascii(value)
            try:
                out.append(format(value, spec))
            except (TypeError, ValueError):
                return UNKNOWN
        if all(isinstance(p, str) for p in out):
            if deferred:
                needs = tuple(dict.fromkeys(n for d in deferred for n in d.needs))
                return Deferred(source=self.source.code(node), template="".join(out), needs=needs)
            return "".join(out)
        merged: list[Any] = []
        for piece in out:
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            elif piece != "":
                merged.append(piece)
        needs = tuple(dict.fromkeys(n for p in [*deferred, *merged] if isinstance(p, Deferred) for n in p.needs))
        if needs:  # what would make it known, for settings KFP needs when compiling (an image)
            return Deferred(source=self.source.code(node), parts=tuple(merged), needs=needs)
        return Symbolic(source=self.source.code(node), parts=tuple(merged))

    def eval_Name(self, node: cst.Name, scope: Scope) -> Any:
        name = node.value
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        try:
            return scope.lookup(name)
        except KeyError:
            if name in BUILTINS or name in (
                "map",
                "filter",
                "globals",
                "print",
                "isinstance",
                "getattr",
                "hasattr",
                "type",
                "open",
                "super",
            ):
                return BoundMethod(receiver=None, name=name)
            return UNKNOWN

    def eval_Attribute(self, node: cst.Attribute, scope: Scope) -> Any:
        value = self.eval(node.value, scope)
        return self.attribute(value, node.attr.value, node)

    def subscript_key(self, node: cst.Subscript, scope: Scope) -> Any:
        if len(node.slice) != 1:
            return UNKNOWN
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            return self.eval(index.value, scope)
        if isinstance(index, cst.Slice):
            parts = [self.eval(p, scope) if p is not None else None for p in (index.lower, index.upper, index.step)]
            if all(p is None or isinstance(p, int) for p in parts):
                return slice(*parts)
        return UNKNOWN

    def eval_Subscript(self, node: cst.Subscript, scope: Scope) -> Any:
        value = self.eval(node.value, scope)
        key = self.subscript_key(node, scope)
        if isinstance(value, XComArgObj) and isinstance(key, str):
            return XComArgObj(task=value.task, key=key)
        if isinstance(value, Deferred) and not isinstance(key, Symbolic):
            return json_item(value, key, self.source.code(node))
        if isinstance(value, Ref) and not isinstance(key, Symbolic):
            return self.ref_item(value, key, node)
        if isinstance(value, ModuleObj) or value is GLOBALS:
            return UNKNOWN
        if key is UNKNOWN or isinstance(key, Symbolic):
            return UNKNOWN
        if isinstance(value, (dict, list, tuple, str)):
            try:
                return value[key]
            except (KeyError, IndexError, TypeError):
                return UNKNOWN
        return UNKNOWN

    def eval_BinaryOperation(self, node: cst.BinaryOperation, scope: Scope) -> Any:
        if isinstance(node.operator, _SHIFTS) and isinstance(node.left, cst.BinaryOperation) and isinstance(
                node.left.operator, _SHIFTS):
            return self._eval_chain(node, scope)
        return self._binary(node, self.eval(node.left, scope), self.eval(node.right, scope))

    def _eval_chain(self, node: cst.BinaryOperation, scope: Scope) -> Any:
        """``a >> b >> c ...`` left to right in a loop: LibCST nests the chain one level per term, and
        generated DAGs chain thousands of tasks (one recursion per term overflowed Python's stack)."""
        spine = [node]
        while isinstance(spine[-1].left, cst.BinaryOperation) and isinstance(spine[-1].left.operator, _SHIFTS):
            spine.append(spine[-1].left)
        left = self.eval(spine[-1].left, scope)
        for inner in reversed(spine[1:]):
            self._tick()
            left = self._binary(inner, left, self.eval(inner.right, scope))
            if left is UNKNOWN:  # as eval() would have handed it on
                left = self.symbolic(inner)
        return self._binary(node, left, self.eval(node.right, scope))

    def _binary(self, node: cst.BinaryOperation, left: Any, right: Any) -> Any:
        op = type(node.operator).__name__
        if op in ("RightShift", "LeftShift") and not (isinstance(left, int) and isinstance(right, int)):
            return self.shift(op, left, right, node)
        if op in _TEMPLATE_OPS and (_holds_deferred(left) or _holds_deferred(right)):
            return with_templates(_TEMPLATE_OPS[op], [left, right], {}, lambda: self.source.code(node))
        result = binary(op, left, right)
        return _collections(op, left, right) if result is UNKNOWN else result

    def eval_UnaryOperation(self, node: cst.UnaryOperation, scope: Scope) -> Any:
        value = self.eval(node.expression, scope)
        op = type(node.operator).__name__
        if op == "Not":
            truth = self.truth(value)
            return UNKNOWN if truth is None else not truth
        return unary(op, value)

    def eval_BooleanOperation(self, node: cst.BooleanOperation, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        truth = self.truth(left)
        if truth is None:
            return UNKNOWN
        is_and = isinstance(node.operator, cst.And)
        if (is_and and not truth) or (not is_and and truth):
            return left
        return self.eval(node.right, scope)

    def eval_Comparison(self, node: cst.Comparison, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            op = type(target.operator).__name__
            result = compare(op, left, right)
            if op in ("Is", "IsNot") and right is None and isinstance(left, Deferred) and left.template is not None:
                result = op == "IsNot"  # a Variable read without default is a string, or Airflow fails the import
            if result is UNKNOWN and op in _IDENTITY_OPS and _by_identity(left) and _by_identity(right):
                result = _IDENTITY_OPS[op](left, right)  # tasks, DAGs, helper objects: Python's default identity
            if result is UNKNOWN or result is False:
                return result
            left = right
        return True

    def eval_IfExp(self, node: cst.IfExp, scope: Scope) -> Any:
        truth = self.truth(self.eval(node.test, scope))
        if truth is None:
            return UNKNOWN
        return self.eval(node.body if truth else node.orelse, scope)

    def _elements(self, elements: Any, scope: Scope) -> list[Any] | None:
        out: list[Any] = []
        for element in elements:
            if isinstance(element, cst.StarredElement):
                items = self.iterate(self.eval(element.value, scope))
                if items is None:
                    return None
                out.extend(items)
            else:
                out.append(self.eval(element.value, scope))
        return out

    def eval_List(self, node: cst.List, scope: Scope) -> Any:
        items = self._elements(node.elements, scope)
        return UNKNOWN if items is None else items

    def eval_Tuple(self, node: cst.Tuple, scope: Scope) -> Any:
        items = self._elements(node.elements, scope)
        return UNKNOWN if items is None else tuple(items)

    def eval_Set(self, node: cst.Set, scope: Scope) -> Any:
        items = self._elements(node.elements, scope)
        if items is None or not (is_plain(items) or _by_identity(items)):  # plain data, or tasks by identity
            return UNKNOWN
        try:
            return set(items)
        except TypeError:
            return UNKNOWN

    def eval_Dict(self, node: cst.Dict, scope: Scope) -> Any:
        out: dict[Any, Any] = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                other = self.eval(element.value, scope)
                if not isinstance(other, dict):
                    return UNKNOWN
                out.update(other)
                continue
            key = self.eval(element.key, scope)
            if not isinstance(key, (str, int, float, bool, bytes, type(None))):
                return UNKNOWN
            out[key] = self.eval(element.value, scope)
        return out

    def _comp_walk(self, clauses: list[cst.CompFor], index: int, inner: Scope, node: Any, out: list[Any]) -> bool:
        if index == len(clauses):
            if isinstance(node, cst.DictComp):
                key = self.eval(node.key, inner)
                if not isinstance(key, (str, int, float, bool, bytes, type(None))):
                    return False
                out.append((key, self.eval(node.value, inner)))
            else:
                out.append(self.eval(node.elt, inner))
            return True
        comp = clauses[index]
        items = self.iterate(self.eval(comp.iter, inner))
        if items is None:
            return False
        for item in items[:MAX_LOOP]:
            self.assign(comp.target, item, inner)
            keep = True
            for cond in comp.ifs:
                truth = self.truth(self.eval(cond.test, inner))
                if truth is None:
                    return False
                keep = keep and truth
            if keep and not self._comp_walk(clauses, index + 1, inner, node, out):
                return False
        return True

    def _comp(self, node: Any, scope: Scope) -> list[Any] | None:
        clauses: list[cst.CompFor] = []
        clause = node.for_in
        while clause is not None:
            clauses.append(clause)
            clause = clause.inner_for_in
        out: list[Any] = []
        if not self._comp_walk(clauses, 0, Scope(parent=scope), node, out):
            if "(" in self.source.code(node):
                self.finding(
                    codes.UNKNOWN_LOOP,
                    f"comprehension `{self.source.code(node)[:80]}` not unrolled: its collection is not known",
                    None,
                    node,
                )
            return None
        return out

    def eval_ListComp(self, node: cst.ListComp, scope: Scope) -> Any:
        items = self._comp(node, scope)
        return UNKNOWN if items is None else items

    eval_GeneratorExp = eval_ListComp

    def eval_SetComp(self, node: cst.SetComp, scope: Scope) -> Any:
        items = self._comp(node, scope)
        if items is None or not (is_plain(items) or _by_identity(items)):
            return UNKNOWN
        try:
            return set(items)
        except TypeError:
            return UNKNOWN

    def eval_DictComp(self, node: cst.DictComp, scope: Scope) -> Any:
        items = self._comp(node, scope)
        return UNKNOWN if items is None else dict(items)

    def eval_NamedExpr(self, node: cst.NamedExpr, scope: Scope) -> Any:
        value = self.eval(node.value, scope)
        self.assign(node.target, value, scope)
        return value

    def eval_Lambda(self, node: cst.Lambda, scope: Scope) -> Any:
        return FunctionObj(
            node=node,
            name="<lambda>",
            source=self.source,
            closure=scope,
            defaults=self.param_defaults(node.params, scope),
        )

    def eval_Call(self, node: cst.Call, scope: Scope) -> Any:
        func = self.eval(node.func, scope)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        star_unknown = False
        for arg in node.args:
            value = self.eval(arg.value, scope)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    star_unknown = True
                else:
                    args.extend(items)
            elif arg.star == "**":
                if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                    kwargs.update(value)
                else:
                    star_unknown = True
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        result = self.call_value(func, args, kwargs, node, star_unknown)
        self.last_callee = func  # set after the call: the outermost call of a statement is the last one
        if self.watched is not None and (result is UNKNOWN or type(result) is Symbolic):
            self.watched.append((func, self.source.code(node.func), self.where(node)))
        if "task_id" in kwargs and (result is UNKNOWN or isinstance(result, Symbolic)):
            result = self.task_call_not_followed(node, args, kwargs, result)
        return result

    # ----------------------------------------------------------------- calling user functions
    def call_function(
        self,
        function: FunctionObj,
        args: list[Any],
        kwargs: dict[str, Any],
        node: cst.CSTNode,
        bind: dict[str, Any] | None = None,
    ) -> Any:
        """Run a ``def``/``lambda`` of a scanned file with bound arguments; returns its value."""
        if self.depth >= MAX_DEPTH:
            self.finding(
                codes.LIMIT, f"call of `{function.name}` nested more than {MAX_DEPTH} deep not followed", None, node
            )
            return UNKNOWN
        scope = Scope(parent=function.closure)
        if bind is not None:
            scope.vars.update(bind)
        else:
            self.bind_params(function, args, kwargs, scope)
        self.depth += 1
        frame = _Frame(function.source, function.closure.module)
        frame.function, frame.first_arg = function, (args[0] if args else None)
        self.frames.append(frame)
        try:
            if isinstance(function.node, cst.Lambda):
                return self.eval(function.node.body, scope)
            self.exec_block(
                (
                    function.node.body.body
                    if isinstance(function.node.body, cst.IndentedBlock)
                    else function.node.body.body
                ),
                scope,
            )
        except ReturnSignal as signal:
            return signal.value
        except (_Break, _Continue):
            return None
        finally:
            self.frames.pop()
            self.depth -= 1
        return None

    @contextmanager
    def inside(self, function: FunctionObj, first_arg: Any) -> Iterator[None]:
        """Statements of ``function``'s body run here: in its file, ``super()`` bound to ``first_arg``."""
        frame = _Frame(function.source, function.closure.module)
        frame.function, frame.first_arg = function, first_arg
        self.frames.append(frame)
        self.depth += 1
        try:
            yield
        finally:
            self.frames.pop()
            self.depth -= 1

    def bind_params(self, function: FunctionObj, args: list[Any], kwargs: dict[str, Any], scope: Scope) -> None:
        params = function.node.params
        positional = [*params.posonly_params, *params.params]
        remaining = dict(kwargs)
        for index, param in enumerate(positional):
            name = param.name.value
            if index < len(args):
                scope.vars[name] = args[index]
            elif name in remaining:
                scope.vars[name] = remaining.pop(name)
            elif name in function.defaults:
                scope.vars[name] = function.defaults[name]
            else:
                scope.vars[name] = Symbolic(source=name)
        for param in params.kwonly_params:
            name = param.name.value
            scope.vars[name] = (
                remaining.pop(name) if name in remaining else function.defaults.get(name, Symbolic(source=name))
            )
        if isinstance(params.star_arg, cst.Param):
            scope.vars[params.star_arg.name.value] = tuple(args[len(positional) :])
        if params.star_kwarg is not None:
            scope.vars[params.star_kwarg.name.value] = remaining


def module_path_name(path: Path, root: Path) -> str:
    """Dotted module name of ``path`` relative to ``root`` (``pkg/mod.py`` -> ``pkg.mod``)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
