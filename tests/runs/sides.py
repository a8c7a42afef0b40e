"""The child processes of the both-sides harnesses (:mod:`tests.runs.harness`,
:mod:`tests.runs.context_harness`): a fresh Airflow metadata database, starting a side,
waiting for it, killing it.

A fresh database is a copy of one ``db.resetdb()`` made once per test process: resetting
costs seconds of SQLite writes per Airflow child, and every reset database is the same.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["airflow_env", "start", "finish", "finish_both", "kill"]

_RESET = "from airflow.utils import db; db.resetdb()"
_template: Path | None = None


def _fresh_db() -> Path:
    """The database ``db.resetdb()`` leaves, made once per process (in its own Airflow home)."""
    global _template
    if _template is None:
        home = Path(tempfile.mkdtemp(prefix="af2kfp-airflow-db-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
               "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}
        reset = subprocess.run([sys.executable, "-c", _RESET], env=env, capture_output=True, text=True, timeout=600)
        assert reset.returncode == 0, reset.stderr[-3000:]
        _template = home / "airflow.db"
    return _template


def airflow_env(home: Path, dags: Path, **extra: str) -> dict[str, str]:
    """The environment of an Airflow side: its home ``home`` with a fresh SQLite database, DAGs from ``dags``."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_fresh_db(), home / "airflow.db")
    return {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}", **extra}


def start(command: list[str], log: Path, **options: Any) -> subprocess.Popen:
    """A side in its own session, its output to ``log.stdout``/``log.stderr`` (files: a pipe nobody reads
    while the other side runs would stall it)."""
    with open(f"{log}.stdout", "w") as stdout, open(f"{log}.stderr", "w") as stderr:
        return subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, start_new_session=True, **options)


def kill(process: subprocess.Popen) -> None:
    """The side and the task processes it started (its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def finish(process: subprocess.Popen, log: Path, timeout: float) -> subprocess.CompletedProcess:
    """Wait for a side (killed past ``timeout``); it must have finished cleanly."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        raise
    stdout, stderr = (Path(f"{log}.{name}").read_text(encoding="utf-8") for name in ("stdout", "stderr"))
    assert process.returncode == 0, stderr[-3000:]
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def finish_both(first: tuple[subprocess.Popen, Path], second: tuple[subprocess.Popen, Path],
                timeout: float) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """Wait for two sides started together; if one fails or times out, the other does not outlive the test."""
    try:
        return finish(*first, timeout), finish(*second, timeout)
    finally:
        for process, _ in (first, second):
            if process.poll() is None:
                kill(process)
