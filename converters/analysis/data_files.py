"""Data files a DAG file reads when Airflow parses it: YAML and JSON configuration in the repository.

Configuration-driven repositories build their tasks from a file beside the DAGs
(``yaml.safe_load(open(Path(__file__).parent / "config" / "x.yaml"))``, ``json.loads(path.read_text())``).
Reading data is not running user code: when the path is known and lies inside the scanned folders
or the root, the analyzer reads the file (at most :data:`MAX_BYTES`) and parses it as data only
(YAML's safe loader, JSON), and the values flow on like literals. A file elsewhere, too large, or
holding anything but plain data (YAML tags, dates) stays unknown, as before: never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from af2kfp.converters.analysis.model import Ref
from af2kfp.converters.analysis.safe_ops import UNKNOWN

__all__ = ["DataFiles", "FileObj", "MAX_BYTES"]

MAX_BYTES = 2_000_000
# yaml.load(f, Loader=...) with these loaders gives the same plain data as the safe loader.
_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "FullLoader", "CFullLoader", "Loader", "CLoader",
                      "UnsafeLoader"})


@dataclass(frozen=True)
class FileObj:
    """A file of the repository opened for reading (``open(path)``, ``path.open()``)."""

    path: Path


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON-like data only (what a literal in the DAG file could be)."""
    if depth > 50:
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v, depth + 1) for k, v in value.items())
    return False


class DataFiles:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: reading the repository's data files."""

    roots: list[tuple[Path, str]]

    def data_file(self, value: Any) -> Path | None:
        """The repository file ``value`` (a path as the DAG file computed it) names, if it may be read."""
        if not isinstance(value, (str, PurePosixPath)) or not str(value):
            return None
        text = str(value)
        for root, display in self.roots:  # paths built from __file__ start with the display prefix
            if display not in ("", ".") and (text == display or text.startswith(display.rstrip("/") + "/")):
                text = str(root / text[len(display):].lstrip("/"))
                break
        try:
            path = Path(text).resolve()
        except (OSError, RuntimeError):
            return None
        inside = any(path == root or root in path.parents for root, _ in self.roots)
        try:
            return path if inside and path.is_file() and path.stat().st_size <= MAX_BYTES else None
        except OSError:
            return None

    def open_file(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``open(path)`` / ``open(path, "r")`` of a repository file: a :class:`FileObj`; else unknown."""
        mode = kwargs.get("mode", args[1] if len(args) > 1 else "r")
        path = self.data_file(kwargs.get("file", args[0] if args else None))
        if path is None or not isinstance(mode, str) or set(mode) - set("rt"):
            return UNKNOWN
        return FileObj(path=path)

    def file_text(self, source: Any) -> Any:
        """The text of a :class:`FileObj` or of a repository path; unknown when it cannot be read as UTF-8."""
        path = source.path if isinstance(source, FileObj) else self.data_file(source)
        if path is None:
            return UNKNOWN
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return UNKNOWN

    def load_data(self, kind: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``yaml.safe_load``/``yaml.load``/``json.load`` of an opened repository file (or YAML text)."""
        if not args:
            return UNKNOWN
        loader = kwargs.get("Loader")
        if kind == "yaml" and loader is not None and not (
                isinstance(loader, Ref) and loader.qualname.rsplit(".", 1)[-1] in _LOADERS):
            return UNKNOWN
        text = args[0] if isinstance(args[0], str) and kind == "yaml" else (
            self.file_text(args[0]) if isinstance(args[0], FileObj) else UNKNOWN)
        if not isinstance(text, str):
            return UNKNOWN
        try:
            data = yaml.safe_load(text) if kind == "yaml" else json.loads(text)
        except (yaml.YAMLError, ValueError, RecursionError):
            return UNKNOWN
        return data if _plain(data) else UNKNOWN

    def path_method(self, receiver: PurePosixPath, name: str) -> Any:
        """``path.read_text()``, ``path.open()``, ``path.exists()`` of a repository path; else unknown."""
        if name == "read_text":
            return self.file_text(receiver)
        if name == "open":
            path = self.data_file(receiver)
            return FileObj(path=path) if path is not None else UNKNOWN
        if name in ("exists", "is_file") and self.data_file(receiver) is not None:
            return True
        return UNKNOWN
