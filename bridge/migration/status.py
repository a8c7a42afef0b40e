"""Where each DAG of a migration stands: ``af2kfp migrate status``'s rows.

Read from the state file and, when given, the convert output; nothing is asked of KFP or
Airflow. A DAG of the output without an entry is at stage ``airflow`` (deploy adds the
entry); an entry whose DAG is not in the output is listed too. ``deploy`` says whether
the pipeline deployed is the one in the output now (``current``) or an older one
(``stale``: deploy again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from af2kfp.bridge.kfp import PipelineSourceError, load_package
from af2kfp.bridge.migration.output import ConvertOutput, DagOutput
from af2kfp.bridge.migration.state import STAGES, Entry, MigrationState
from af2kfp.bridge.migration.versions import content_sha256
from af2kfp.converters.reports.migration import MigrationView, shadow_summary

__all__ = ["StatusRow", "status_rows", "stage_counts", "shadow_summary", "migration_view"]


@dataclass(frozen=True, kw_only=True)
class StatusRow:
    dag_id: str
    stage: str
    has_entry: bool
    paused: bool | None
    in_output: bool
    verdict: str | None
    findings: Mapping[str, int]  # error / warning counts
    blockers: tuple[str, ...]
    deploy: str  # "not deployed", "current", "stale", "unknown"
    version: str | None
    recurring_run: str  # "enabled", "disabled", "none", "-"
    deployed_at: str | None
    shadow: str

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id, "stage": self.stage, "has_entry": self.has_entry, "paused": self.paused,
            "in_output": self.in_output, "verdict": self.verdict, "findings": dict(self.findings),
            "blockers": list(self.blockers), "deploy": self.deploy, "version": self.version,
            "recurring_run": self.recurring_run, "deployed_at": self.deployed_at, "shadow": self.shadow,
        }


def _deploy_state(entry: Entry | None, dag: DagOutput | None) -> str:
    if entry is None or entry.deployed is None:
        return "not deployed"
    if dag is None or dag.package is None or not dag.package.is_file():
        return "unknown"
    try:
        digest = content_sha256(load_package(dag.package))
    except PipelineSourceError:
        return "unknown"
    return "current" if digest == entry.deployed.content_sha256 else "stale"


def _row(entry: Entry | None, dag: DagOutput | None, dag_id: str) -> StatusRow:
    record = entry.deployed if entry is not None else None
    if record is None:
        recurring = "-"
    elif not record.recurring_run_id:
        recurring = "none"
    else:
        recurring = "enabled" if record.recurring_run_enabled else "disabled"
    return StatusRow(
        dag_id=dag_id,
        stage=entry.stage if entry is not None else STAGES[0],
        has_entry=entry is not None,
        paused=entry.paused if entry is not None else None,
        in_output=dag is not None,
        verdict=dag.verdict if dag is not None else None,
        findings={s: (dag.severities.get(s, 0) if dag is not None else 0) for s in ("error", "warning")},
        blockers=dag.blockers if dag is not None else (),
        deploy=_deploy_state(entry, dag),
        version=record.pipeline_version if record is not None else None,
        recurring_run=recurring,
        deployed_at=record.deployed_at if record is not None else None,
        shadow=shadow_summary(entry.shadow if entry is not None else None),
    )


def status_rows(state: MigrationState, output: ConvertOutput | None = None) -> list[StatusRow]:
    """One row per DAG: the output's DAGs in its order, then entries of DAGs not in it."""
    entries = {e.dag_id: e for e in state.entries()}
    rows = []
    seen: set[str] = set()
    for dag in output.dags if output is not None else ():
        if dag.dag_id in seen:
            continue
        seen.add(dag.dag_id)
        rows.append(_row(entries.get(dag.dag_id), dag, dag.dag_id))
    for dag_id, entry in entries.items():
        if dag_id not in seen:
            rows.append(_row(entry, None, dag_id))
    return rows


def stage_counts(rows: list[StatusRow]) -> dict[str, int]:
    return {stage: sum(1 for r in rows if r.stage == stage) for stage in STAGES}


def migration_view(state: MigrationState) -> MigrationView:
    """What the HTML and Markdown reports show of the state file."""
    entries = state.entries()
    return MigrationView(
        state_file=str(state.path),
        stages={e.dag_id: e.stage for e in entries},
        shadows={e.dag_id: dict(e.shadow) for e in entries if e.shadow},
    )
