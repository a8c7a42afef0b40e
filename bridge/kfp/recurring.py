"""Recurring runs on top of :class:`~af2kfp.bridge.kfp.core.KfpCore`: what to schedule, and a
retry-safe creation.

- :class:`Schedule` says when: a six-field cron (seconds first, as KFP's robfig/cron) or an
  interval in seconds, bounded by ``start_time``/``end_time``, with ``max_concurrency``
  (KFP accepts 1 to 10), ``no_catchup`` and ``enabled``: the keyword arguments of
  ``kfp.Client.create_recurring_run``.
- :class:`RecurringRunSpec` joins a :class:`~af2kfp.bridge.kfp.runs.RunSpec` (what to run, in
  which experiment, with which parameters; its ``display_name`` names the recurring run)
  and a :class:`Schedule`. :meth:`RecurringRunSpec.from_schedule` reads the
  ``schedule.json`` that ``af2kfp convert`` writes beside each pipeline.
- :func:`submit_recurring_run` creates it with the guarantee of
  :func:`~af2kfp.bridge.kfp.runs.submit_run`: an ambiguous failure never leaves two recurring runs
  (see :func:`~af2kfp.bridge.kfp.runs.create_once`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from af2kfp.bridge.kfp.core import KfpCore, Op
from af2kfp.bridge.kfp.errors import KfpNotFoundError, PipelineSourceError, ScheduleError
from af2kfp.bridge.kfp.protocol import filter_json
from af2kfp.bridge.kfp.models import PipelineVersion, RecurringRun
from af2kfp.bridge.kfp.runs import RunSpec, create_once, experiment_of, pipeline_reference, pipeline_source, run_fields

__all__ = [
    "MAX_CONCURRENCY",
    "Schedule",
    "RecurringRunSpec",
    "build_recurring_run_body",
    "find_recurring_run",
    "submit_recurring_run",
]

log = logging.getLogger("af2kfp.bridge.kfp")

MAX_CONCURRENCY = 10
"""KFP refuses a recurring run with ``max_concurrency`` above this (or below 1)."""


def _rfc3339(value: str | datetime | None, what: str) -> str | None:
    """``value`` as RFC 3339 in UTC, whole seconds (KFP keeps seconds); naive times are UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ScheduleError(f"{what} {value!r} is not an RFC 3339 time (e.g. 2024-01-01T00:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """When a recurring run starts runs. Give exactly one of ``cron_expression`` and
    ``interval_second``.

    ``cron_expression`` has six fields, seconds first (``"0 0 2 * * *"``: 02:00 UTC every
    day), as KFP's robfig/cron reads it; KFP checks its syntax. ``start_time`` and
    ``end_time`` (RFC 3339 text or datetimes; naive means UTC) bound the ticks.
    ``no_catchup=True`` runs only the latest missed tick after a pause; False or None
    (KFP's default) backfills every one.
    """

    cron_expression: str | None = None
    interval_second: int | None = None
    start_time: str | datetime | None = None
    end_time: str | datetime | None = None
    max_concurrency: int = 1
    no_catchup: bool | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        cron = (self.cron_expression or "").strip() or None
        if (cron is None) == (self.interval_second is None):
            raise ScheduleError("a schedule needs exactly one of cron_expression and interval_second")
        if self.interval_second is not None and (
            isinstance(self.interval_second, bool) or not isinstance(self.interval_second, int)
            or self.interval_second < 1
        ):
            raise ScheduleError(f"interval_second must be a whole number of seconds >= 1, got {self.interval_second!r}")
        if (
            isinstance(self.max_concurrency, bool) or not isinstance(self.max_concurrency, int)
            or not 1 <= self.max_concurrency <= MAX_CONCURRENCY
        ):
            raise ScheduleError(
                f"max_concurrency must be between 1 and {MAX_CONCURRENCY} (KFP's limits), got {self.max_concurrency!r}"
            )
        start, end = _rfc3339(self.start_time, "start_time"), _rfc3339(self.end_time, "end_time")
        if start and end and end < start:
            raise ScheduleError(f"end_time {end} is before start_time {start}")
        object.__setattr__(self, "cron_expression", cron)
        object.__setattr__(self, "start_time", start)
        object.__setattr__(self, "end_time", end)

    def trigger(self) -> dict[str, Any]:
        """The ``V2beta1Trigger`` JSON."""
        bounds = {k: v for k, v in (("start_time", self.start_time), ("end_time", self.end_time)) if v}
        if self.cron_expression is not None:
            return {"cron_schedule": {"cron": self.cron_expression, **bounds}}
        return {"periodic_schedule": {"interval_second": str(self.interval_second), **bounds}}


_SCHEDULE_KEYS = {
    "cron_expression", "interval_second", "start_time", "end_time", "max_concurrency", "no_catchup", "enabled",
}


@dataclass(frozen=True, kw_only=True)
class RecurringRunSpec:
    """What to schedule: ``run`` (pipeline source, experiment, parameters, name) on ``schedule``.

    ``run.display_name`` is the recurring run's name; the runs it starts are named by KFP.
    With an uploaded pipeline and no version, the version is the latest at creation, pinned;
    ``follow_latest_version=True`` leaves it out so KFP runs the pipeline's latest version
    at every tick instead.
    """

    run: RunSpec
    schedule: Schedule
    follow_latest_version: bool = False

    def __post_init__(self) -> None:
        pinned = self.run.pipeline_version_id or self.run.pipeline_version_name
        if self.follow_latest_version and (self.run.package is not None or pinned):
            raise PipelineSourceError(
                "follow_latest_version needs an uploaded pipeline (pipeline_id or pipeline_name) without a version"
            )

    @classmethod
    def from_schedule(
        cls, schedule: Mapping[str, Any] | str | Path, *, follow_latest_version: bool = False, **run: Any
    ) -> "RecurringRunSpec":
        """The recurring run a ``schedule.json`` describes (its ``recurring_run`` keys are
        ``kfp.Client.create_recurring_run``'s keywords). ``run`` holds :class:`RunSpec`
        fields (pipeline source, experiment, parameters...); given a file, the pipeline
        defaults to the ``pipeline.yaml`` beside it. ``display_name`` defaults to ``job_name``.
        """
        where = "schedule"
        if not isinstance(schedule, Mapping):
            path = Path(schedule)
            where = str(path)
            try:
                schedule = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ScheduleError(f"cannot read {path}: {exc}") from None
            sibling = path.parent / "pipeline.yaml"
            if not {"package", "pipeline_id", "pipeline_name"} & set(run) and sibling.is_file():
                run["package"] = sibling
        keywords = schedule.get("recurring_run") if isinstance(schedule, Mapping) else None
        if not isinstance(keywords, Mapping):
            notes = "; ".join(schedule.get("notes") or []) if isinstance(schedule, Mapping) else ""
            raise ScheduleError(f"{where} has no recurring run" + (f": {notes}" if notes else ""))
        unknown = set(keywords) - _SCHEDULE_KEYS - {"job_name", "description"}
        if unknown:
            raise ScheduleError(f"{where}: unknown recurring_run key(s) {', '.join(sorted(unknown))}")
        when = {k: v for k, v in keywords.items() if k in _SCHEDULE_KEYS and v is not None}
        run.setdefault("display_name", keywords.get("job_name"))
        if keywords.get("description") and "description" not in run:
            run["description"] = keywords["description"]
        return cls(run=RunSpec(**run), schedule=Schedule(**when), follow_latest_version=follow_latest_version)

    def with_schedule(self, **changes: Any) -> "RecurringRunSpec":
        """The same recurring run with some :class:`Schedule` fields changed (``enabled=False``)."""
        return replace(self, schedule=replace(self.schedule, **changes))


def build_recurring_run_body(
    spec: RecurringRunSpec,
    *,
    experiment_id: str,
    pipeline_spec: Mapping[str, Any] | None = None,
    version: PipelineVersion | None = None,
    pipeline_id: str | None = None,
) -> dict[str, Any]:
    """The ``V2beta1RecurringRun`` JSON for ``POST /apis/v2beta1/recurringruns``: an inline
    ``pipeline_spec``, a pinned ``version``, or only ``pipeline_id`` (its latest version at
    each tick)."""
    source = pipeline_reference(pipeline_spec, version)
    if source is None and pipeline_id:
        source = {"pipeline_version_reference": {"pipeline_id": pipeline_id}}
    if source is None:
        raise PipelineSourceError("a recurring run body needs a pipeline spec, a pipeline version or a pipeline id")
    schedule = spec.schedule
    body: dict[str, Any] = {
        **run_fields(spec.run, experiment_id),
        "trigger": schedule.trigger(),
        "max_concurrency": str(schedule.max_concurrency),
        "mode": "ENABLE" if schedule.enabled else "DISABLE",
        **source,
    }
    if schedule.no_catchup is not None:
        body["no_catchup"] = schedule.no_catchup
    return body


def _latest_of(core: KfpCore, run: RunSpec) -> Op[str]:
    """The pipeline id of a recurring run that follows its pipeline's latest version."""
    if run.pipeline_id:
        return run.pipeline_id
    pipeline = yield from core.find_pipeline(run.pipeline_name or "", namespace=run.namespace)
    if pipeline is None:
        raise KfpNotFoundError(f"no uploaded pipeline named {run.pipeline_name!r}", status=404)
    return pipeline.pipeline_id


def find_recurring_run(
    core: KfpCore, display_name: str, *, experiment_id: str | None = None, namespace: str | None = None
) -> Op[RecurringRun | None]:
    """The newest recurring run called ``display_name`` in the experiment (or namespace), or None."""
    found = yield from _recurring_runs_named(core, display_name, experiment_id, namespace)
    return found[0] if found else None


def _recurring_runs_named(
    core: KfpCore, display_name: str, experiment_id: str | None, namespace: str | None
) -> Op[list[RecurringRun]]:
    page = yield from core.list_recurring_runs(
        experiment_id=experiment_id, namespace=namespace,
        filter=filter_json(display_name=display_name), sort_by="created_at desc", page_size=100,
    )
    named = [r for r in page.items if r.display_name == display_name]
    return sorted(named, key=lambda r: r.created_at or "", reverse=True)


def submit_recurring_run(core: KfpCore, spec: RecurringRunSpec) -> Op[RecurringRun]:
    """Create the recurring run ``spec`` describes, once (see the module docstring)."""
    run = spec.run
    pipeline_spec = version = pipeline_id = None
    if spec.follow_latest_version:
        pipeline_id = yield from _latest_of(core, run)
    else:
        pipeline_spec, version = yield from pipeline_source(core, run)
    experiment_id = yield from experiment_of(core, run)
    body = build_recurring_run_body(
        spec, experiment_id=experiment_id, pipeline_spec=pipeline_spec, version=version, pipeline_id=pipeline_id
    )
    created = yield from create_once(
        core,
        lambda: core.create_recurring_run(body),
        lambda: _recurring_runs_named(core, run.display_name, experiment_id, run.namespace),
        key=lambda r: r.recurring_run_id,
        what=f"recurring run {run.display_name!r}",
        dedupe=run.dedupe,
    )
    log.info(
        "KFP recurring run %s (%s) created in experiment %s, %s",
        created.display_name, created.recurring_run_id, experiment_id, "enabled" if created.enabled else "disabled",
    )
    return created
