"""Reading and parsing one Python file with LibCST, plus a cheap line table.

LibCST's ``PositionProvider`` costs about two parses; the analyzer only needs the lines
of calls, definitions and statements, which one code-generation pass with a counting
state gives for a fraction of that.
"""

from __future__ import annotations

import ast
import contextlib
import re
import textwrap

from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst._nodes.internal import CodegenState

from converters.analysis import codes
from converters.findings import Finding, Severity

__all__ = ["SourceFile", "parse_file", "check_file", "might_contain_dag", "LINE_TYPES"]

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


class _LineState(CodegenState):
    """Code generation that only counts lines and records spans of :data:`LINE_TYPES`."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
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
            # Statements end with their newline token: the last line is the one before it.
            end = self.line - 1 if not isinstance(node, cst.Call) else self.line
            span[1] = max(span[0], end)


@dataclass
class SourceFile:
    """A parsed file: its display path, resolved path, module and line spans by node id."""

    display: str
    path: Path
    text: str
    module: cst.Module
    spans: dict[int, list[int]] = field(default_factory=dict)
    _codes: dict[int, str] = field(default_factory=dict)
    _imports: list[str] | None = None

    def line(self, node: cst.CSTNode | None) -> int | None:
        span = self.spans.get(id(node)) if node is not None else None
        return span[0] if span else None

    def end_line(self, node: cst.CSTNode | None) -> int | None:
        span = self.spans.get(id(node)) if node is not None else None
        return span[1] if span else None

    def code(self, node: cst.CSTNode) -> str:
        """Source text of ``node`` (cached: code generation is the costly part of LibCST)."""
        text = self._codes.get(id(node))
        if text is None:
            text = self._codes[id(node)] = self.module.code_for_node(node).strip()
        return text

    def def_source(self, node: cst.FunctionDef) -> str:
        """The ``def`` as written, decorators removed: sliced from the text (code generation is slow)."""
        end = self.end_line(node)
        start = self.line(node)
        if node.decorators:
            start = self.end_line(node.decorators[-1])
            start = start + 1 + len(node.lines_after_decorators) if start is not None else None
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
        severity=codes_severity(code),
        message=message,
        suggestion=suggestion,
        file=display,
        line=line,
    )


def codes_severity(code: str) -> Severity:
    from converters.findings import CODES

    return CODES[code].severity


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
    try:
        ast.parse(text)
    except SyntaxError as exc:
        return _syntax_finding(text, display, exc.lineno, exc.msg)
    except (ValueError, RecursionError, MemoryError):
        return _syntax_finding(text, display, None, "cannot be parsed")
    return None


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


def parse_file(path: Path, display: str) -> tuple[SourceFile | None, Finding | None]:
    """Parse ``path``; a file that cannot be read or parsed gives a finding instead."""
    raw, problem = _read(path, display)
    if raw is None:
        return None, problem
    text, problem = _decode(raw, display)
    if text is None:
        return None, problem
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        try:  # CPython's parser names the line and the problem better ("Missing parentheses in call to 'print'")
            ast.parse(text)
        except SyntaxError as precise:
            return None, _syntax_finding(text, display, precise.lineno, precise.msg)
        except (ValueError, RecursionError, MemoryError):
            pass
        return None, _syntax_finding(text, display, exc.raw_line, exc.message)
    except (RecursionError, MemoryError):
        return None, _finding(
            codes.UNPARSABLE, display, f"{display}: too deeply nested to parse", "Simplify the file's nesting."
        )
    state = _LineState(module)
    module._codegen(state)
    return SourceFile(display=display, path=path, text=text, module=module, spans=state.spans), None


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
