"""Skip a conversion whose inputs have not changed since its output folder was written.

After a conversion, ``OUT/.af2kfp-cache.json`` records one digest of everything the
conversion read (every scanned DAG file's path and content, every helper module the
analyzer ran, the configuration as parsed, the converter's own version and source) and a
digest of every file it wrote. The next conversion into the same folder recomputes the
input digest from the recorded list of helper modules first: when nothing changed and the
outputs are still as written, it returns the ``report.json`` on disk and analyzes,
compiles and rewrites nothing.

Granularity is the whole conversion: a changed DAG file, helper module or option converts
everything again (per-DAG reuse is not built yet). Only digests are stored, never values.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from af2kfp.converters.config import Config
from af2kfp.converters.files import write_text_atomic

__all__ = ["CACHE_NAME", "Hit", "lookup", "store", "tool_fingerprint"]

log = logging.getLogger(__name__)
CACHE_NAME = ".af2kfp-cache.json"
_FORMAT = 1
_TOOL: str | None = None


@dataclass(frozen=True)
class Hit:
    """An unchanged conversion: its report as written, and how many DAGs it holds."""

    report: dict[str, Any]
    dags: int


def tool_fingerprint() -> str:
    """The installed version and a digest of the converter's own files (an edited checkout is a new tool)."""
    global _TOOL
    if _TOOL is None:
        from af2kfp import __version__ as version

        digest = hashlib.sha256(version.encode())
        package = Path(__file__).resolve().parent
        for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".json")):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
        _TOOL = f"{version}:{digest.hexdigest()}"
    return _TOOL


def _scanned(paths: Iterable[Path], config: Config) -> list[Path]:
    from af2kfp.converters.analysis.ignore import python_files

    found: list[Path] = []
    for given in paths:
        found += python_files(given, config.ignore_syntax) if given.is_dir() else [given]
    return sorted({p.resolve() for p in found})


def _digest(paths: list[Path], config: Config, helpers: Iterable[str]) -> str | None:
    """One digest of all inputs; ``None`` when a recorded helper module is gone (not a cache hit)."""
    digest = hashlib.sha256(f"{_FORMAT}\0{tool_fingerprint()}\0{config!r}\0".encode())
    for given in paths:
        digest.update(f"arg:{given.as_posix()}\0".encode())
    files = _scanned(paths, config)
    for path in [*files, *(Path(h) for h in sorted(set(helpers) - {str(f) for f in files}))]:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest.update(f"{path}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def _outputs(out_dir: Path) -> dict[str, str]:
    return {p.relative_to(out_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out_dir.rglob("*")) if p.is_file() and p.name != CACHE_NAME}


def lookup(paths: list[Path], out_dir: Path, config: Config) -> Hit | None:
    """The recorded conversion when its inputs and outputs are unchanged, else ``None``."""
    try:
        record = json.loads((out_dir / CACHE_NAME).read_text(encoding="utf-8"))
        if record.get("format") != _FORMAT:
            return None
        key = _digest(paths, config, record["helpers"])
        if key is None or key != record["key"] or _outputs(out_dir) != record["outputs"]:
            return None
        report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.debug("no cache hit in %s: %s", out_dir, exc)
        return None
    return Hit(report=report, dags=len(report.get("dags", [])))


def store(paths: list[Path], out_dir: Path, config: Config, helpers: Iterable[str]) -> None:
    """Record the conversion just written into ``out_dir``."""
    helpers = sorted(set(helpers))
    key = _digest(paths, config, helpers)
    if key is None:
        return
    record = {"format": _FORMAT, "key": key, "helpers": helpers, "outputs": _outputs(out_dir)}
    write_text_atomic(out_dir / CACHE_NAME, json.dumps(record, indent=1) + "\n")
