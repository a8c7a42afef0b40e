"""Run lifecycle on top of :class:`~af2kfp.bridge.kfp.core.KfpCore`: submit, find, wait.

Like the core, each operation here is a generator run by both client faces, so the
sync client, the async client (the Airflow trigger) and the command line share it.

- :class:`RunSpec` says what to run: a compiled package (file, archive, ``af2kfp
  convert`` folder or a loaded :class:`~af2kfp.bridge.kfp.packages.PipelinePackage`), or an
  uploaded pipeline by name or id (+ version name/id; default: latest version); in an
  experiment given by id or by name (created when missing); with parameters
  (``runtime_config.parameters``), ``pipeline_root``, service account and caching flag.
- :func:`submit_run` is retry-safe: ``POST /runs`` is never blindly resent. When a
  create may have reached KFP (dropped connection, read timeout, 5xx) it waits, looks
  the run up by its display name among runs that did not exist before, and only
  resubmits when none is found. Give runs a :func:`deterministic_run_name` so a retried
  Airflow task can also find its run (:func:`find_run_by_name`) and reattach.
- Waiting for a run (:func:`~af2kfp.bridge.kfp.waiting.wait_for_run`, re-exported here) lives in
  :mod:`af2kfp.bridge.kfp.waiting`, shared with the Airflow trigger and sensor.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from af2kfp.bridge.kfp.core import KfpCore, Op
from af2kfp.bridge.kfp.errors import KfpApiError, KfpNotFoundError, PipelineSourceError
from af2kfp.bridge.kfp.models import Experiment, PipelineVersion, Run
from af2kfp.bridge.kfp.packages import PipelinePackage, load_package
from af2kfp.bridge.kfp.protocol import Sleep, filter_json
from af2kfp.bridge.kfp.waiting import wait_for_run

__all__ = [
    "RunSpec",
    "DEFAULT_EXPERIMENT",
    "build_run_body",
    "deterministic_run_name",
    "get_or_create_experiment",
    "resolve_pipeline_version",
    "find_run_by_name",
    "pipeline_source",
    "experiment_of",
    "create_once",
    "submit_run",
    "wait_for_run",
]

log = logging.getLogger("af2kfp.bridge.kfp")

T = TypeVar("T")
DEFAULT_EXPERIMENT = "Default"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """What to submit. Give exactly one source: ``package``, or ``pipeline_id``/``pipeline_name``.

    ``experiment_id`` wins over ``experiment_name`` (default ``"Default"``, created when
    missing). ``enable_caching=None`` keeps the compiled caching options; True/False
    rewrites every task's (inline packages only). ``dedupe`` makes :func:`submit_run`
    snapshot runs of the same name first so a retried create can find its own run.
    """

    display_name: str
    package: str | Path | PipelinePackage | None = None
    pipeline_id: str | None = None
    pipeline_name: str | None = None
    pipeline_version_id: str | None = None
    pipeline_version_name: str | None = None
    experiment_id: str | None = None
    experiment_name: str | None = None
    namespace: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    pipeline_root: str | None = None
    service_account: str | None = None
    enable_caching: bool | None = None
    description: str | None = None
    dedupe: bool = True

    def __post_init__(self) -> None:
        if not self.display_name or not self.display_name.strip():
            raise PipelineSourceError("a KFP run needs a non-empty display name")
        by_reference = any((self.pipeline_id, self.pipeline_name))
        if (self.package is not None) == by_reference:
            raise PipelineSourceError(
                "give exactly one pipeline source: a package path, or an uploaded pipeline id/name"
            )
        if (self.pipeline_version_id or self.pipeline_version_name) and not by_reference:
            raise PipelineSourceError("a pipeline version needs an uploaded pipeline (pipeline_id or pipeline_name)")
        for name, value in self.parameters.items():
            try:
                json.dumps(value)
            except (TypeError, ValueError) as exc:
                raise PipelineSourceError(f"pipeline parameter {name!r} is not a JSON value: {exc}") from None


def deterministic_run_name(*parts: object, prefix: str = "af2kfp", max_length: int = 100) -> str:
    """A stable, readable run name from parts that do not change across retries.

    Pass e.g. ``dag_id, task_id, run_id`` (and a map index), never the try number. The
    name ends in a hash of the exact parts, so two inputs never share a name even when
    the readable part is cut to ``max_length``.
    """
    if not parts:
        raise ValueError("deterministic_run_name needs at least one part")
    raw = [str(p) for p in parts]
    digest = hashlib.sha256("\x1f".join(raw).encode("utf-8")).hexdigest()[:10]
    readable = "-".join(_UNSAFE.sub("-", p).strip("-") for p in [prefix, *raw] if p)
    readable = readable[: max(1, max_length - len(digest) - 1)].rstrip("-")
    return f"{readable}-{digest}"


def build_run_body(
    spec: RunSpec,
    *,
    experiment_id: str,
    pipeline_spec: Mapping[str, Any] | None = None,
    version: PipelineVersion | None = None,
) -> dict[str, Any]:
    """The ``V2beta1Run`` JSON for ``POST /apis/v2beta1/runs``."""
    source = pipeline_reference(pipeline_spec, version)
    if source is None:
        raise PipelineSourceError("a run body needs a pipeline spec or a pipeline version")
    return {**run_fields(spec, experiment_id), **source}


def run_fields(spec: RunSpec, experiment_id: str) -> dict[str, Any]:
    """What a run body and a recurring run body share: name, experiment, parameters, pipeline root,
    description and service account."""
    runtime_config: dict[str, Any] = {"parameters": dict(spec.parameters)}
    if spec.pipeline_root:
        runtime_config["pipeline_root"] = spec.pipeline_root
    body: dict[str, Any] = {
        "display_name": spec.display_name,
        "experiment_id": experiment_id,
        "runtime_config": runtime_config,
    }
    if spec.description:
        body["description"] = spec.description
    if spec.service_account:
        body["service_account"] = spec.service_account
    return body


def pipeline_reference(pipeline_spec: Mapping[str, Any] | None,
                       version: PipelineVersion | None) -> dict[str, Any] | None:
    """The body's pipeline: an inline ``pipeline_spec``, else a pinned version; ``None`` when neither."""
    if pipeline_spec is not None:
        return {"pipeline_spec": dict(pipeline_spec)}
    if version is not None:
        return {"pipeline_version_reference": {"pipeline_id": version.pipeline_id,
                                               "pipeline_version_id": version.pipeline_version_id}}
    return None


