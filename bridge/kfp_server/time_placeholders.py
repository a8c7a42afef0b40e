"""KFP's time placeholders under ``kfp.local``, resolved as the KFP backend resolves them.

A converted pipeline dates its runs from ``dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER`` and
``dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER`` (``af2kfp.converters.run_context``). The KFP backend
(2.17+, ``backend/src/v2/driver/resolve.go`` and ``cmd/driver/main.go``) substitutes a task input
that is exactly one of them: the run's creation time, and the recurring run's scheduled time or,
for a one-off run, the creation time, as RFC 3339 UTC text with seconds (``2024-03-05T00:00:00Z``).
``kfp.local`` (2.17, and kubeflow/pipelines master) resolves neither: its
``placeholder_utils.resolve_io_placeholders`` fails with ``IndexError`` on them. This wraps
``placeholder_utils.resolve_individual_placeholder`` (kfp.local has no public hook) for the
local KFP API server and the tests that run converted pipelines.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Any, Iterator

__all__ = ["time_placeholders", "rfc3339"]

CREATE = "{{$.pipeline_job_create_time_utc}}"
SCHEDULE = "{{$.pipeline_job_schedule_time_utc}}"


def rfc3339(moment: datetime) -> str:
    """``2024-03-05T00:00:00Z``: UTC, whole seconds, as the backend writes a time."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment
    return utc.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def time_placeholders(create_time: datetime | None = None, schedule_time: datetime | None = None) -> Iterator[None]:
    """While inside, kfp.local gives the creation time (default: now) and the scheduled time
    (default: the creation time, as for a one-off run) to inputs holding the placeholders."""
    from kfp.local import placeholder_utils

    created = rfc3339(create_time or datetime.now(timezone.utc))
    values = {CREATE: created, SCHEDULE: rfc3339(schedule_time) if schedule_time else created}
    original = placeholder_utils.resolve_individual_placeholder

    def resolve(element: str, *args: Any, **kwargs: Any) -> str:
        return values[element] if element in values else original(element, *args, **kwargs)

    placeholder_utils.resolve_individual_placeholder = resolve
    try:
        yield
    finally:
        placeholder_utils.resolve_individual_placeholder = original
