"""Task callbacks shared by every DAG (Airflow puts plugins/ on sys.path)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def notify_on_failure(context) -> None:
    """Log the failed task where the alerting pipeline picks it up."""
    ti = context["ti"]
    log.error("task %s.%s failed (try %s)", ti.dag_id, ti.task_id, ti.try_number)
