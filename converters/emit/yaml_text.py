"""Write JSON-like documents exactly as ``yaml.dump_all(docs, sort_keys=True)`` writes them, faster.

kfp writes ``pipeline.yaml`` with PyYAML's pure-Python emitter, which cost about a third of
compiling. libyaml's emitter folds long quoted strings differently, so it cannot stand in.
This writer knows only what a compiled pipeline spec holds (mappings with string keys,
lists, strings, numbers, booleans, ``None``) and follows PyYAML's default style rules:
block collections (empty ones as ``{}``/``[]``), lists under a key not indented, plain
scalars when they read back as the same string, else single quotes, else double quotes
with escapes; long scalars folded at column 80 as PyYAML folds them. Anything else returns
``None`` and the caller uses PyYAML. A test compares the bytes with kfp's own writer.
"""

from __future__ import annotations

import functools
from typing import Any

from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

__all__ = ["dump_all"]

WIDTH = 80
STR_TAG = "tag:yaml.org,2002:str"
_BREAKS = "\n\x85\u2028\u2029"
_SPACE_OR_BREAK = "\0 \t\r\n\x85\u2028\u2029"
_ESCAPES = {
    "\0": "0", "\x07": "a", "\x08": "b", "\x09": "t", "\x0a": "n", "\x0b": "v", "\x0c": "f", "\x0d": "r",
    "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P",
}
_RESOLVER = Resolver()
_CACHED = 4096  # keys, names, values and kfp's install command repeat across specs; bounded memory


class _Unsupported(Exception):
    """A value this writer does not write; PyYAML does."""


def _plain_resolves_to(text: str, tag: str) -> bool:
    """Does the plain scalar ``text`` read back with ``tag`` (a string stays a string, not a bool or date)?"""
    return _cached_resolve(text, tag) if len(text) < _CACHED else _RESOLVER.resolve(ScalarNode, text, (True, False)) == tag


@functools.lru_cache(maxsize=2048)
def _cached_resolve(text: str, tag: str) -> bool:
    return _RESOLVER.resolve(ScalarNode, text, (True, False)) == tag


def _styles(text: str) -> tuple[bool, bool, bool]:
    """``(multiline, plain allowed in block context, single quotes allowed)`` for ``text``."""
    return _cached_styles(text) if len(text) < _CACHED else _analyze(text)


@functools.lru_cache(maxsize=2048)
def _cached_styles(text: str) -> tuple[bool, bool, bool]:
    return _analyze(text)


def _analyze(text: str) -> tuple[bool, bool, bool]:
    if not text:
        return False, True, True
    block_indicators = text.startswith(("---", "..."))
    line_breaks = special = False
    leading = trailing = break_space = space_break = False
    previous_space = previous_break = False
    size = len(text)
    for index, ch in enumerate(text):
        before = index == 0 or text[index - 1] in _SPACE_OR_BREAK
        after = index + 1 >= size or text[index + 1] in _SPACE_OR_BREAK
        if index == 0:
            if ch in "#,[]{}&*!|>'\"%@`" or (ch in "?:-" and after):
                block_indicators = True
        elif (ch == ":" and after) or (ch == "#" and before):
            block_indicators = True
        if ch in _BREAKS:
            line_breaks = True
        if not (ch == "\n" or "\x20" <= ch <= "\x7e"):
            special = True  # PyYAML's default: no unicode in output, so every other character is escaped
        if ch == " ":
            leading |= index == 0
            trailing |= index == size - 1
            break_space |= previous_break
            previous_space, previous_break = True, False
        elif ch in _BREAKS:
            leading |= index == 0
            trailing |= index == size - 1
            space_break |= previous_space
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
    plain = not (leading or trailing or break_space or space_break or special or line_breaks or block_indicators)
    single = not (break_space or space_break or special)
    return line_breaks, plain, single


