"""User text made visible: characters that break lines or reorder what a reader sees, written as escapes.

Task ids, defaults and messages come from the DAG files. Where they land in a comment, a YAML
header, a report or a terminal line, a line break would start a new line of code or a new YAML
document, and a bidirectional control (U+202E, "Trojan Source") would show text in an order
other than the one a parser reads. :func:`visible` turns every such character into its
``\\xNN`` / ``\\uXXXX`` escape, so the text is shown exactly as it is.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE", "visible"]

# C0/C1 controls and DEL, line and paragraph separators, bidirectional marks, embeddings, overrides
# and isolates, the zero-width no-break space, and lone surrogates (which no UTF-8 file can hold).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff"
                    "\ud800-\udfff]")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every :data:`UNSAFE` character written as its escape (a cheap no-op on plain text)."""
    return UNSAFE.sub(_escape, text) if UNSAFE.search(text) else text
