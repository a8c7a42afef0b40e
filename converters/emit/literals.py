"""Python source for plain data: the only way user values enter the emitted module."""

from __future__ import annotations

from typing import Any

from af2kfp.converters.emit.layout import value
from af2kfp.converters.text import UNSAFE, visible

__all__ = ["literal", "comment_text", "docstring"]


def literal(item: Any) -> str:
    """Source text of a JSON-like value on one line, quoted as black quotes it."""
    return value(item).flat()


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment: line breaks, other controls and bidi marks written as escapes."""
    return visible(text)


def docstring(*lines: str) -> str:
    """A triple-quoted docstring of ``lines``, or a plain literal when one cannot be written safely."""
    if any('"""' in line or "\\" in line or UNSAFE.search(line) for line in lines) or lines[-1].endswith('"'):
        return literal("\n".join(lines))
    body = "\n".join(lines)
    return f'"""{body}\n"""' if len(lines) > 1 else f'"""{body}"""'
