"""Reading and parsing one Python file with LibCST, plus a cheap line table.

LibCST's ``PositionProvider`` costs about two parses, and even a bare code-generation
pass costs a third of one. Statement lines come instead from CPython's ``ast`` (a few
percent of a LibCST parse), matched statement by statement; the line of a call inside a
statement is computed only when asked (a task is created there), by a line-counting
code generation of that statement alone.
"""

from __future__ import annotations

import ast
import contextlib
import io
import logging
import re
import sys
import textwrap
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.limits import MAX_NESTING, TOO_NESTED, nesting
from af2kfp.converters.findings import CODES, Finding

__all__ = ["SourceFile", "parse_file", "check_file", "might_contain_dag", "LINE_TYPES", "descendants"]

log = logging.getLogger(__name__)

LINE_TYPES = frozenset(
    {
        cst.Call,
        cst.FunctionDef,
        cst.ClassDef,
        cst.SimpleStatementLine,
        cst.With,
        cst.For,
        cst.If,
        cst.While,
        cst.Try,
        cst.Decorator,
    }
)


_NULL: contextlib.nullcontext[None] = contextlib.nullcontext()


_ENDS_WITH_NEWLINE = (cst.SimpleStatementLine, cst.BaseCompoundStatement, cst.Decorator)


class _LineState(CodegenState):
    """Code generation that only counts lines and records spans of :data:`LINE_TYPES`."""

    def __init__(self, module: cst.Module, line: int = 1) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = line
        self.spans: dict[int, list[int]] = {}

    def add_token(self, value: str) -> None:
        if "\n" in value:
            self.line += value.count("\n")

    def add_indent_tokens(self) -> None:
        return None

    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> contextlib.nullcontext[None]:
        return _NULL  # the base class builds a generator context per node; positions are not needed here

    def before_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in LINE_TYPES:
            start = self.line + len(getattr(node, "leading_lines", ()))
            self.spans[id(node)] = [start, start]

    def after_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in LINE_TYPES:
            span = self.spans[id(node)]
            # Statement lines end with their newline token: the last line is the one before it.
            end = self.line - 1 if isinstance(node, _ENDS_WITH_NEWLINE) else self.line
            span[1] = max(span[0], end)


@dataclass
class SourceFile:
    """A parsed file: display path, resolved path, text, module, and its line table.

    ``spans`` maps ``id(node)`` to ``[first_line, last_line]``; ``roots`` maps the id of
    an expression root (a small statement, a ``with`` item, a loop's iterable, a test, a
    decorator) to the line it starts on, so calls inside it can be located on demand.
    """

    display: str
    path: Path
    text: str
    module: cst.Module
    spans: dict[int, list[int]] = field(default_factory=dict)
    roots: dict[int, int] = field(default_factory=dict)
    def_lines: dict[int, int] = field(default_factory=dict)
    _expanded: set[int] = field(default_factory=set)
    _codes: dict[int, str] = field(default_factory=dict)
    _imports: list[str] | None = None

    def span(self, node: cst.CSTNode | None, root: cst.CSTNode | None = None) -> list[int] | None:
        """Lines of ``node``; ``root`` is the expression root being evaluated that contains it."""
        if node is None:
            return None
        found = self.spans.get(id(node))
        if found is None and root is not None and id(root) in self.roots and id(root) not in self._expanded:
            self._expanded.add(id(root))
            state = _LineState(self.module, self.roots[id(root)])
            root._codegen(state)
            for key, value in state.spans.items():
                self.spans.setdefault(key, value)
            found = self.spans.get(id(node))
        return found

    def line(self, node: cst.CSTNode | None, root: cst.CSTNode | None = None) -> int | None:
        found = self.span(node, root)
        return found[0] if found else None

    def end_line(self, node: cst.CSTNode | None, root: cst.CSTNode | None = None) -> int | None:
        found = self.span(node, root)
        return found[1] if found else None

    def code(self, node: cst.CSTNode) -> str:
        """Source text of ``node`` (cached: code generation is the costly part of LibCST)."""
        text = self._codes.get(id(node))
        if text is None:
            text = self._codes[id(node)] = self.module.code_for_node(node).strip()
        return text

    def def_source(self, node: cst.FunctionDef) -> str:
        """The ``def`` as written, decorators removed: sliced from the text (code generation is slow)."""
        start, end = self.def_lines.get(id(node)), self.end_line(node)
        if start is not None and end is not None:
            lines = self.text.splitlines()[start - 1 : end]
            text = textwrap.dedent("\n".join(lines)).rstrip()
            if text.startswith(("def ", "async def ")):
                return text + "\n"
        bare = node.with_changes(decorators=(), leading_lines=())
        return self.module.code_for_node(bare).strip() + "\n"

    def imports(self) -> list[str]:
        """The module-level import statements, as written."""
        if self._imports is None:
            self._imports = [
                self.code(stmt)
                for stmt in self.module.body
                if isinstance(stmt, cst.SimpleStatementLine)
                and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)
            ]
        return self._imports


