"""Lay out generated statements the way black does, without running black.

``af2kfp convert`` used to format each emitted module with black, which cost more than
compiling it. The generated code has few shapes (calls with keyword arguments, list and
dict literals, ``def`` signatures, one fluent chain per task), so this module splits them
at black's points: a line that fits stays whole; otherwise the last bracket pair is
opened, its contents hugged on one line when they fit (calls, signatures) and else one
item per line with a trailing comma (always one per line for a collection of several
items); a ``x = a(...).b(...).c(...)`` chain is wrapped in parentheses and split before
each dot. The tests check the output with black itself (samples, Airflow's examples,
randomised shapes).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Union

__all__ = ["LINE_LENGTH", "Atom", "Group", "Chain", "Node", "string", "number", "value", "layout", "split", "width"]

LINE_LENGTH = 88


@dataclass(frozen=True)
class Atom:
    """Source text that is never split (a name, a literal, ``task.output``)."""

    text: str

    def flat(self) -> str:
        return self.text


@dataclass(frozen=True)
class Group:
    """``head(items)``: a call (``kind="call"``), a ``def`` signature (``"def"``) or a
    list/dict literal (``"collection"``, empty ``head``). Items are
    ``(prefix, node)``: ``("image=", ...)``, ``('"key": ', ...)``, ``("", ...)``."""

    head: str
    items: tuple[tuple[str, "Node"], ...]
    kind: str = "call"
    brackets: str = "()"

    def flat(self) -> str:
        inner = ", ".join(prefix + node.flat() for prefix, node in self.items)
        return f"{self.head}{self.brackets[0]}{inner}{self.brackets[1]}"


@dataclass(frozen=True)
class Chain:
    """``base.trailer1(...).trailer2(...)``, assigned: each trailer is a :class:`Group` whose
    head starts with a dot. At least two trailers (black splits at dots only then)."""

    base: Group
    trailers: tuple[Group, ...] = field(default_factory=tuple)

    def flat(self) -> str:
        return self.base.flat() + "".join(t.flat() for t in self.trailers)


Node = Union[Atom, Group, Chain]


def width(text: str) -> int:
    """Columns ``text`` takes, counting wide East Asian characters twice (as black does)."""
    if text.isascii():
        return len(text)
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def string(text: str) -> str:
    """A string literal with black's quotes: double, unless that needs more backslashes."""
    source = repr(text)
    if source[0] == '"':
        return source
    body, out, i = source[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            pair = body[i:i + 2]
            out.append("'" if pair == "\\'" else pair)
            i += 2
            continue
        out.append('\\"' if char == '"' else char)
        i += 1
    new_body = "".join(out)
    if new_body.count("\\") > body.count("\\"):
        return source
    return f'"{new_body}"'


def number(item: int | float) -> str:
    """``repr`` of a number as black writes it (``1e+20`` -> ``1e20``)."""
    text = repr(item)
    if isinstance(item, float) and "e" in text:
        before, after = text.split("e")
        text = f"{before}e{after.lstrip('+')}"
    return text


def value(item: Any) -> Node:
    """The node of a plain-data value (str, int, float, bool, None, list or tuple, dict)."""
    if item is None or isinstance(item, bool):
        return Atom(repr(item))
    if isinstance(item, (int, float)):
        return Atom(number(item))
    if isinstance(item, str):
        return Atom(string(item))
    if isinstance(item, (list, tuple)):  # JSON has no tuples: both become lists
        return Group("", tuple(("", value(v)) for v in item), "collection", "[]")
    if isinstance(item, dict):
        return Group("", tuple((f"{string(str(k))}: ", value(v)) for k, v in item.items()), "collection", "{}")
    raise TypeError(f"not plain data: {item!r}")


def _fits(line: str) -> bool:
    return width(line) <= LINE_LENGTH


def _group(indent: int, prefix: str, node: Group, suffix: str) -> list[str]:
    pad, inner = " " * indent, indent + 4
    if not node.items:
        return [pad + prefix + node.flat() + suffix]
    head = f"{pad}{prefix}{node.head}{node.brackets[0]}"
    tail = f"{pad}{node.brackets[1]}{suffix}"
    if len(node.items) == 1:  # no comma to split at; a lone parameter gets black's trailing comma
        item_prefix, item = node.items[0]
        return [head, *layout(item, inner, item_prefix, "," if node.kind == "def" else ""), tail]
    hugged = " " * inner + ", ".join(p + n.flat() for p, n in node.items)
    if node.kind != "collection" and _fits(hugged):
        return [head, hugged, tail]
    body = [line for p, n in node.items for line in layout(n, inner, p, ",")]
    return [head, *body, tail]


def _chain(indent: int, prefix: str, node: Chain, suffix: str) -> list[str]:
    pad, inner = " " * indent, indent + 4
    whole = " " * inner + node.flat()
    if _fits(whole):
        body = [whole]
    else:
        body = layout(node.base, inner)
        for trailer in node.trailers:
            body += layout(trailer, inner)
    return [f"{pad}{prefix}(", *body, f"{pad}){suffix}"]


def layout(node: Node, indent: int = 0, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines of ``prefix + node + suffix`` at ``indent`` spaces, split where black splits them."""
    line = " " * indent + prefix + node.flat() + suffix
    if _fits(line) or isinstance(node, Atom):
        return [line]
    if isinstance(node, Chain):
        return _chain(indent, prefix, node, suffix)
    return _group(indent, prefix, node, suffix)


def split(node: Group, indent: int = 0, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines of ``node`` split at its brackets even when it fits (black's split of a ``def``'s
    parameters when its return annotation does not fit)."""
    return _group(indent, prefix, node, suffix)
