"""The control-flow tests' view of a both-sides run (:mod:`tests.runs.harness`): run states and markers.

Every task of the DAGs under ``dags/`` appends its name to ``$CF_MARKERS``, a file per DAG
and side, so the lines tell which tasks ran; :func:`run_both` runs them with the shared
harness and keeps the run states.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.runs.harness import markers, run_dags

__all__ = ["BothSides", "run_both", "markers"]


@dataclass(frozen=True)
class BothSides:
    """``out``: the folder of the marker files (``<dag_id>.airflow``, ``<dag_id>.kfp``)."""

    out: Path
    report: dict
    folders: dict[str, str]
    airflow: dict[str, str]
    kfp: dict[str, str]


def run_both(dags: Path, out: Path, timeout: float = 900) -> BothSides:
    """Convert ``dags`` into ``out/kfp`` and run every compiled DAG on both sides; the run states."""
    runs = run_dags(dags, out, timeout=timeout)
    return BothSides(runs.out, runs.report, runs.folders, {d: r.state for d, r in runs.airflow.items()},
                     {d: r.state for d, r in runs.kfp.items()})
