"""``.airflowignore`` as Airflow 3 reads it (glob syntax, the default): files it skips, we skip.

A subset of gitignore's wildmatch: ``*``, ``**``, ``?``, ``[...]``, ``!`` negation, a trailing
``/`` for folders only, and patterns with a ``/`` anchored at the ignore file's folder
(others match a file or folder name at any depth). Later patterns win, as in Airflow.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["python_files"]

IGNORE_FILE = ".airflowignore"
_SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", "node_modules", ".tox", ".mypy_cache"}


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool
    anchor: Path | None  # None: matched against the bare name


def _translate(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i):
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _rules(ignore_file: Path) -> list[_Rule]:
    try:
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return []
    rules = []
    for line in lines:
        pattern = re.sub(r"\s*#.*", "", line).strip()
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        if not pattern or pattern == "/":
            continue
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        anchored = "/" in pattern
        pattern = pattern.lstrip("/")
        rules.append(
            _Rule(re.compile(_translate(pattern) + r"\Z"), negated, dir_only, ignore_file.parent if anchored else None)
        )
    return rules


def _ignored(path: Path, is_dir: bool, rules: list[_Rule]) -> bool:
    ignored = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.anchor is None:
            candidate = path.name
        else:
            try:
                candidate = path.relative_to(rule.anchor).as_posix()
            except ValueError:
                continue
        if rule.regex.match(candidate):
            ignored = not rule.negated
    return ignored


def python_files(folder: Path) -> list[Path]:
    """Every ``.py`` file under ``folder`` that Airflow's ``.airflowignore`` rules keep, sorted."""
    found: list[Path] = []
    inherited: dict[str, list[_Rule]] = {str(folder): []}
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        rules = list(inherited.get(root, []))
        if IGNORE_FILE in files:
            rules += _rules(here / IGNORE_FILE)
        dirs[:] = sorted(
            d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".") and not _ignored(here / d, True, rules)
        )
        for name in dirs:
            inherited[os.path.join(root, name)] = rules
        found.extend(here / f for f in files if f.endswith(".py") and not _ignored(here / f, False, rules))
    return sorted(found)
