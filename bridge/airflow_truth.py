"""Ground truth from real Airflow: what ``DagBag`` builds from DAG files.

The analyzer never runs user code; this module does, on purpose, to check it. Loading
happens in a separate process (``python -m af2kfp.bridge.airflow_truth PATH...``, the same
interpreter) with ``AIRFLOW_HOME`` in a temporary folder, so neither Airflow nor the
user's DAG code is ever imported into the caller. The child prints one JSON document:

    {"files": {abs_file: {dag_id: {"tasks": {task_id: {"operator", "task_type", "args"}},
                                    "edges": [[upstream, downstream], ...]}}},
     "import_errors": {abs_file: message}}

It backs the analyzer's ground-truth tests and ``af2kfp verify``. It works with Airflow 3
and Airflow 2.10 (``python=`` picks the interpreter of another environment).

SubDAGs (Airflow 2 only) are reported as the analyzer sees them: each SubDagOperator task
is replaced by its sub-DAG's tasks, ids prefixed ``<task_id>.``, the operator's upstream
tasks wired to the sub-DAG's roots and its leaves to the operator's downstream tasks
(recursively); the ``parent.child`` DAGs DagBag lists with ``is_subdag`` are left out.
So a flattened SubDAG is compared task by task instead of showing up as a difference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from af2kfp.converters.errors import Af2KfpError

__all__ = ["load_with_airflow", "AirflowLoadError", "RESOLVED_ARGS"]

# Task attributes reported with their resolved values (absent ones are left out).
RESOLVED_ARGS = ("image", "cmds", "command", "arguments", "env", "env_vars", "environment", "retries", "bash_command")


class AirflowLoadError(Af2KfpError):
    """The Airflow child process failed or did not answer in time."""


def load_with_airflow(paths: list[Path], timeout: float = 300, python: str | None = None,
                      environment: dict[str, str] | None = None, sys_path: list[Path] | None = None) -> dict[str, Any]:
    """Load ``paths`` (files or folders) with Airflow's own ``DagBag`` in a child process
    run by ``python`` (default: this interpreter), which must have Airflow and af2kfp installed.

    ``environment``: extra variables for the child (``AIRFLOW_VAR_X`` for the Variables the conversion was
    given); ``sys_path``: folders helper modules are imported from (the repository root, its plugins)."""
    with tempfile.TemporaryDirectory(prefix="af2kfp-airflow-home-") as home:
        env = {
            **os.environ,
            **(environment or {}),
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": home,
            _SYS_PATH: os.pathsep.join(str(p) for p in sys_path or []),
        }
        command = [python or sys.executable, "-m", "af2kfp.bridge.airflow_truth", *(str(p) for p in paths)]
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AirflowLoadError(f"Airflow did not load {len(paths)} path(s) within {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise AirflowLoadError(f"Airflow child process failed (exit {done.returncode}):\n{tail}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AirflowLoadError(f"Airflow child process printed no JSON: {done.stdout[-500:]!r}") from exc


_SYS_PATH = "AF2KFP_EXTRA_SYS_PATH"


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON data for a resolved task attribute; objects become their dict or their repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 8:
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        try:
            return _plain(to_dict(), depth + 1)
        except Exception:  # noqa: BLE001 - a broken to_dict is reported as text
            return repr(value)
    return repr(value)


def _describe_task(airflow_task: Any) -> dict[str, Any]:
    cls = type(airflow_task)
    args = {name: _plain(getattr(airflow_task, name)) for name in RESOLVED_ARGS if hasattr(airflow_task, name)}
    return {
        "operator": f"{cls.__module__}.{cls.__qualname__}",
        "task_type": getattr(airflow_task, "task_type", cls.__name__),
        "args": args,
    }


def _subdag(airflow_task: Any) -> Any:
    """The sub-DAG a SubDagOperator runs (Airflow 2), if it has tasks; else ``None``."""
    sub = getattr(airflow_task, "subdag", None)
    is_operator = type(airflow_task).__name__ == "SubDagOperator"
    return sub if is_operator and getattr(sub, "tasks", None) else None


def _ends(dag: Any, prefix: str, depth: int) -> tuple[list[str], list[str]]:
    """The flattened ids of ``dag``'s roots and leaves (a SubDAG root or leaf stands for its own)."""
    roots: list[str] = []
    leaves: list[str] = []
    for airflow_task in dag.tasks:
        ends = _task_ends(airflow_task, prefix, depth)
        if not airflow_task.upstream_list:
            roots.extend(ends[0])
        if not airflow_task.downstream_list:
            leaves.extend(ends[1])
    return roots, leaves


def _task_ends(airflow_task: Any, prefix: str, depth: int) -> tuple[list[str], list[str]]:
    sub = _subdag(airflow_task) if depth < 20 else None
    if sub is None:
        return [prefix + airflow_task.task_id], [prefix + airflow_task.task_id]
    return _ends(sub, f"{prefix}{airflow_task.task_id}.", depth + 1)


def _describe_dag(dag: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Tasks and edges of ``dag``, SubDagOperators replaced by their sub-DAGs' tasks (see the module doc)."""
    tasks: dict[str, Any] = {}
    edges: list[list[str]] = []
    for airflow_task in dag.tasks:
        sub = _subdag(airflow_task) if depth < 20 else None
        if sub is not None:
            inner = _describe_dag(sub, f"{prefix}{airflow_task.task_id}.", depth + 1)
            tasks.update(inner["tasks"])
            edges.extend(inner["edges"])
        else:
            tasks[prefix + airflow_task.task_id] = _describe_task(airflow_task)
        leaves = _task_ends(airflow_task, prefix, depth)[1]
        for down in airflow_task.downstream_list:
            roots = _task_ends(down, prefix, depth)[0]
            edges.extend([leaf, root] for leaf in leaves for root in roots)
    return {"tasks": tasks, "edges": sorted(edges)}


def _main(argv: list[str]) -> int:
    """Child process: load every path with DagBag and print the JSON document on stdout."""
    real_stdout = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # Airflow and DAG code may print: keep stdout clean
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models.dagbag import DagBag  # Airflow 2
        from airflow import settings
        from airflow.models.pool import Pool

        # Airflow 2's SubDagOperator reads the pool table while it is built; the database is the
        # throw-away one in the temporary AIRFLOW_HOME, so that table is simply created.
        Pool.__table__.create(settings.engine, checkfirst=True)

    result: dict[str, Any] = {"files": {}, "import_errors": {}}
    for extra in filter(None, os.environ.get(_SYS_PATH, "").split(os.pathsep)):
        if extra not in sys.path:
            sys.path.append(extra)  # the repository root and its plugins/, as Airflow has them on sys.path
    for raw in argv:
        path = Path(raw).resolve()
        folder = str(path if path.is_dir() else path.parent)
        if folder not in sys.path:
            sys.path.append(folder)  # as Airflow puts its DAGs folder on sys.path for local helpers
        bag = DagBag(dag_folder=str(path), collect_dags=True)  # default safe mode, as a deployment
        for dag in bag.dags.values():
            if getattr(dag, "is_subdag", False):
                continue  # flattened into its parent by _describe_dag
            result["files"].setdefault(str(Path(dag.fileloc).resolve()), {})[dag.dag_id] = _describe_dag(dag)
        for file, error in bag.import_errors.items():
            file_path = Path(file)
            if not file_path.is_absolute():
                file_path = (path if path.is_dir() else path.parent) / file_path
            result["import_errors"][str(file_path.resolve())] = str(error)
    json.dump(result, real_stdout, sort_keys=True)
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
