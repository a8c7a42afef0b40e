"""Which local names a callable knows an Airflow name by: the Airflow shims (``Variable``,
``get_current_context``) replace what was imported, under whatever alias it was imported as."""

from __future__ import annotations

import ast
from typing import Callable

__all__ = ["imported_as"]


def imported_as(imports: list[str], source: str, name: str, from_module: Callable[[str], bool]) -> frozenset[str]:
    """The names ``name`` is imported as (``from M import name [as alias]`` with ``from_module(M)``),
    in the module-level import lines the callable uses and in the callable's own source."""
    names: set[str] = set()
    for text in [*imports, source]:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and from_module(node.module or ""):
                names |= {alias.asname or alias.name for alias in node.names if alias.name == name}
    return frozenset(names)
