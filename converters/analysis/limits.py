"""Limits a file must stay within before LibCST parses it and the analyzer walks it.

LibCST builds and walks its tree recursively: about 1,000 levels raise ``RecursionError``
and longer ``and``/``or`` chains or implicit string concatenations (flat for CPython's
``ast``, nested for LibCST) crash its native parser outright, which no ``except`` can
catch. CPython's own parser (iterative, bounded) runs first; the depth of its tree,
counting each operand of a boolean chain and each part of a concatenated string as a
level as LibCST does, is checked against :data:`MAX_NESTING`.
"""

from __future__ import annotations

import ast
import io
import time
import tokenize

from af2kfp.converters.findings import Severity, register_code

__all__ = ["MAX_NESTING", "FILE_SECONDS", "nesting", "Deadline", "TOO_NESTED", "TIME_LIMIT"]

MAX_NESTING = 100  # generous: real DAG files stay under 30
STRING_PIECES_PER_LEVEL = 5  # a 500-piece implicitly joined string counts as 100 levels
FILE_SECONDS = 20.0  # analysis CPU time of one scanned file, its helper modules included

TOO_NESTED = register_code(
    "E307", Severity.ERROR, "File too deeply nested to analyse",
    f"An expression nests more than {MAX_NESTING} levels deep (brackets, calls, operators, a chain of `and`/`or` "
    "or of implicitly concatenated strings); the file was not analysed and its DAGs are missing. Split the "
    "expression (intermediate variables, a list joined at run time); the other files were converted.",
).code
TIME_LIMIT = register_code(
    "E308", Severity.ERROR, "Analysis time budget spent",
    f"Analysing this file (its helper modules included) took more than {FILE_SECONDS:g} s of computation, so the "
    "analyzer stopped at the given line; DAGs and tasks after it may be missing. Simplify the loops or computations "
    "that run when the file is parsed, or split the file.",
).code


def _segment(node: ast.AST, text_lines: list[str], first: int, last: int) -> str:
    """The node's own source text: its columns only (others on its lines, e.g. the list around it, are not it)."""
    start, end = getattr(node, "col_offset", 0) or 0, getattr(node, "end_col_offset", None)
    picked = [line.encode("utf-8", "surrogatepass") for line in text_lines[first - 1:last]]
    if not picked:
        return ""
    if end is not None:  # ast columns are UTF-8 byte offsets
        picked[-1] = picked[-1][:end]
    picked[0] = picked[0][start:]
    return "\n".join(part.decode("utf-8", "replace") for part in picked)


def _string_parts(node: ast.AST, text_lines: list[str]) -> int:
    """How many literals an (implicitly concatenated) string is made of: LibCST nests one level per part."""
    first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0) or 0
    if not first or last - first > 10 * STRING_PIECES_PER_LEVEL * MAX_NESTING:
        return 1 if not first else STRING_PIECES_PER_LEVEL * MAX_NESTING + 2
    segment = _segment(node, text_lines, first, last)
    if segment.count('"') + segment.count("'") <= 2 * STRING_PIECES_PER_LEVEL * MAX_NESTING:
        return 1  # each part has two quotes at least: too few to matter
    try:
        tokens = tokenize.generate_tokens(io.StringIO(segment).readline)
        return sum(1 for t in tokens if t.type == tokenize.STRING)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return STRING_PIECES_PER_LEVEL * MAX_NESTING + 2


def _chained(node: ast.AST, child: ast.AST) -> bool:
    """``child`` continues ``node``'s dependency chain (``a >> b >> c``: the left operand, itself a shift)."""
    return (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.RShift, ast.LShift)) and child is node.left
            and isinstance(child, ast.BinOp) and isinstance(child.op, (ast.RShift, ast.LShift)))


def nesting(tree: ast.Module, text: str) -> tuple[int, int | None]:
    """The deepest nesting of ``tree`` as LibCST will build it, and the line where it is."""
    lines = text.splitlines()
    deepest, where = 0, None
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
        elif isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            # LibCST parses thousands of pieces (a long SQL text over many lines) without crashing; its
            # recursion on them is caught: count them lightly so real files pass
            depth += (_string_parts(node, lines) - 1) // STRING_PIECES_PER_LEVEL
        if depth > deepest:
            deepest, where = depth, getattr(node, "lineno", where)
            if deepest > MAX_NESTING:
                break
        # the left spine of ``a >> b >> c ...`` is a chain LibCST parses and the analyzer walks in
        # loops (CPython's own parser caps its length): not nesting
        stack.extend((child, depth if _chained(node, child) else depth + 1) for child in ast.iter_child_nodes(node))
    return deepest, where


class Deadline:
    """A budget of the analysing thread's CPU time, cheap to check often (the clock is read every 256 checks).

    CPU time, not wall-clock time: the same file gives the same graph on a busy machine (a CI runner, a
    laptop compiling) as on an idle one; what the budget stops, a computation that does not end, is the same.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.thread_time() + seconds
        self._count = 0

    def passed(self) -> bool:
        self._count += 1
        return not self._count & 255 and time.thread_time() > self.end
