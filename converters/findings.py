"""Findings: what the converter could not do faithfully, where, and what to do about it.

A finding is attached to its file (and DAG, and task when it touches one) and never
raised: the run goes on and the report shows it. Codes are stable; each module that
emits findings declares its codes in :data:`CODES` through :func:`register_code`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

__all__ = ["Severity", "Finding", "FindingCode", "CODES", "register_code"]


class Severity(str, Enum):
    """How much a finding matters; ordered info < warning < error."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, kw_only=True)
class FindingCode:
    """A stable finding code with its default severity and help text (for SARIF and docs)."""

    code: str
    severity: Severity
    title: str
    help: str


CODES: dict[str, FindingCode] = {}


def register_code(code: str, severity: Severity, title: str, help: str) -> FindingCode:
    """Declare a finding code once; declaring the same code twice differently is a bug."""
    entry = FindingCode(code=code, severity=severity, title=title, help=help)
    existing = CODES.get(code)
    if existing is not None and existing != entry:
        raise ValueError(f"finding code {code} declared twice with different texts")
    CODES[code] = entry
    return entry


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing a person must know about the conversion of a file, DAG or task."""

    code: str
    severity: Severity
    message: str
    suggestion: str
    file: str
    line: int | None = None
    dag_id: str | None = None
    task_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Finding":
        return cls(**{**data, "severity": Severity(data["severity"])})

    def location(self) -> str:
        """``file:line`` as editors and terminals link it."""
        return f"{self.file}:{self.line}" if self.line else self.file
