"""Writing one DAG's files under the output folder, so that no DAG can fail the run or lose a user's edit.

Folder names come from dag ids, which may be empty, long, odd or named like the run's
reports: they are sanitised, capped with a hash of the id, and kept away from ``report.*``.
``convert`` records the SHA-256 of every file it writes (``report.json``'s ``written``). On
the next run a ``pipeline.py`` (the code the user keeps) whose content no longer has the
recorded hash (edited by hand, or not written by convert) is kept, and the DAG's new files go
beside it as ``pipeline.generated.py`` / ``pipeline.generated.yaml``, with a finding, unless
``force``. Derived files (``pipeline.yaml`` next to an unchanged ``pipeline.py``,
``schedule.json``) are always rewritten.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from af2kfp.converters.files import write_text_atomic
from af2kfp.converters.findings import Severity, register_code

__all__ = ["MAX_FOLDER", "folder_name", "digest", "generated_name", "Writer", "KEPT_EDITED", "NOT_WRITTEN"]

MAX_FOLDER = 80  # characters of a folder name (ASCII after sanitising; file systems allow 255 bytes)
_RESERVED = re.compile(r"^report(\.|$)", re.IGNORECASE)  # report.json, report.html, report.md, ...

KEPT_EDITED = register_code(
    "E313", Severity.WARNING, "Output file edited since af2kfp wrote it: kept",
    "pipeline.py differs from what the last `af2kfp convert` wrote there (edited by hand, or not written by "
    "af2kfp), so it was kept and the new output written beside it as pipeline.generated.py (and "
    "pipeline.generated.yaml). Merge what you need from the generated file, or rerun with --force to overwrite.",
).code
NOT_WRITTEN = register_code(
    "E309", Severity.ERROR, "Output could not be written",
    "Writing this DAG's files failed (see the message); the other DAGs were written. Check the output "
    "folder's permissions and free space.",
).code


def folder_name(dag_id: str, taken: set[str]) -> str:
    """A folder name for ``dag_id``: ``[A-Za-z0-9._-]`` only, at most :data:`MAX_FOLDER` characters (a hash
    of the id ends a shortened one), never ``report.*`` or hidden, unique in ``taken`` (case-insensitive)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", dag_id).strip(".") or "dag"
    if _RESERVED.match(base):
        base = f"dag_{base}"
    if len(base) > MAX_FOLDER:
        tag = hashlib.sha256(dag_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        base = f"{base[:MAX_FOLDER - 11].rstrip('.')}-{tag}"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name.lower())
    return name


def digest(text: str) -> str:
    """The recorded hash of a written file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Writer:
    """Writes files under ``root`` and remembers their hashes; ``previous`` is the last run's record."""

    root: Path
    previous: dict[str, str] = field(default_factory=dict)
    force: bool = False
    written: dict[str, str] = field(default_factory=dict)

    def keep_edited(self, relative: str, text: str) -> tuple[str, bool]:
        """Write ``text`` at ``relative``, or beside it when a user's file is there: the path written,
        relative to ``root``, and whether a user's file was kept."""
        kept = not self.force and self._foreign(self.root / relative, relative, text)
        if kept:
            relative = generated_name(relative)
        self.put(relative, text)
        return relative, kept

    def put(self, relative: str, text: str) -> str:
        """Write ``text`` at ``relative`` (a file convert owns) and record its hash."""
        write_text_atomic(self.root / relative, text)
        self.written[relative] = digest(text)
        return relative

    def remove(self, relative: str) -> None:
        """Remove a file a previous run wrote that this run does not (a stale ``pipeline.yaml``)."""
        (self.root / relative).unlink(missing_ok=True)

    def _foreign(self, path: Path, relative: str, text: str) -> bool:
        """A file is there that convert did not write as it is now (and that is not already ``text``)."""
        if not path.is_file():
            return False
        try:
            current = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return True
        if current == text:
            return False
        recorded = self.previous.get(relative)
        return recorded is None or digest(current) != recorded


def generated_name(relative: str) -> str:
    """``pipeline.py`` -> ``pipeline.generated.py``."""
    stem, dot, ext = relative.rpartition(".")
    return f"{stem}.generated.{ext}" if dot and "/" not in ext else f"{relative}.generated"
