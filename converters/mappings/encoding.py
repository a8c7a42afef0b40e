"""Values carried as JSON: encoded where the producer returns, decoded where the consumer starts.

A callable's body is kept as the user wrote it; only its top-level ``return`` statements
change (nested functions, classes and lambdas keep theirs), so the code still reads as
theirs: ``return rows`` becomes ``return json.dumps(rows)``, and a parameter that arrives
as JSON text is turned back into the value on the first line after the moved imports.
See :mod:`~af2kfp.converters.mappings.pytypes` for when a value travels this way.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass

import libcst as cst

from af2kfp.converters.mappings.pytypes import INT_ITEMS, JSON, JSON_ITEMS, decode_source

__all__ = ["Outputs", "encode_returns", "decode_parameters", "output_names"]


@dataclass(frozen=True)
class Outputs:
    """How the component hands on its return value.

    ``carrier``: :data:`JSON` (``json.dumps(value)``) or :data:`JSON_ITEMS` (one JSON text per
    item); ``keys``: ``multiple_outputs``, ``(key, output name, carrier)`` per XCom key read
    downstream, then ``return_value`` (a tuple of outputs built by a helper named ``helper``).
    """

    carrier: str = JSON
    keys: tuple[tuple[str, str, str], ...] = ()
    helper: str = "multiple_outputs"


def output_names(keys: list[str], taken: set[str]) -> dict[str, str]:
    """A KFP output name per XCom key: the key when it is a plain identifier, else a cleaned one.

    NamedTuple field names cannot start with ``_`` or be keywords; ``return_value`` is Airflow's.
    """
    names: dict[str, str] = {}
    used = set(taken) | {"return_value"}
    for key in keys:
        name = re.sub(r"\W", "_", key).strip("_") or "key"
        if name[0].isdigit() or keyword.iskeyword(name):
            name = f"key_{name}"
        while name in used:
            name += "_"
        used.add(name)
        names[key] = name
    return names


_WIDTH = 88  # black's line length: a wrapped return that no longer fits is split as black splits it


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _encoded(value: cst.BaseExpression | None, outputs: Outputs, indent: int = 4) -> cst.BaseExpression:
    """``value`` wrapped as ``outputs`` says, on one line when it fits at ``indent``, else split as black splits it."""
    text = _code(value) if value is not None else "None"
    if isinstance(value, (cst.Tuple, cst.IfExp, cst.Lambda, cst.NamedExpr)) and not value.lpar:
        text = f"({text})"  # ``return a, b`` is one argument; ``for item in a if b else c`` needs them too
    if outputs.keys:
        head, tail = f"{outputs.helper}(", ")"
    elif outputs.carrier == JSON_ITEMS:
        head, tail = "[json.dumps(item) for item in ", "]"
    else:
        head, tail = "json.dumps(", ")"
    one_line = head + text + tail
    if "\n" not in text and indent + len("return ") + len(one_line) <= _WIDTH:
        candidate = one_line
    elif outputs.carrier == JSON_ITEMS and not outputs.keys:
        candidate = f"[\n    json.dumps(item)\n    for item in {text.replace(chr(10), chr(10) + '    ')}\n]"
    else:
        candidate = f"{head}\n    {text.replace(chr(10), chr(10) + '    ')}\n{tail}"
    try:
        return cst.parse_expression(candidate)
    except cst.ParserSyntaxError:  # an expression only valid in parentheses here (``yield``...)
        return cst.parse_expression(f"{head}({text}){tail}")


class _Returns(cst.CSTTransformer):
    """Wrap each ``return`` of the outermost function (nested scopes keep theirs)."""

    def __init__(self, outputs: Outputs, indent: int) -> None:
        self.outputs = outputs
        self.depth = 0
        self.blocks = 0
        self.indent = indent

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        return updated

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks += 1

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        self.blocks -= 1
        return updated

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return any(isinstance(s, cst.Return) for s in node.body)  # expressions elsewhere hold no return

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        return updated.with_changes(value=_encoded(updated.value, self.outputs, self.blocks * self.indent),
                                    whitespace_after_return=cst.SimpleWhitespace(" "))


def _helper(outputs: Outputs) -> cst.BaseStatement:
    """``def multiple_outputs(value)``: Airflow pushes each key as its own XCom, and the whole dict."""
    items = [f"value[{json.dumps(key)}]" if carrier != JSON else f"json.dumps(value.get({json.dumps(key)}))"
             for key, _, carrier in outputs.keys]
    items.append("json.dumps(value)")
    returned = ", ".join(items)
    if len(returned) > 60:  # one per line, as black would lay out the tuple
        returned = "(\n" + "".join(f"        {item},\n" for item in items) + "    )"
    source = f"def {outputs.helper}(value):\n    return {returned}\n"
    comment = "# multiple_outputs: Airflow pushes each key read downstream as its own XCom, and the whole dict"
    return cst.parse_statement(source).with_changes(
        leading_lines=[cst.EmptyLine(indent=False), cst.EmptyLine(indent=True, comment=cst.Comment(comment))])


def _docstring(body: list[cst.BaseStatement]) -> int:
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1 and isinstance(first.body[0], cst.Expr):
        value = first.body[0].value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            return 1
    return 0


def _body(fn: cst.FunctionDef) -> list[cst.BaseStatement]:
    if isinstance(fn.body, cst.IndentedBlock):
        return list(fn.body.body)
    return [cst.SimpleStatementLine(body=list(fn.body.body))]


def encode_returns(module: cst.Module, outputs: Outputs, falls_through: bool) -> cst.Module:
    """The module's function with its returns encoded (a final one added when it can fall through)."""
    fn = next(n for n in module.body if isinstance(n, cst.FunctionDef))
    indent = len(module.default_indent.expandtabs())
    new = cst.ensure_type(fn.visit(_Returns(outputs, indent)), cst.FunctionDef)
    body = _body(new)
    if falls_through:
        body.append(cst.SimpleStatementLine(body=[cst.Return(value=_encoded(None, outputs, indent))]))
    if outputs.keys:
        at = _docstring(body)
        body.insert(at, _helper(outputs))
        if at + 1 < len(body):
            body[at + 1] = body[at + 1].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    new = new.with_changes(body=cst.IndentedBlock(body=body))
    return module.with_changes(body=[new if n is fn else n for n in module.body])


def decode_parameters(module: cst.Module, carriers: list[tuple[str, str]]) -> cst.Module:
    """The module's function with ``name = json.loads(name)``-style lines first (after its docstring)."""
    lines = [source for name, carrier in carriers if (source := decode_source(name, carrier))]
    if not lines:
        return module
    fn = next(n for n in module.body if isinstance(n, cst.FunctionDef))
    body = _body(fn)
    at = _docstring(body)
    statements = [cst.parse_statement(line + "\n") for line in lines]
    comment = ("# KFP collects integers as floats: back to what Airflow passes"
               if all(c == INT_ITEMS for _, c in carriers if decode_source(_, c)) else
               "# Values that travel as JSON text, decoded back to what Airflow passes")
    statements[0] = statements[0].with_changes(leading_lines=[cst.EmptyLine(indent=True, comment=cst.Comment(comment))])
    if at < len(body) and not body[at].leading_lines:
        body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    new = fn.with_changes(body=cst.IndentedBlock(body=body[:at] + statements + body[at:]))
    return module.with_changes(body=[new if n is fn else n for n in module.body])
