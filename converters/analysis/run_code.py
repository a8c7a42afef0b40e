"""What a run method's code does, read from its syntax: calls, raises, settings, logging, Jinja literals.

The walker of :mod:`af2kfp.converters.analysis.overrides` evaluates what a repository operator's ``execute``
does before it calls the parent's; what comes after (or around) that call is not evaluated but said,
precisely: :func:`describe` names the calls it makes, the attributes it sets on other objects and the
exceptions it raises, with the lines, and leaves out code that only logs or computes local values.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import libcst as cst

__all__ = [
    "LOGGING", "nodes", "callee", "is_logging", "exception", "skips", "calls_method", "leaves", "names_read",
    "writes_jinja", "value_call", "body", "else_body", "jinja_text", "listed", "benign", "describe",
    "template_fields",
]

LOGGING = re.compile(
    r"^(?:print|(?:.*\.)?(?:log|logger|logging|_log|_logger|LOG|LOGGER|LOGGING)"
    r"\.(?:debug|info|warning|warn|error|exception|critical|log))$"
)
_MAX_LISTED = 6
_EMPTY = cst.Module(body=[])
# What was read from a node, by its id and the question (each entry holds the node, so the id stays its own):
# the same method is walked for every task of its class, and walking a node's children is LibCST's slow part.
_MEMO: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_MEMO_SIZE = 20_000


def _memo(key: tuple[Any, ...], held: Any, compute: Any) -> Any:
    found = _MEMO.get(key)
    if found is None:
        if len(_MEMO) > _MEMO_SIZE:
            _MEMO.clear()  # another conversion's code: the memo only spares work within one
        found = _MEMO[key] = (held, compute())
    return found[1]


def nodes(node: cst.CSTNode, skip_logging: bool = False) -> Iterator[tuple[cst.CSTNode, bool]]:
    """Every node under ``node`` with whether an ``if``/``except`` encloses it (a ``def`` is not entered)."""
    stack: list[tuple[cst.CSTNode, bool]] = [(node, False)]
    while stack:
        current, conditional = stack.pop()
        yield current, conditional
        if isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and current is not node:
            continue
        if skip_logging and isinstance(current, cst.Call) and is_logging(current):
            continue
        inner = conditional or isinstance(current, (cst.If, cst.IfExp, cst.ExceptHandler))
        stack.extend((child, inner) for child in reversed(current.children))


def callee(call: cst.Call) -> str:
    """The called expression as written, on one line."""
    return _memo(("callee", id(call)), call, lambda: " ".join(_EMPTY.code_for_node(call.func).split()))


def is_logging(call: cst.Call) -> bool:
    return bool(LOGGING.match(callee(call)))


def exception(node: cst.Raise) -> str:
    """The class a ``raise`` raises, ``""`` for a bare ``raise``."""
    exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
    if isinstance(exc, cst.Attribute):
        return exc.attr.value
    return exc.value if isinstance(exc, cst.Name) else ("" if exc is None else "an exception")


def skips(name: str) -> bool:
    """``AirflowSkipException`` (any module's): Airflow marks the task skipped, not failed."""
    return name.endswith("SkipException")


def calls_method(node: cst.CSTNode, name: str) -> bool:
    """Whether ``node`` holds a call of a method called ``name`` (the parent's, in the overrides walked)."""
    return _memo(("calls", id(node), name), node, lambda: any(
        isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == name
        for n, _ in nodes(node)))


def leaves(node: cst.CSTNode) -> bool:
    """Whether ``node`` holds a ``raise`` or a ``return``."""
    return _memo(("leaves", id(node)), node, lambda: any(isinstance(n, (cst.Raise, cst.Return)) for n, _ in nodes(node)))


def names_read(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The names and attribute chains an expression reads (``self.skip``, ``skip``, ``DEV``...)."""
    return _memo(("names", id(node)), node, lambda: [n for n, _ in nodes(node) if isinstance(n, (cst.Name, cst.Attribute))])


def writes_jinja(node: cst.CSTNode) -> bool:
    """Whether a statement holds a string literal with Jinja in it (see :func:`jinja_text`)."""
    return _memo(("jinja", id(node)), node, lambda: any(jinja_text(n) for n, _ in nodes(node)))


def template_fields(node: cst.ClassDef) -> set[str]:
    """The names a class body lists in ``template_fields`` (``Parent.template_fields + ("batch_id",)``): the
    attributes Airflow renders before ``execute``. Only the literals: a parent's own are its parameters."""
    def read() -> set[str]:
        found: set[str] = set()
        for stmt in node.body.body:
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                targets = ([t.target for t in small.targets] if isinstance(small, cst.Assign)
                           else [small.target] if isinstance(small, cst.AnnAssign) and small.value is not None else [])
                if any(isinstance(t, cst.Name) and t.value == "template_fields" for t in targets):
                    found.update(n.evaluated_value for n, _ in nodes(small.value)
                                 if isinstance(n, cst.SimpleString) and isinstance(n.evaluated_value, str))
        return found

    return _memo(("template_fields", id(node)), node, read)


def value_call(small: cst.BaseSmallStatement) -> cst.Call | None:
    """The call an expression statement, ``return`` or assignment is made of, if it is one."""
    value = small.value if isinstance(small, (cst.Expr, cst.Return, cst.Assign, cst.AnnAssign)) else None
    return value if isinstance(value, cst.Call) else None


def body(node: cst.If) -> list[cst.CSTNode]:
    return list(node.body.body)


def else_body(node: cst.If) -> list[cst.CSTNode]:
    """The ``else`` statements, or the ``elif`` as one ``if``; empty without either."""
    if isinstance(node.orelse, cst.If):
        return [node.orelse]
    return list(node.orelse.body.body) if isinstance(node.orelse, cst.Else) else []


def jinja_text(node: cst.CSTNode) -> bool:
    """A string literal holding Jinja: in ``execute`` Airflow has rendered the templates already."""
    if isinstance(node, cst.SimpleString):
        text = node.value
    elif isinstance(node, cst.FormattedStringText):
        text = node.value.replace("{{", "{").replace("}}", "}")
    else:
        return False
    return "{{" in text or "{%" in text


def listed(items: list[str]) -> str:
    """``a, b, c and 4 more``: each once, the first few."""
    unique = list(dict.fromkeys(items))
    shown = ", ".join(unique[:_MAX_LISTED])
    return shown + (f" and {len(unique) - _MAX_LISTED} more" if len(unique) > _MAX_LISTED else "")


def benign(node: cst.CSTNode) -> bool:
    """Only logs, returns or computes local values: nothing the KFP task misses."""
    for child, _ in nodes(node, skip_logging=True):
        if isinstance(child, cst.Call) and not is_logging(child):
            return False
        if isinstance(child, (cst.Raise, cst.Del, cst.With, cst.While, cst.Global)):
            return False
        if isinstance(child, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)) and not isinstance(
                child.target, cst.Name):
            return False
    return True


def describe(items: list[tuple[Any, cst.CSTNode]]) -> tuple[str, str] | None:
    """What statements (each with its SourceFile) do and where: ``("calls `x` and raises Y", "f.py:3-9")``;
    ``None`` when they only log, return or compute local values."""
    return _memo(("describe", *(id(node) for _, node in items)), items, lambda: _description(items))


def _description(items: list[tuple[Any, cst.CSTNode]]) -> tuple[str, str] | None:
    calls: list[str] = []
    sets: list[str] = []
    raises: list[str] = []
    conditional = found = False
    spans: dict[str, list[int]] = {}
    for source, node in items:
        if benign(node):
            continue
        found = True
        span = source.span(node)
        if span is not None:
            lines = spans.setdefault(source.display, list(span))
            lines[0], lines[1] = min(lines[0], span[0]), max(lines[1], span[1])
        raised: set[int] = set()  # ``raise AirflowFailException(...)``: a raise, not a call
        for child, inside in nodes(node, skip_logging=True):
            if isinstance(child, cst.Call) and not is_logging(child) and id(child) not in raised:
                calls.append(f"`{callee(child)}`")
            elif isinstance(child, (cst.AssignTarget, cst.AugAssign)) and isinstance(
                    child.target, (cst.Attribute, cst.Subscript)):
                text = " ".join(source.code(child.target).split())
                if not text.startswith("self."):
                    sets.append(f"`{text}`")
            elif isinstance(child, cst.Raise):
                raised.add(id(child.exc))
                raises.append(exception(child))
                conditional = conditional or inside
    if not found:
        return None
    parts = [f"calls {listed(calls)}"] if calls else []
    if sets:
        parts.append(f"sets {listed(sets)}")
    if raises:
        named = [r for r in dict.fromkeys(raises) if r]
        text = f"raises {' or '.join(named)}" if named else "re-raises the error"
        parts.append(text + (" under a condition" if conditional else ""))
    where = ", ".join(f"{file}:{a}-{b}" if a != b else f"{file}:{a}" for file, (a, b) in spans.items())
    return (" and ".join(parts) if parts else "runs more code"), where