def _package(spec: RunSpec) -> PipelinePackage:
    package = spec.package if isinstance(spec.package, PipelinePackage) else load_package(spec.package)  # type: ignore[arg-type]
    package.check_parameters(spec.parameters)
    if spec.enable_caching is not None:
        package = package.with_caching(spec.enable_caching)
    return package


def get_or_create_experiment(
    core: KfpCore, name: str, *, namespace: str | None = None, description: str | None = None
) -> Op[Experiment]:
    """The experiment called ``name`` in the namespace, created if missing (safe when two callers race)."""
    found = yield from core.find_experiment(name, namespace=namespace)
    if found is not None:
        return found
    try:
        return (yield from core.create_experiment(name, namespace=namespace, description=description))
    except KfpApiError as err:
        if not (err.status == 409 or err.maybe_applied):
            raise
        found = yield from core.find_experiment(name, namespace=namespace)
        if found is None:
            raise
        return found


def resolve_pipeline_version(
    core: KfpCore,
    *,
    pipeline_id: str | None = None,
    pipeline_name: str | None = None,
    version_id: str | None = None,
    version_name: str | None = None,
    namespace: str | None = None,
) -> Op[PipelineVersion]:
    """The uploaded pipeline version to run: by id, by name, or the pipeline's latest."""
    if pipeline_id is None:
        if not pipeline_name:
            raise PipelineSourceError("give pipeline_id or pipeline_name")
        pipeline = yield from core.find_pipeline(pipeline_name, namespace=namespace)
        if pipeline is None:
            raise KfpNotFoundError(f"no uploaded pipeline named {pipeline_name!r}", status=404)
        pipeline_id = pipeline.pipeline_id
    if version_id:
        return (yield from core.get_pipeline_version(pipeline_id, version_id))
    if version_name:
        version = yield from core.find_pipeline_version(pipeline_id, version_name)
        what = f"no version named {version_name!r}"
    else:
        version = yield from core.latest_pipeline_version(pipeline_id)
        what = "no versions"
    if version is None:
        raise KfpNotFoundError(f"pipeline {pipeline_name or pipeline_id!r} has {what}", status=404)
    return version


