"""Load DAG folders with Airflow's own DagBag and print what a cut-over DAG must keep, as JSON.

Run in a child process (``python -m tests.cutover.load_dags FOLDER...``) with a throwaway
``AIRFLOW_HOME``: Airflow reads its settings once, at import.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _callable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_callable(v) for v in value]
    code = getattr(value, "__code__", None)
    where = str(Path(code.co_filename).resolve()) if code is not None else None
    return {"name": getattr(value, "__qualname__", repr(value)), "file": where}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def facts(dag: Any) -> dict[str, Any]:
    from airflow.serialization.encoders import encode_timetable

    defaults = dict(dag.default_args or {})
    retry_delay = defaults.get("retry_delay")
    return {
        "fileloc": str(Path(dag.fileloc).resolve()),
        "timetable": encode_timetable(dag.timetable),
        "start_date": _iso(dag.start_date),
        "end_date": _iso(dag.end_date),
        "timezone": str(dag.timezone),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tags": sorted(dag.tags or ()),
        "owner": dag.owner,
        "retries": defaults.get("retries"),
        "retry_delay": retry_delay.total_seconds() if retry_delay is not None else None,
        "on_failure_callback": _callable(defaults.get("on_failure_callback") or dag.on_failure_callback),
        "on_success_callback": _callable(defaults.get("on_success_callback") or dag.on_success_callback),
        "params": dag.params.dump(),
        "tasks": {t.task_id: type(t).__qualname__ for t in dag.tasks},
        "task_retries": {t.task_id: t.retries for t in dag.tasks},
        "task_owner": {t.task_id: t.owner for t in dag.tasks},
    }


def load(folder: str) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder)
    return {
        "import_errors": {str(k): str(v)[-2000:] for k, v in bag.import_errors.items()},
        "dags": {dag_id: facts(dag) for dag_id, dag in bag.dags.items()},
    }


if __name__ == "__main__":
    result = {folder: load(folder) for folder in sys.argv[1:]}
    print("\n" + json.dumps(result, default=str))