def _finding(code: str, display: str, message: str, suggestion: str, line: int | None = None) -> Finding:
    return Finding(
        code=code,
        severity=CODES[code].severity,
        message=message,
        suggestion=suggestion,
        file=display,
        line=line,
    )


def might_contain_dag(path: Path) -> bool:
    """Airflow's safe-mode test: a file that mentions neither "dag" nor "airflow" is never a DAG file."""
    try:
        raw = path.read_bytes().lower()
    except OSError:
        return True
    return b"dag" in raw and b"airflow" in raw


def check_file(path: Path, display: str) -> Finding | None:
    """Only the parse-failure findings of ``path``, with Python's fast C parser (no LibCST tree)."""
    raw, problem = _read(path, display)
    if problem is not None or raw is None:
        return problem
    text, problem = _decode(raw, display)
    if text is None:
        return problem
    if not text.strip() and path.name != "__init__.py":
        return _finding(codes.EMPTY_FILE, display, f"{display}: empty file", CODES[codes.EMPTY_FILE].help)
    return _python_tree(text, display, limit=False)[1]


def _read(path: Path, display: str) -> tuple[bytes | None, Finding | None]:
    try:
        return path.read_bytes(), None
    except OSError as exc:
        return None, _finding(
            codes.UNREADABLE,
            display,
            f"{display}: cannot read file: {exc.strerror}",
            "Check the file's permissions or exclude it from the scan.",
        )


def _syntax_finding(text: str, display: str, line: int | None, message: str) -> Finding:
    hint = (
        "This looks like Python 2 code (print statement / old except syntax); port it to Python 3."
        if _looks_like_python2(text)
        else "Fix the syntax error; Airflow cannot import this file either."
    )
    where = f"{display}:{line}" if line else display
    return _finding(codes.UNPARSABLE, display, f"{where}: syntax error: {message}", hint, line)


def _too_nested(display: str, line: int | None, detail: str) -> Finding:
    where = f"{display}:{line}" if line else display
    return _finding(TOO_NESTED, display, f"{where}: {detail}; the file was not analysed", CODES[TOO_NESTED].help, line)


