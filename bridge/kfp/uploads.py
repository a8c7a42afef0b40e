"""Uploaded pipelines and versions found or created by name, never twice.

KFP keeps a pipeline's name unique in its namespace and a version's name unique in its
pipeline, so a name is an identity: :func:`get_or_create_pipeline` and
:func:`get_or_upload_version` look the name up, create it when missing, and when the
create fails because the name is taken (409: another caller won a race) or may have been
applied anyway (a dropped connection, a 5xx), look again and return what is there.
``af2kfp deploy`` names each version after the content it holds, so "the version exists"
means "this content is uploaded".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from bridge.kfp.core import KfpCore, Op
from bridge.kfp.errors import KfpApiError
from bridge.kfp.models import Pipeline, PipelineVersion

__all__ = ["get_or_create_pipeline", "get_or_upload_version"]


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
