"""Where each DAG stands in the DAG-by-DAG migration, as the reports show it.

The migration state file (``af2kfp-migration.yaml``) is read by the command line
(``af2kfp.bridge.migration``), which hands the reports this plain view: each DAG's stage and its
last shadow comparison. A DAG with no entry is at stage ``airflow``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

__all__ = ["STAGES", "MigrationView", "shadow_summary"]

STAGES = ("airflow", "shadow", "kfp", "kfp-scheduled")
"""In order: Airflow runs the DAG; Airflow runs it and a shadow DAG runs the KFP pipeline
after it and compares; Airflow schedules it and KFP does the work; KFP's recurring run
schedules it (the Airflow DAG is gone)."""


def shadow_summary(shadow: Mapping[str, Any] | None) -> str:
    """The last shadow comparison in a few words (``verdict`` same/differs/incomplete,
    ``compared_at``, ``differences``), or ``-``."""
    if not shadow:
        return "-"
    verdict = str(shadow.get("verdict") or "?")
    differences = shadow.get("differences")
    if isinstance(differences, list) and differences:
        verdict += f" ({len(differences)} difference(s))"
    when = shadow.get("compared_at")
    return f"{verdict} at {when}" if when else verdict


@dataclass(frozen=True)
class MigrationView:
    """``stages``: DAG id -> stage (entries of the state file); ``shadows``: DAG id -> its last
    shadow comparison; ``state_file``: where they were read."""

    state_file: str
    stages: Mapping[str, str] = field(default_factory=dict)
    shadows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def stage(self, dag_id: str) -> str:
        return self.stages.get(dag_id, STAGES[0])

    def shadow(self, dag_id: str) -> str:
        return shadow_summary(self.shadows.get(dag_id))

    def differences(self, dag_id: str) -> list[str]:
        found = (self.shadows.get(dag_id) or {}).get("differences")
        return [str(d) for d in found] if isinstance(found, list) else []

    def counts(self, dag_ids: Iterable[str]) -> dict[str, int]:
        """How many of ``dag_ids`` are at each stage (each id counted once)."""
        counts = dict.fromkeys(STAGES, 0)
        for dag_id in dict.fromkeys(dag_ids):
            counts[self.stage(dag_id)] += 1
        return counts