def _python_tree(text: str, display: str, limit: bool = True) -> tuple[ast.Module | None, Finding | None]:
    """CPython's tree of ``text`` (bounded and iterative: safe on any input), or the finding that stops the
    file; ``limit`` also checks the nesting LibCST can take."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        if "too many nested" in exc.msg or "too complex" in exc.msg:
            return None, _too_nested(display, exc.lineno, exc.msg)
        return None, _syntax_finding(text, display, exc.lineno, exc.msg)
    except (RecursionError, MemoryError):
        return None, _too_nested(display, None, "too deeply nested for Python's parser")
    except ValueError as exc:  # source code string cannot contain null bytes (caught earlier), and the like
        return None, _syntax_finding(text, display, None, str(exc))
    depth, line = nesting(tree, text) if limit else (0, None)
    if depth > MAX_NESTING:
        return None, _too_nested(display, line, f"nested more than {MAX_NESTING} levels deep")
    return tree, None


def _newer_syntax(text: str, problem: Finding | None) -> bool:
    """Whether a file this Python's parser rejects may be newer syntax LibCST reads (3.12's ``type``
    statements and f-strings, on 3.10/3.11), and is shallow enough for LibCST to try safely: no
    line holds more than :data:`MAX_NESTING` open brackets, ``and``/``or`` or string pieces."""
    if sys.version_info >= (3, 12) or problem is None or problem.code != codes.UNPARSABLE:
        return False
    depth = pieces = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth -= 1
            elif token.type == tokenize.STRING or token.string in ("and", "or"):
                pieces += 1
            elif token.type == tokenize.NEWLINE:
                pieces = 0
            if depth > MAX_NESTING or pieces > MAX_NESTING:
                return False
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return False
    return True


def parse_file(path: Path, display: str) -> tuple[SourceFile | None, Finding | None]:
    """Parse ``path``; a file that cannot be read or parsed, or that nests too deep, gives a finding instead.

    CPython's parser reads it first: what it rejects never reaches LibCST (whose native parser
    can crash the process on deep nesting), and its tree gives the line table.
    """
    raw, problem = _read(path, display)
    if raw is None:
        return None, problem
    text, problem = _decode(raw, display)
    if text is None:
        return None, problem
    tree, problem = _python_tree(text, display)
    if tree is None and not _newer_syntax(text, problem):
        return None, problem
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:  # CPython's message, when it had one, is the clearer
        return None, problem or _syntax_finding(text, display, exc.raw_line, exc.message)
    except (RecursionError, MemoryError):
        return None, _too_nested(display, None, "too deeply nested to parse")
    source = SourceFile(display=display, path=path, text=text, module=module)
    try:
        if tree is None:  # syntax newer than this Python's parser: count lines the slow way
            raise _Mismatch
        _LineMap(source).walk(module.body, tree.body)
    except (_Mismatch, RecursionError):  # the two parsers disagree: count lines the slow way
        log.debug("%s: statement map fell back to code generation", display)
        source.spans.clear()
        source.roots.clear()
        source.def_lines.clear()
        state = _LineState(module)
        try:
            module._codegen(state)
        except RecursionError:
            return None, _too_nested(display, None, "too deeply nested to analyse")
        source.spans.update(state.spans)
    return source, None


class _Mismatch(Exception):
    """LibCST and ast disagree about the statement structure."""


_PAIRS: dict[type, tuple[type, ...]] = {
    cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,),
    cst.TryStar: (ast.TryStar,) if hasattr(ast, "TryStar") else (),
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.Match: (ast.Match,) if hasattr(ast, "Match") else (),
}


class _LineMap:
    """Fills a SourceFile's line table by walking LibCST and ast statements side by side."""

    def __init__(self, source: SourceFile) -> None:
        self.spans = source.spans
        self.roots = source.roots
        self.def_lines = source.def_lines

    def walk(self, body: Any, nodes: list[ast.stmt]) -> None:
        index = 0
        for stmt in body:
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                first = None
                for small in stmt.body:
                    if index >= len(nodes):
                        raise _Mismatch()
                    node = nodes[index]
                    index += 1
                    first = first or node
                    self.spans[id(small)] = [node.lineno, node.end_lineno or node.lineno]
                    self.roots[id(small)] = node.lineno
                if first is not None:
                    self.spans[id(stmt)] = [first.lineno, node.end_lineno or node.lineno]
            else:
                if index >= len(nodes):
                    raise _Mismatch()
                self.compound(stmt, nodes[index])
                index += 1
        if index != len(nodes):
            raise _Mismatch()

    def suite(self, suite: Any, nodes: list[ast.stmt]) -> None:
        self.walk(suite.body if isinstance(suite, cst.IndentedBlock) else [suite], nodes)

    def compound(self, stmt: cst.CSTNode, node: ast.stmt) -> None:
        if not isinstance(node, _PAIRS.get(type(stmt), ())):
            raise _Mismatch()
        start = node.lineno
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            decorators = node.decorator_list  # type: ignore[attr-defined]
            if len(decorators) != len(stmt.decorators):
                raise _Mismatch()
            for decorator, expr in zip(stmt.decorators, decorators):
                self.roots[id(decorator.decorator)] = expr.lineno
                self.spans[id(decorator)] = [expr.lineno, expr.end_lineno or expr.lineno]
            self.def_lines[id(stmt)] = node.lineno
            start = min([node.lineno, *(d.lineno for d in decorators)])
        self.spans[id(stmt)] = [start, node.end_lineno or node.lineno]
        if isinstance(stmt, cst.If):
            self.roots[id(stmt.test)] = node.test.lineno  # type: ignore[attr-defined]
            self.suite(stmt.body, node.body)
            if isinstance(stmt.orelse, cst.If):
                if len(node.orelse) != 1:  # type: ignore[attr-defined]
                    raise _Mismatch()
                self.compound(stmt.orelse, node.orelse[0])  # type: ignore[attr-defined]
            elif isinstance(stmt.orelse, cst.Else):
                self.suite(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
        elif isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                self.roots[id(stmt.iter)] = node.iter.lineno  # type: ignore[attr-defined]
                self.roots[id(stmt.target)] = node.target.lineno  # type: ignore[attr-defined]
            else:
                self.roots[id(stmt.test)] = node.test.lineno  # type: ignore[attr-defined]
            self.suite(stmt.body, node.body)
            if stmt.orelse is not None:
                self.suite(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
        elif isinstance(stmt, cst.With):
            for item, ast_item in zip(stmt.items, node.items):  # type: ignore[attr-defined]
                self.roots[id(item)] = ast_item.context_expr.lineno
            self.suite(stmt.body, node.body)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self.suite(stmt.body, node.body)
            if len(stmt.handlers) != len(node.handlers):  # type: ignore[attr-defined]
                raise _Mismatch()
            for handler, ast_handler in zip(stmt.handlers, node.handlers):  # type: ignore[attr-defined]
                self.suite(handler.body, ast_handler.body)
            if stmt.orelse is not None:
                self.suite(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
            if stmt.finalbody is not None:
                self.suite(stmt.finalbody.body, node.finalbody)  # type: ignore[attr-defined]
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.suite(stmt.body, node.body)


def _decode(raw: bytes, display: str) -> tuple[str | None, Finding | None]:
    if b"\x00" in raw:
        return None, _finding(
            codes.UNREADABLE,
            display,
            f"{display}: binary file (NUL bytes), not Python source",
            "Exclude binary files from the scanned folder.",
        )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, _finding(
            codes.UNREADABLE,
            display,
            f"{display}: not UTF-8 text (byte {exc.start}: {exc.reason})",
            "Re-encode the file as UTF-8 (Python 3's default source encoding).",
        )


def _looks_like_python2(text: str) -> bool:
    return bool(re.search(r"^\s*print\s+[^(\s=]|^\s*except\s+\w+\s*,\s*\w+\s*:|^\s*exec\s+[\"']", text, re.M))


def descendants(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node`` and every node below it, without recursion (deep expressions stay safe)."""
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.children)
    return found
