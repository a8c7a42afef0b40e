"""``.airflowignore`` as Airflow reads it: files it skips, we skip.

Airflow's ``[core] dag_ignore_file_syntax`` chooses the syntax: ``glob`` (Airflow 3's
default) or ``regexp`` (Airflow 2's default). Both follow Airflow 3.3's
``airflow._shared.module_loading.file_discovery`` rule for rule:

- **glob**: each line is a gitignore pattern, matched by pathspec (``GitWildMatchPattern``,
  the class Airflow uses); a pattern with a ``/`` at its start or middle is relative to
  its ignore file's folder, others match a file or folder name at any depth; a trailing
  ``/`` matches folders only; later patterns win, so ``!`` re-includes.
- **regexp**: each line is a regular expression searched in the path relative to the
  scanned folder; any match ignores (no negation).

Ignore files of a folder apply to everything below it. Invalid patterns are skipped, as
Airflow skips them (it logs a warning). The analyzer also skips caches and virtualenvs.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["python_files", "SYNTAXES", "IGNORE_FILE"]

log = logging.getLogger(__name__)

IGNORE_FILE = ".airflowignore"
SYNTAXES = ("glob", "regexp")
_SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", "node_modules", ".tox", ".mypy_cache"}


def _wildmatch(pattern: str) -> Any:
    """pathspec's gitwildmatch pattern: ``GitIgnoreSpecPattern`` in pathspec 1.x, which
    ``GitWildMatchPattern`` (what Airflow names, deprecated) is; ``GitWildMatchPattern`` before."""
    try:
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern
    except ImportError:  # pathspec < 1.0
        from pathspec.patterns import GitWildMatchPattern as GitIgnoreSpecPattern
    return GitIgnoreSpecPattern(pattern)


@dataclass(frozen=True)
class _Glob:
    pattern: Any
    relative_to: Path | None
    dir_only: bool


@dataclass(frozen=True)
class _Regexp:
    pattern: re.Pattern[str]
    base: Path


def _glob(pattern: str, base: Path, ignore_file: Path) -> _Glob | None:
    if pattern.strip() == "/":  # matches nothing in gitignore
        return None
    relative_to = ignore_file.parent if pattern.startswith("/") or "/" in pattern.rstrip("/") else None
    raw = pattern.lstrip("!")
    try:
        compiled = _wildmatch(pattern)
    except Exception as exc:  # noqa: BLE001 - pathspec's error types differ between versions
        log.warning("%s: skipping invalid pattern %r: %s", ignore_file, pattern, exc)
        return None
    return _Glob(compiled, relative_to, raw.rstrip() != raw.rstrip().rstrip("/"))


def _regexp(pattern: str, base: Path, ignore_file: Path) -> _Regexp | None:
    try:
        return _Regexp(re.compile(pattern), base)
    except re.error as exc:
        log.warning("%s: skipping invalid regexp %r: %s", ignore_file, pattern, exc)
        return None


def _glob_ignored(path: Path, is_dir: bool, rules: list[Any]) -> bool:
    matched = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        relative = path.relative_to(rule.relative_to).as_posix() if rule.relative_to else path.name
        candidate = f"{relative}/" if is_dir else relative
        if rule.pattern.include is not None and rule.pattern.match_file(candidate) is not None:
            matched = rule.pattern.include
    return bool(matched)


def _regexp_ignored(path: Path, is_dir: bool, rules: list[Any]) -> bool:
    return any(rule.pattern.search(str(path.relative_to(rule.base))) is not None for rule in rules)


_SYNTAX: dict[str, tuple[Callable[[str, Path, Path], Any], Callable[[Path, bool, list[Any]], bool]]] = {
    "glob": (_glob, _glob_ignored),
    "regexp": (_regexp, _regexp_ignored),
}


def _rules(ignore_file: Path, base: Path, compile_rule: Callable[[str, Path, Path], Any]) -> list[Any]:
    try:
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return []
    patterns = [re.sub(r"\s*#.*", "", line) for line in lines]
    return [rule for rule in (compile_rule(p, base, ignore_file) for p in patterns if p) if rule is not None]


def python_files(folder: Path, syntax: str = "glob") -> list[Path]:
    """Every ``.py`` file under ``folder`` that Airflow's ``.airflowignore`` rules keep, sorted.

    ``syntax``: ``glob`` or ``regexp``, Airflow's ``[core] dag_ignore_file_syntax``.
    """
    if syntax not in _SYNTAX:
        raise ValueError(f"ignore syntax {syntax!r}; expected one of {', '.join(SYNTAXES)}")
    compile_rule, ignored = _SYNTAX[syntax]
    found: list[Path] = []
    inherited: dict[str, list[Any]] = {str(folder): []}
    walked: set[Path] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):  # Airflow follows links too
        here = Path(root)
        if here.resolve() in walked:  # a link back up: Airflow stops with an error, we skip it
            dirs[:] = []
            continue
        walked.add(here.resolve())
        rules = list(inherited.get(root, []))
        if IGNORE_FILE in files and (here / IGNORE_FILE).is_file():
            rules += _rules(here / IGNORE_FILE, folder, compile_rule)
        dirs[:] = sorted(
            d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".") and not ignored(here / d, True, rules)
        )
        for name in dirs:
            inherited[os.path.join(root, name)] = rules
        found.extend(here / f for f in files if f.endswith(".py") and not ignored(here / f, False, rules))
    return sorted(found)
