"""Load one DAG folder with Airflow's DagBag in a child process and report what it built.

``run_probe(folder, home)`` starts ``python dagbag_probe.py FOLDER`` with ``AIRFLOW_HOME``
in ``home`` (so Airflow and the DAG code never load into the test process) and returns
the child's JSON. The folder is loaded as a DAG bundle (``BundleDagBag``), the way
Airflow 3's DAG processor loads it: the folder is on ``sys.path``, so
``from common... import`` works and ``.airflowignore`` is honoured::

    {"dags": {dag_id: {"file": rel_path, "tasks": [...], "edges": [[up, down], ...]}},
     "import_errors": {rel_path: last line of the error}}
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

__all__ = ["run_probe"]


def run_probe(folder: Path, home: Path) -> dict[str, Any]:
    """DagBag's view of ``folder``; skips the test when Airflow is not installed."""
    if importlib.util.find_spec("airflow") is None:
        pytest.skip("apache-airflow is not installed")
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
    }
    done = subprocess.run(
        [sys.executable, __file__, str(folder)], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _main(folder: str) -> int:
    """Child process: load ``folder`` and print the JSON document on the real stdout."""
    real_stdout = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # DAG code may print: keep stdout for JSON
    from airflow.dag_processing.dagbag import BundleDagBag

    root = Path(folder).resolve()
    bag = BundleDagBag(dag_folder=str(root), bundle_path=root, safe_mode=False)
    dags = {
        dag.dag_id: {
            "file": Path(dag.fileloc).resolve().relative_to(root).as_posix(),
            "tasks": sorted(task.task_id for task in dag.tasks),
            "edges": sorted([task.task_id, down] for task in dag.tasks for down in task.downstream_task_ids),
        }
        for dag in bag.dags.values()
    }
    errors = {
        Path(file).as_posix(): (error.strip().splitlines() or [""])[-1] for file, error in bag.import_errors.items()
    }
    json.dump({"dags": dags, "import_errors": errors}, real_stdout, sort_keys=True, indent=1)
    real_stdout.write("\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1]))
