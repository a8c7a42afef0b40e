"""``af2kfp deploy``'s work: put every DAG of a convert output on KFP, once.

For each DAG: look at what KFP has (pipeline by name, version by content hash, the DAG's
recurring runs), decide (:mod:`af2kfp.bridge.migration.plan`), then, unless it is a dry run,
apply: the pipeline (created without a version when missing), a version named after its
content (:mod:`af2kfp.bridge.migration.versions`) only when that content is not uploaded yet,
the experiment, and the recurring run. What was done is recorded in the migration state
file after each DAG. Everything is looked up by name before it is created, so a second
deploy with nothing changed creates nothing.

The recurring run is enabled only at stage ``kfp-scheduled`` (and not ``paused``, not
``--paused``). A DAG with no entry in the state file gets one at stage ``airflow``,
unless KFP already runs an enabled recurring run of it: deploy would then disable a
schedule someone relies on, so it changes nothing for that DAG and says to add the entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable

from af2kfp.bridge.kfp import (
    Experiment,
    KfpClient,
    KfpError,
    KfpNotFoundError,
    PipelinePackage,
    PipelineVersion,
    RecurringRun,
    RecurringRunSpec,
    RunSpec,
    load_package,
)
from af2kfp.bridge.kfp.protocol import filter_json
from af2kfp.bridge.migration import plan as plans
from af2kfp.bridge.migration.output import ConvertOutput, DagOutput, has_recurring_run, read_schedule
from af2kfp.bridge.migration.plan import RecurringPlan, Want, parse_time, plan_recurring
from af2kfp.bridge.migration.state import SCHEDULED, STAGES, DeployRecord, Entry, MigrationState
from af2kfp.bridge.migration.versions import content_sha256, version_description, version_name
from af2kfp.converters.errors import InputError

__all__ = ["DeployOptions", "Step", "Problem", "DagResult", "DeployReport", "Deployer", "last_tick"]

log = logging.getLogger("af2kfp.bridge.migration")

CREATED, UPDATED, UNCHANGED, SKIPPED, FAILED = "created", "updated", "unchanged", "skipped", "failed"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, SKIPPED, FAILED)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class DeployOptions:
    host: str
    experiment: str = "Default"
    namespace: str | None = None
    dry_run: bool = False
    paused: bool = False


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    message: str


@dataclass(kw_only=True)
class Step:
    """One KFP object of a DAG and what deploy does (or, in a dry run, would do) to it."""

    object: str  # "pipeline", "version", "recurring run"
    action: str  # create, update, enable, disable, delete, unchanged, none, skip
    name: str | None = None
    id: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "name": self.name, "id": self.id, "detail": self.detail}


@dataclass(kw_only=True)
class DagResult:
    dag_id: str
    stage: str
    outcome: str
    steps: list[Step] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "stage": self.stage,
            "outcome": self.outcome,
            "steps": {step.object: step.to_json() for step in self.steps},
            "problems": [{"severity": p.severity, "message": p.message} for p in self.problems],
        }


@dataclass(kw_only=True)
class DeployReport:
    dry_run: bool
    host: str
    experiment: Step
    state_file: str
    dags: list[DagResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {outcome: sum(1 for d in self.dags if d.outcome == outcome) for outcome in OUTCOMES}

    @property
    def problems(self) -> list[Problem]:
        return [p for d in self.dags for p in d.problems]

    @property
    def changes_kfp(self) -> bool:
        return self.experiment.action == plans.CREATE or any(d.outcome in (CREATED, UPDATED) for d in self.dags)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "host": self.host,
            "state_file": self.state_file,
            "experiment": self.experiment.to_json(),
            "summary": {
                "dags": len(self.dags),
                **self.counts(),
                "changes_kfp": self.changes_kfp,
                "problems": {s: sum(1 for p in self.problems if p.severity == s) for s in ("error", "warning")},
            },
            "dags": [d.to_json() for d in self.dags],
        }


def last_tick(kfp: KfpClient, recurring: RecurringRun) -> str | None:
    """The latest tick ``recurring`` started a run for (its runs' ``scheduled_at``), else its
    start (``start_time``, else its creation): the ticks it would run come after it.

    Its experiment's runs are read newest first, down to the recurring run's creation.
    """
    created = parse_time(recurring.created_at)
    token: str | None = None
    while True:
        page = kfp.list_runs(
            experiment_id=recurring.experiment_id, sort_by="created_at desc", page_size=100, page_token=token
        )
        ticks = [
            parse_time(run.scheduled_at) for run in page.items if run.recurring_run_id == recurring.recurring_run_id
        ]
        known = [t for t in ticks if t is not None]
        if known:
            return _rfc3339(max(known))
        oldest = parse_time(page.items[-1].created_at) if page.items else None
        token = page.next_page_token
        if not token or (created is not None and oldest is not None and oldest < created):
            return recurring.start_time or recurring.created_at


class Deployer:
    """Deploys the DAGs of one convert output with one client, recording into one state file."""

    def __init__(
        self,
        kfp: KfpClient,
        state: MigrationState,
        options: DeployOptions,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.kfp = kfp
        self.state = state
        self.options = options
        self.clock = clock
        self._experiment: Experiment | None = None
        self._experiment_created = False

    def run(self, output: ConvertOutput, dag_ids: list[str] | None = None,
            on_result: Callable[[DagResult], None] | None = None) -> DeployReport:
        """Deploy the DAGs named (all when None) in the output's order."""
        selected = list(output.dags)
        if dag_ids:
            unknown = sorted(set(dag_ids) - {d.dag_id for d in selected})
            if unknown:
                raise InputError(
                    f"--only {' '.join(unknown)}: not in {output.folder}; its DAGs: "
                    + ", ".join(sorted(d.dag_id for d in selected))
                )
            selected = [d for d in selected if d.dag_id in set(dag_ids)]
        self._experiment = self.kfp.find_experiment(self.options.experiment, namespace=self.options.namespace)
        self._experiment_created = False
        experiment = Step(object="experiment", action=plans.UNCHANGED, name=self.options.experiment,
                          id=self._experiment.experiment_id if self._experiment else None)
        report = DeployReport(
            dry_run=self.options.dry_run, host=self.options.host, experiment=experiment,
            state_file=str(self.state.path),
        )
        for dag in selected:
            result = self._dag(dag)
            report.dags.append(result)
            if on_result is not None:
                on_result(result)
        if self._experiment is None:  # a dry run would create it if a DAG is to be deployed
            needed = any(d.outcome in (CREATED, UPDATED, UNCHANGED) for d in report.dags)
            experiment.action = plans.CREATE if needed else plans.NONE
        elif self._experiment_created:
            experiment.action, experiment.id = plans.CREATE, self._experiment.experiment_id
        return report

    # -- one DAG ----------------------------------------------------------------------------

    def _dag(self, dag: DagOutput) -> DagResult:
        entry = self.state.entry(dag.dag_id)
        stage = entry.stage if entry is not None else STAGES[0]
        result = DagResult(dag_id=dag.dag_id, stage=stage, outcome=UNCHANGED)
        if dag.blockers:
            result.outcome = SKIPPED
            result.problems.append(Problem("warning", "blocked: " + "; ".join(dag.blockers)))
            return result
        try:
            self._deploy(dag, entry, result)
        except (KfpError, InputError) as exc:
            result.outcome = FAILED
            result.problems.append(Problem("error", str(exc)))
            log.warning("deploying DAG %s failed: %s", dag.dag_id, exc)
        return result

    def _deploy(self, dag: DagOutput, entry: Entry | None, result: DagResult) -> None:
        assert dag.package is not None
        package = load_package(dag.package)
        digest = content_sha256(package)
        wanted_version = version_name(digest)
        want = self._want(dag, entry, package)
        namespace = self.options.namespace
        pipeline = self.kfp.find_pipeline(dag.pipeline_name, namespace=namespace)
        version = self.kfp.find_pipeline_version(pipeline.pipeline_id, wanted_version) if pipeline else None
        existing = self._recurring_runs(want.name, entry)
        enabled_now = [r for r in existing if r.enabled]
        if entry is None and enabled_now:
            result.outcome = FAILED
            result.problems.append(Problem(
                "error",
                f"KFP already schedules it (recurring run {enabled_now[0].recurring_run_id} is enabled) and "
                f"{self.state.path} has no entry for it; deploy would disable it: add the entry with its stage "
                f"(`{dag.dag_id}: {{stage: kfp-scheduled}}` keeps it running) and deploy again",
            ))
            return
        continuing = (
            entry.deployed.recurring_run_id
            if entry is not None and entry.deployed is not None and entry.deployed.recurring_run_enabled
            else None
        )
        plan = plan_recurring(
            want, existing,
            version_id=version.pipeline_version_id if version else None,
            experiment_id=self._experiment.experiment_id if self._experiment else None,
            continuing=continuing,
        )
        result.steps = [
            Step(object="pipeline", action=plans.UNCHANGED if pipeline else plans.CREATE, name=dag.pipeline_name,
                 id=pipeline.pipeline_id if pipeline else None),
            Step(object="version", action=plans.UNCHANGED if version else plans.CREATE, name=wanted_version,
                 id=version.pipeline_version_id if version else None),
            self._recurring_step(want, plan),
        ]
        if want.skip:  # at kfp-scheduled, KFP was to schedule it: an error
            result.problems.append(Problem("error" if want.enabled else "warning", want.skip))
        result.outcome = CREATED if pipeline is None else UPDATED if version is None or plan.changes_kfp else UNCHANGED
        if self.options.dry_run:
            return
        experiment = self._ensure_experiment()
        if pipeline is None:
            pipeline = self.kfp.get_or_create_pipeline(
                dag.pipeline_name, description=f"Airflow DAG {dag.dag_id} ({dag.source}), deployed by af2kfp",
                namespace=namespace,
            )
            result.steps[0].id = pipeline.pipeline_id
        if version is None:
            version = self.kfp.get_or_upload_version(
                pipeline.pipeline_id, dag.package, name=wanted_version,
                description=version_description(dag.dag_id, digest),
            )
            result.steps[1].id = version.pipeline_version_id
        recurring = self._apply(plan, want, version, experiment)
        if plan.action == plans.SKIP and existing:
            recurring = existing[0]
        result.steps[2].id = recurring.recurring_run_id if recurring else None
        self._record(dag, entry, experiment, version, digest, recurring)

    def _want(self, dag: DagOutput, entry: Entry | None, package: PipelinePackage) -> Want:
        stage = entry.stage if entry is not None else STAGES[0]
        paused = entry.paused if entry is not None and entry.paused is not None else dag.paused_upon_creation
        if self.options.paused:
            why = "--paused"
        elif stage != SCHEDULED:
            why = f"stage {stage}"
        elif paused:
            why = "paused" if entry is not None and entry.paused else "paused (is_paused_upon_creation)"
        else:
            why = f"stage {stage}"
        enabled = stage == SCHEDULED and not paused and not self.options.paused
        schedule = read_schedule(dag.schedule)
        if not has_recurring_run(schedule):
            return Want(name=dag.dag_id, schedule=None, enabled=enabled, why=why)
        assert schedule is not None
        spec = RecurringRunSpec.from_schedule(schedule, pipeline_name=dag.pipeline_name)
        required = sorted(
            name for name, definition in package.parameters.items()
            if "defaultValue" not in definition and not definition.get("isOptional")
        )
        skip = None
        if required:
            skip = (
                f"no recurring run: the pipeline requires {', '.join(required)} with no default, and a "
                "recurring run passes the same values to every run"
            )
        return Want(
            name=spec.run.display_name, schedule=spec.schedule, enabled=enabled, why=why,
            description=spec.run.description, skip=skip,
        )

    def _recurring_runs(self, name: str, entry: Entry | None) -> list[RecurringRun]:
        """The DAG's recurring runs: those of its name in the experiment, and the one the state
        file recorded for this host (wherever it is now)."""
        found: dict[str, RecurringRun] = {}
        if self._experiment is not None:
            page = self.kfp.list_recurring_runs(
                experiment_id=self._experiment.experiment_id, filter=filter_json(display_name=name), page_size=100
            )
            found = {r.recurring_run_id: r for r in page.items if r.display_name == name}
        record = entry.deployed if entry is not None else None
        if record is not None and record.host == self.options.host and record.recurring_run_id:
            if record.recurring_run_id not in found:
                try:
                    found[record.recurring_run_id] = self.kfp.get_recurring_run(record.recurring_run_id)
                except KfpNotFoundError:
                    pass
        return sorted(found.values(), key=lambda r: r.created_at or "", reverse=True)

    def _recurring_step(self, want: Want, plan: RecurringPlan) -> Step:
        if plan.action == plans.SKIP:
            return Step(object="recurring run", action=plan.action, name=want.name, detail=want.skip or "")
        if plan.action in (plans.NONE, plans.DELETE):
            detail = "the DAG has no schedule KFP can follow: see its schedule.json"
            return Step(object="recurring run", action=plan.action, name=want.name, detail=detail)
        mode = "enabled" if want.enabled else "disabled"
        detail = f"{mode}: {want.why}"
        if plan.changes:
            detail += "; " + ", ".join(plan.changes)
        keep = plan.keep.recurring_run_id if plan.keep else None
        return Step(object="recurring run", action=plan.action, name=want.name, id=keep, detail=detail)

    # -- applying ---------------------------------------------------------------------------

    def _ensure_experiment(self) -> Experiment:
        if self._experiment is None:
            self._experiment = self.kfp.get_or_create_experiment(
                self.options.experiment, namespace=self.options.namespace
            )
            self._experiment_created = True
        return self._experiment

    def _apply(
        self, plan: RecurringPlan, want: Want, version: PipelineVersion, experiment: Experiment
    ) -> RecurringRun | None:
        """The plan's steps in the order :mod:`af2kfp.bridge.migration.plan` explains; returns the
        recurring run the DAG has afterwards."""
        for old in plan.stop:
            self.kfp.disable_recurring_run(old.recurring_run_id)
        created = None
        if plan.create:
            assert want.schedule is not None
            start = self._start(want, plan.follow)
            spec = RecurringRunSpec(
                run=RunSpec(
                    display_name=want.name,
                    pipeline_id=version.pipeline_id,
                    pipeline_version_id=version.pipeline_version_id,
                    experiment_id=experiment.experiment_id,
                    namespace=self.options.namespace,
                    description=want.description,
                    parameters=dict(want.parameters),
                ),
                schedule=replace(want.schedule, start_time=start, enabled=want.enabled),
            )
            created = self.kfp.submit_recurring_run(spec)
        if plan.disable is not None:
            self.kfp.disable_recurring_run(plan.disable.recurring_run_id)
        if plan.enable is not None:
            self.kfp.enable_recurring_run(plan.enable.recurring_run_id)
        for old in plan.delete:
            try:
                self.kfp.delete_recurring_run(old.recurring_run_id)
            except KfpNotFoundError:
                pass
        if created is not None:
            return created
        return self.kfp.get_recurring_run(plan.keep.recurring_run_id) if plan.keep else None

    def _start(self, want: Want, follow: tuple[RecurringRun, ...]) -> str | None:
        """When a new recurring run starts counting ticks (see :mod:`af2kfp.bridge.migration.plan`)."""
        assert want.schedule is not None
        declared = want.schedule.start_time
        if not want.enabled:
            return declared  # type: ignore[return-value]
        if follow:
            bounds = [parse_time(last_tick(self.kfp, old)) for old in follow]
            known = [b for b in bounds if b is not None] + [t for t in [parse_time(declared)] if t is not None]
            return _rfc3339(max(known)) if known else None
        start = parse_time(declared)
        return declared if start is not None and start > self.clock() else None  # type: ignore[return-value]

    def _record(
        self,
        dag: DagOutput,
        entry: Entry | None,
        experiment: Experiment,
        version: PipelineVersion,
        digest: str,
        recurring: RecurringRun | None,
    ) -> None:
        """Write what the DAG has on KFP now into its entry; ``deployed_at`` moves only when
        something else in the record changed (a deploy that changed nothing leaves the file alone)."""
        record = DeployRecord(
            host=self.options.host,
            namespace=self.options.namespace,
            experiment=experiment.display_name,
            experiment_id=experiment.experiment_id,
            pipeline=dag.pipeline_name,
            pipeline_id=version.pipeline_id,
            pipeline_version=version.display_name or version_name(digest),
            pipeline_version_id=version.pipeline_version_id,
            content_sha256=digest,
            recurring_run_id=recurring.recurring_run_id if recurring else None,
            recurring_run_enabled=bool(recurring and recurring.enabled),
            deployed_at=_rfc3339(self.clock()),
        )
        previous = entry.deployed if entry is not None else None
        if previous is not None and replace(record, deployed_at=previous.deployed_at) == previous:
            return
        if entry is None:
            self.state.add(dag.dag_id, paused=dag.paused_upon_creation)
        self.state.record_deploy(dag.dag_id, record)
        self.state.save()
