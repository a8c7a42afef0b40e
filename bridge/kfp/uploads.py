"""Uploaded pipelines and versions found or created by name, never twice.

KFP keeps a pipeline's name unique in its namespace and a version's name unique in its
pipeline, so a name is an identity: :func:`get_or_create_pipeline` and
:func:`get_or_upload_version` look the name up, create it when missing, and when the
create fails because the name is taken (409: another caller won a race) or may have been
applied anyway (a dropped connection, a 5xx), look again and return what is there.
``af2kfp deploy`` names each version after the content it holds, so "the version exists"
means "this content is uploaded". :func:`get_or_upload_pipeline` is the Airflow upload
operator's whole job: a package as a new pipeline, or as a named version of an existing one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from af2kfp.bridge.kfp.core import KfpCore, Op
from af2kfp.bridge.kfp.errors import KfpApiError, KfpNotFoundError
from af2kfp.bridge.kfp.models import Pipeline, PipelineVersion

__all__ = ["get_or_create_pipeline", "get_or_upload_version", "get_or_upload_pipeline"]

log = logging.getLogger("af2kfp.bridge.kfp")


def _created_or_found(create: Callable[[], Op[Any]], find: Callable[[], Op[Any]]) -> Op[Any]:
    """``create()``; on a name clash or an ambiguous failure, what ``find()`` finds (else the error)."""
    try:
        return (yield from create())
    except KfpApiError as err:
        if not (err.status == 409 or err.maybe_applied):
            raise
        found = yield from find()
        if found is None:
            raise
        return found


def get_or_create_pipeline(
    core: KfpCore, name: str, *, description: str | None = None, namespace: str | None = None
) -> Op[Pipeline]:
    """The pipeline called ``name``, created (with no version) when missing."""
    found = yield from core.find_pipeline(name, namespace=namespace)
    if found is not None:
        return found
    return (yield from _created_or_found(
        lambda: core.create_pipeline(name, description=description, namespace=namespace),
        lambda: core.find_pipeline(name, namespace=namespace),
    ))


def get_or_upload_version(
    core: KfpCore,
    pipeline_id: str,
    package: str | Path | bytes,
    *,
    name: str,
    description: str | None = None,
) -> Op[PipelineVersion]:
    """The version called ``name`` of ``pipeline_id``, uploaded from ``package`` when missing."""
    found = yield from core.find_pipeline_version(pipeline_id, name)
    if found is not None:
        return found
    return (yield from _created_or_found(
        lambda: core.upload_pipeline_version(package, pipeline_id=pipeline_id, name=name, description=description),
        lambda: core.find_pipeline_version(pipeline_id, name),
    ))


def get_or_upload_pipeline(
    core: KfpCore,
    package: bytes,
    *,
    name: str,
    version_name: str | None = None,
    default_version_name: str,
    description: str | None = None,
    namespace: str | None = None,
) -> Op[tuple[Pipeline, PipelineVersion]]:
    """The pipeline ``name`` and its version that holds ``package``, uploading what is missing.

    A missing pipeline is uploaded with ``package`` as its first version (KFP names it
    after the pipeline); that version is the answer unless ``version_name`` asks for
    another. Otherwise the version ``version_name`` (else ``default_version_name``) is
    found or uploaded. Safe to retry: nothing of the same name is uploaded twice.
    """
    pipeline = yield from core.find_pipeline(name, namespace=namespace)
    if pipeline is None:
        pipeline = yield from _created_or_found(
            lambda: core.upload_pipeline(package, name=name, description=description, namespace=namespace),
            lambda: core.find_pipeline(name, namespace=namespace),
        )
        log.info("uploaded new KFP pipeline %s (%s)", name, pipeline.pipeline_id)
        if not version_name:
            first = yield from core.latest_pipeline_version(pipeline.pipeline_id)
            if first is None:
                raise KfpNotFoundError(f"KFP pipeline {name} has no version after upload", status=404)
            return pipeline, first
    pipeline_id, wanted = pipeline.pipeline_id, version_name or default_version_name
    found = yield from core.find_pipeline_version(pipeline_id, wanted)
    if found is not None:
        log.info("version %s of KFP pipeline %s exists already", wanted, name)
        return pipeline, found
    version = yield from _created_or_found(
        lambda: core.upload_pipeline_version(package, pipeline_id=pipeline_id, name=wanted, description=description),
        lambda: core.find_pipeline_version(pipeline_id, wanted),
    )
    log.info("uploaded version %s of KFP pipeline %s", wanted, name)
    return pipeline, version