def find_run_by_name(
    core: KfpCore, experiment_id: str | None, name: str, *, namespace: str | None = None
) -> Op[Run | None]:
    """The newest run called ``name`` in the experiment (or namespace), or None."""
    runs = yield from _runs_named(core, experiment_id, name, namespace)
    return runs[0] if runs else None


def _runs_named(core: KfpCore, experiment_id: str | None, name: str, namespace: str | None) -> Op[list[Run]]:
    page = yield from core.list_runs(
        experiment_id=experiment_id,
        namespace=namespace,
        filter=filter_json(display_name=name),
        sort_by="created_at desc",
        page_size=100,
    )
    runs = [r for r in page.items if r.display_name == name]
    return sorted(runs, key=lambda r: r.created_at or "", reverse=True)


def pipeline_source(core: KfpCore, spec: RunSpec) -> Op[tuple[dict[str, Any] | None, PipelineVersion | None]]:
    """What ``spec`` runs: an inline pipeline spec (from its package) or an uploaded version.

    Everything that can be wrong with the pipeline is found here, before anything is created.
    """
    if spec.package is not None:
        return _package(spec).run_spec(), None
    if spec.enable_caching is not None:
        log.warning("enable_caching is ignored for an uploaded pipeline version; it applies to packages only")
    version = yield from resolve_pipeline_version(
        core,
        pipeline_id=spec.pipeline_id,
        pipeline_name=spec.pipeline_name,
        version_id=spec.pipeline_version_id,
        version_name=spec.pipeline_version_name,
        namespace=spec.namespace,
    )
    return None, version


def experiment_of(core: KfpCore, spec: RunSpec) -> Op[str]:
    """The id of ``spec``'s experiment: given, or found (created when missing) by name."""
    if spec.experiment_id:
        return spec.experiment_id
    experiment = yield from get_or_create_experiment(
        core, spec.experiment_name or DEFAULT_EXPERIMENT, namespace=spec.namespace
    )
    return experiment.experiment_id


def create_once(
    core: KfpCore,
    create: Callable[[], Op[T]],
    named: Callable[[], Op[list[T]]],
    *,
    key: Callable[[T], str],
    what: str,
    dedupe: bool = True,
) -> Op[T]:
    """Create one object with ``create()``, never two, however the requests fail.

    ``named()`` lists the objects of the new one's name. The core already resent what surely
    never reached KFP; a failure that may have been applied (dropped connection, read
    timeout, 5xx) is retried only with ``dedupe``: wait, look for an object of that name
    that did not exist before, and create again only when there is none.
    """
    known = {key(item) for item in (yield from named())} if dedupe else set()
    policy = core.config.retry
    attempt = 0
    while True:
        attempt += 1
        try:
            return (yield from create())
        except KfpApiError as err:
            if not (err.retriable and err.maybe_applied and dedupe) or not policy.can_retry(attempt):
                raise
            delay = policy.delay(attempt)
            log.warning("creating KFP %s failed (%s); checking and retrying in %.2fs", what, err.message, delay)
            yield Sleep(delay)
            mine = [item for item in (yield from named()) if key(item) not in known]
            if mine:
                log.info("KFP %s %s was created despite the error; not creating it again", what, key(mine[0]))
                return mine[0]


def submit_run(core: KfpCore, spec: RunSpec) -> Op[Run]:
    """Create the run ``spec`` describes and return it (state as KFP reported on creation)."""
    pipeline_spec, version = yield from pipeline_source(core, spec)
    experiment_id = yield from experiment_of(core, spec)
    body = build_run_body(spec, experiment_id=experiment_id, pipeline_spec=pipeline_spec, version=version)
    run = yield from create_once(
        core,
        lambda: core.create_run(body),
        lambda: _runs_named(core, experiment_id, spec.display_name, spec.namespace),
        key=lambda r: r.run_id,
        what=f"run {spec.display_name!r}",
        dedupe=spec.dedupe,
    )
    log.info("KFP run %s (%s) created in experiment %s", run.display_name, run.run_id, experiment_id)
    return run
