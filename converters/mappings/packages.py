"""A Python task's imports -> the pip packages its component installs, or why they cannot be.

Airflow runs a callable in the worker's environment, where its imports were installed;
a KFP lightweight component runs on ``python_base_image`` plus ``packages_to_install``.
Each imported module is looked up, longest dotted prefix first, in the user's
``[tool.af2kfp.packages]`` and then in the built-in table (``packages.toml`` beside this
module): a distribution to install, or ``False``/``""`` for "the base image has it".
The standard library needs nothing; a module of the user's own repository (the analyzer
found it next to the DAG) and a module no table knows are not satisfied: the caller
reports them (``M261``, ``M260``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Resolved", "builtin_table", "resolve_modules", "requirement_name"]

_TABLE = Path(__file__).with_name("packages.toml")


@lru_cache(maxsize=1)
def builtin_table() -> dict[str, str | None]:
    """Import name -> distribution (``None``: provided), read once from ``packages.toml``."""
    with _TABLE.open("rb") as handle:
        data = tomllib.load(handle)
    return {name: value or None for name, value in data.items()}


def requirement_name(requirement: str) -> str:
    """The normalised project name of a pip requirement (``Foo_Bar[x]>=1`` -> ``foo-bar``)."""
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Resolved:
    """What the imports need: ``packages`` to install (first-seen order, each once), and the
    modules that are not satisfied: ``local`` (the user's repository), ``unknown`` (no table)."""

    packages: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _lookup(module: str, tables: tuple[Mapping[str, str | None], ...]) -> tuple[bool, str | None]:
    """``(found, distribution)`` for the longest dotted prefix of ``module`` in the first table holding one.

    ``distribution`` ``None``: found, and provided by the base image."""
    parts = module.split(".")
    for table in tables:
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if prefix in table:
                return True, table[prefix]
    return False, None


def resolve_modules(modules: Iterable[str], *, user: Mapping[str, str | bool], local: Iterable[str] = (),
                    requirements: Iterable[str] = ()) -> Resolved:
    """Sort imported ``modules`` (dotted, absolute; relative ones start with ``.``) into packages and problems.

    ``user``: ``[tool.af2kfp.packages]`` (wins over everything, local modules included);
    ``local``: modules the analyzer found in the repository; ``requirements``: what the task
    installs itself (``@task.virtualenv``): a module named like one of them is satisfied, and
    the table never adds a second requirement for the same project.
    """
    own = {name: (value or None) if not isinstance(value, bool) else None for name, value in user.items()}
    local_set = set(local)
    required = {requirement_name(r) for r in requirements}
    out = Resolved()
    for module in dict.fromkeys(modules):
        if module.startswith("."):  # a relative import: always the repository's
            out.local.append(module)
            continue
        top = module.split(".")[0]
        if not top or top == "__future__" or top in sys.stdlib_module_names and not _lookup(module, (own,))[0]:
            continue
        found, distribution = _lookup(module, (own,))
        if not found and module in local_set:
            out.local.append(module)  # Airflow puts the DAG folder first on sys.path: the repository's wins
            continue
        if not found:
            found, distribution = _lookup(module, (builtin_table(),))
        if found and distribution is not None:
            if requirement_name(distribution) not in required and distribution not in out.packages:
                out.packages.append(distribution)
        elif not found and requirement_name(top) not in required:
            out.unknown.append(module)
    return out
