"""Lines of the DAG files and generated ``pipeline.py`` files a report points at.

``report.json`` names DAG files as the analyzer displayed them (relative to where the
conversion ran) and generated files relative to its own folder. Each file is read once;
a file that is gone or unreadable yields ``None`` and the report says the source is
not available instead of failing.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import yaml

from af2kfp.converters.emit.spec_tasks import group_list, spec_tasks
from af2kfp.converters.mappings.values import is_secret_name

__all__ = ["Sources", "Excerpt", "excerpt", "kfp_groups", "redact", "secret_env_names"]

log = logging.getLogger(__name__)

Excerpt = tuple[int, list[str]]  # first line number (1-based), the lines
REDACTED = "<redacted by af2kfp>"
# A password-like name (as report.json redacts them) given a string literal: `api_key="..."`, `"DB_PASSWORD": '...'`.
_SECRET_LITERAL = re.compile(
    r"""((?<![\w])["']?\w*?(?:password|passwd|token|api_?key|private_key|secret_key|access_key|credentials?)["']?\s*[=:]\s*"""
    r"""[rbuRBU]?)(["'])(.*?)(?<!\\)\2""", re.I)


class Sources:
    """Reads DAG files (relative to ``source_root``, then the report's folder) and generated files."""

    def __init__(self, report_dir: Path, source_root: Path | None = None) -> None:
        self.report_dir = Path(report_dir)
        self.roots = [Path(source_root) if source_root else Path.cwd(), self.report_dir, self.report_dir.parent]
        self._cache: dict[Path, list[str] | None] = {}

    def _read(self, path: Path) -> list[str] | None:
        if path not in self._cache:
            try:
                self._cache[path] = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                log.debug("cannot read %s", path)
                self._cache[path] = None
        return self._cache[path]

    def dag_file(self, name: str) -> list[str] | None:
        """Lines of a DAG file as named in the report, or ``None`` when it cannot be found."""
        path = Path(name)
        candidates = [path] if path.is_absolute() else [root / path for root in self.roots]
        for candidate in candidates:
            if candidate.is_file():
                return self._read(candidate)
        return None

    def generated(self, relative: str | None) -> list[str] | None:
        """Lines of a generated file (path relative to the report's folder)."""
        return self._read(self.report_dir / relative) if relative else None

    def generated_text(self, relative: str | None) -> str | None:
        lines = self.generated(relative)
        return "\n".join(lines) if lines is not None else None

    def generated_json(self, relative: str | None) -> dict[str, Any] | None:
        """A generated JSON object (``schedule.json``), ``None`` when absent or not a JSON object."""
        text = self.generated_text(relative)
        try:
            data = json.loads(text) if text is not None else None
        except json.JSONDecodeError:
            log.debug("%s is not JSON", relative)
            return None
        return data if isinstance(data, dict) else None


def secret_env_names(args: dict[str, Any]) -> frozenset[str]:
    """Secret-looking variable names (:func:`af2kfp.converters.mappings.values.is_secret_name`) of a task's
    ``environment``/``env_vars``/``env`` in report.json's graph: dict keys and ``V1EnvVar`` names."""
    names: set[str] = set()
    for key in ("environment", "env_vars", "env"):
        value = args.get(key)
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if isinstance(entry, dict) and "$call" in entry:
                call_args, kwargs = entry.get("args") or [], entry.get("kwargs") or {}
                name = kwargs.get("name", call_args[0] if call_args else None)
                names.update([name] if isinstance(name, str) else [])
            elif isinstance(entry, dict):
                names.update(k for k in entry if isinstance(k, str))
    return frozenset(n for n in names if is_secret_name(n))


def redact(line: str, keys: frozenset[str] = frozenset()) -> str:
    """``line`` with string literals of password-like names, and of ``keys`` (a task's
    ``private_environment`` and secret-looking environment names), replaced: source excerpts must not
    carry secret values. A key's value follows it as ``"KEY": "v"`` or ``V1EnvVar(name="KEY", value="v")``."""
    line = _SECRET_LITERAL.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", line)
    for key in keys:
        pattern = re.compile(
            rf"""(["']{re.escape(key)}["']\s*(?::|,\s*(?:value\s*=\s*)?)\s*[rbuRBU]?)(["'])(.*?)(?<!\\)\2""")
        line = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", line)
    return line


def excerpt(lines: list[str] | None, first: int | None, last: int | None, limit: int) -> Excerpt | None:
    """Lines ``first..last`` (1-based, inclusive), at most ``limit`` of them."""
    if not lines or not first:
        return None
    last = max(first, last or first)
    chunk = lines[first - 1:min(last, first - 1 + limit)]
    return (first, chunk) if chunk else None


def kfp_groups(compiled_yaml: str | None) -> dict[str, tuple[tuple[str, str], ...]]:
    """KFP task key -> the control-flow groups (If, ParallelFor, ExitHandler, sub-pipeline) around it,
    outermost first, each as ``(id, label)``: the id (group task names joined by ``/``) tells groups
    apart, the label says what the group does. Read from the compiled pipeline
    (:func:`af2kfp.converters.emit.spec_tasks.spec_tasks`)."""
    if not compiled_yaml:
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        spec: Any = next(iter(yaml.load_all(compiled_yaml, Loader=loader)), None) or {}
    except yaml.YAMLError:
        return {}
    if not isinstance(spec, dict):
        return {}
    return {t.key: tuple(group_list(t)) for t in spec_tasks(spec)}
