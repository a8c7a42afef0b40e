"""Freshness guards: a load task has nothing to do when its source has no new rows.

Raising AirflowSkipException marks the task skipped instead of failed, so the tasks that
need its rows are skipped too and the audit still runs (trigger_rule="all_done").
"""

from __future__ import annotations

from airflow.exceptions import AirflowSkipException


def rows_loaded_after(rows: list[dict], cutoff: str) -> list[dict]:
    """The rows loaded after ``cutoff`` (ISO dates compare as text); skip the task when there are none."""
    fresh = [row for row in rows if row["loaded_at"] > cutoff]
    if not fresh:
        raise AirflowSkipException(f"no rows loaded after {cutoff}")
    return fresh