class _Writer:
    """The column and whitespace state PyYAML's emitter keeps, for block-style output."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.indent: int | None = None

    def write(self, data: str) -> None:
        self.out.append(data)
        self.column += len(data)

    def indicator(self, text: str, need_whitespace: bool, whitespace: bool = False, indention: bool = False) -> None:
        self.write(text if self.whitespace or not need_whitespace else " " + text)
        self.whitespace = whitespace
        self.indention = self.indention and indention

    def line_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.whitespace = self.indention = True

    def write_indent(self) -> None:
        indent = self.indent or 0
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.line_break()
        if self.column < indent:
            self.whitespace = True
            self.write(" " * (indent - self.column))

    def node(self, item: Any, *, mapping: bool = False, simple_key: bool = False) -> None:
        if isinstance(item, dict):
            self.mapping(item)
        elif isinstance(item, list):
            self.sequence(item, indentless=mapping and not self.indention)
        else:
            self.scalar(item, simple_key)

    def mapping(self, item: dict) -> None:
        if not item:
            self.indicator("{", True, whitespace=True)
            self.indicator("}", False)
            return
        saved = self.indent
        self.indent = 0 if saved is None else saved + 2
        for key in sorted(item):
            if not isinstance(key, str):
                raise _Unsupported(key)
            self.write_indent()
            multiline = _styles(key)[0]
            if key and not multiline and len(key) + len("!!str") < 128:  # PyYAML counts the (unwritten) tag
                self.node(key, mapping=True, simple_key=True)
                self.indicator(":", False)
            else:
                self.indicator("?", True, indention=True)
                self.node(key, mapping=True)
                self.write_indent()
                self.indicator(":", True, indention=True)
            self.node(item[key], mapping=True)
        self.indent = saved

    def sequence(self, item: list, indentless: bool) -> None:
        if not item:
            self.indicator("[", True, whitespace=True)
            self.indicator("]", False)
            return
        saved = self.indent
        self.indent = 0 if saved is None else saved if indentless else saved + 2
        for value in item:
            self.write_indent()
            self.indicator("-", True, indention=True)
            self.node(value)
        self.indent = saved

    def scalar(self, item: Any, simple_key: bool) -> None:
        saved = self.indent
        self.indent = 2 if saved is None else saved + 2
        if item is None or isinstance(item, (bool, int, float)):
            text, tag = _number_text(item)
            if not _plain_resolves_to(text, tag):
                raise _Unsupported(item)
            self.plain(text, split=not simple_key)
        elif isinstance(item, str):
            multiline, plain, single = _styles(item)
            if plain and _plain_resolves_to(item, STR_TAG) and not (simple_key and (not item or multiline)):
                self.plain(item, split=not simple_key)
            elif single and not (simple_key and multiline):
                self.single_quoted(item, split=not simple_key)
            else:
                self.double_quoted(item, split=not simple_key)
        else:
            raise _Unsupported(item)
        self.indent = saved

    def plain(self, text: str, split: bool) -> None:
        if not text:
            return
        if not self.whitespace:
            self.write(" ")
        self.whitespace = self.indention = False
        if self.column + len(text) <= WIDTH:  # no space can come past the width: nothing to fold
            self.write(text)
            return
        start = 0
        for end, word in _runs(text):
            if text[start] == " ":
                if end - start == 1 and self.column > WIDTH and split:
                    self.write_indent()
                    self.whitespace = self.indention = False
                else:
                    self.write(text[start:end])
            else:
                self.write(word)
            start = end

    def single_quoted(self, text: str, split: bool) -> None:
        self.indicator("'", True)
        quoted = text.replace("'", "''")
        if "\n" not in text and self.column + len(quoted) <= WIDTH:  # nothing to fold
            self.write(quoted)
            self.indicator("'", False)
            return
        spaces = breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch != " ":
                    if start + 1 == end and self.column > WIDTH and split and start != 0 and end != len(text):
                        self.write_indent()
                    else:
                        self.write(text[start:end])
                    start = end
            elif breaks:
                if ch is None or ch not in _BREAKS:
                    if text[start] == "\n":
                        self.line_break()
                    for br in text[start:end]:
                        if br != "\n":
                            raise _Unsupported(br)
                        self.line_break()
                    self.write_indent()
                    start = end
            elif ch is None or ch in " " + _BREAKS or ch == "'":
                if start < end:
                    self.write(text[start:end])
                    start = end
            if ch == "'":
                self.write("''")
                start = end + 1
            if ch is not None:
                spaces, breaks = ch == " ", ch in _BREAKS
            end += 1
        self.indicator("'", False)

    def double_quoted(self, text: str, split: bool) -> None:
        self.indicator('"', True)
        start = end = 0
        size = len(text)
        while end <= size:
            ch = text[end] if end < size else None
            if ch is None or ch in '"\\\x85\u2028\u2029\ufeff' or not "\x20" <= ch <= "\x7e":
                if start < end:
                    self.write(text[start:end])
                    start = end
                if ch is not None:
                    self.write("\\" + _escape(ch))
                    start = end + 1
            if 0 < end < size - 1 and (ch == " " or start >= end) and self.column + (end - start) > WIDTH and split:
                data = text[start:end] + "\\"
                if start < end:
                    start = end
                self.write(data)
                self.write_indent()
                self.whitespace = self.indention = False
                if text[start] == " ":
                    self.write("\\")
            end += 1
        self.indicator('"', False)


def _runs(text: str) -> list[tuple[int, str]]:
    """``(end, run)`` for each run of spaces or of other characters (plain scalars have no breaks)."""
    runs, start = [], 0
    for index in range(1, len(text) + 1):
        if index == len(text) or (text[index] == " ") != (text[start] == " "):
            runs.append((index, text[start:index]))
            start = index
    return runs


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return f"x{code:02X}" if code <= 0xFF else f"u{code:04X}" if code <= 0xFFFF else f"U{code:08X}"


def _number_text(item: Any) -> tuple[str, str]:
    """PyYAML's representer text and tag for ``None``, booleans, integers and floats."""
    if item is None:
        return "null", "tag:yaml.org,2002:null"
    if isinstance(item, bool):
        return ("true" if item else "false"), "tag:yaml.org,2002:bool"
    if isinstance(item, int):
        return str(item), "tag:yaml.org,2002:int"
    if item != item:
        text = ".nan"
    elif item in (float("inf"), float("-inf")):
        text = ".inf" if item > 0 else "-.inf"
    else:
        text = repr(item).lower()
        text = text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
    return text, "tag:yaml.org,2002:float"


def _containers(item: Any, seen: set[int]) -> None:
    """PyYAML writes a list or dict met twice as an anchor and alias: leave those to it."""
    if isinstance(item, (dict, list)):
        if id(item) in seen:
            raise _Unsupported(item)
        seen.add(id(item))
        for value in item.values() if isinstance(item, dict) else item:
            _containers(value, seen)


def dump_all(documents: list[Any]) -> str | None:
    """``yaml.dump_all(documents, sort_keys=True)``'s text, or ``None`` when PyYAML must write it."""
    writer = _Writer()
    try:
        for index, document in enumerate(documents):
            _containers(document, set())
            if index:
                writer.write_indent()
                writer.indicator("---", True)
            writer.node(document)
            writer.write_indent()
    except _Unsupported:
        return None
    return "".join(writer.out)
