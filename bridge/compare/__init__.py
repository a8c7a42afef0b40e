"""Runtime side by side: an Airflow DAG run and a KFP run, task by task (``af2kfp compare``).

- :mod:`~af2kfp.bridge.compare.airflow_api`: :func:`fetch_airflow_run` reads a DAG run and its task
  instances through Airflow's REST API (``/api/v2`` with a JWT, else ``/api/v1`` with basic auth).
- :mod:`~af2kfp.bridge.compare.kfp_side`: :func:`fetch_kfp_run` reads a KFP run through :mod:`af2kfp.bridge.kfp`.
- :mod:`~af2kfp.bridge.compare.match`: :func:`load_report_dag` and :func:`compare_runs` match the tasks
  through the migration recorded in ``report.json``.
- :mod:`~af2kfp.bridge.compare.render`: :func:`render` as JSON, Markdown or self-contained HTML.

Both sides speak :class:`RunRecord` / :class:`TaskRun` with an outcome vocabulary shared by
Airflow and KFP (success, failed, skipped, canceled, running, not_run).
"""

from af2kfp.bridge.compare.airflow_api import (
    AirflowApiError,
    AirflowAuthError,
    AirflowNotFoundError,
    AirflowSettings,
    fetch_airflow_run,
)
from af2kfp.bridge.compare.kfp_side import fetch_kfp_run, kfp_run_record
from af2kfp.bridge.compare.match import Comparison, TaskRow, compare_runs, load_report_dag
from af2kfp.bridge.compare.model import RunRecord, TaskRun
from af2kfp.bridge.compare.render import render, to_html, to_json, to_markdown

__all__ = [
    "AirflowApiError",
    "AirflowAuthError",
    "AirflowNotFoundError",
    "AirflowSettings",
    "Comparison",
    "RunRecord",
    "TaskRow",
    "TaskRun",
    "compare_runs",
    "fetch_airflow_run",
    "fetch_kfp_run",
    "kfp_run_record",
    "load_report_dag",
    "render",
    "to_html",
    "to_json",
    "to_markdown",
]
