"""The compile worker pool: it must never hang the process that converts."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from af2kfp.converters import convert


_IGNORES_SIGTERM = """
import signal
from af2kfp.converters import convert

signal.signal(signal.SIGTERM, lambda *_: None)
with convert._workers(3) as pool:
    assert pool is not None
    workers = list(pool._pool)
    assert pool.apply_async(sum, ([1, 2],)).get(timeout=30) == 3
assert all(worker.exitcode is not None for worker in workers)
print("ENDED")
"""


def test_workers_end_even_when_the_parent_ignores_sigterm():
    """A host process (Airflow, a test runner) may install a SIGTERM handler that returns;
    forked workers inherit it, and Pool.terminate must still end them. Run in a fresh process:
    this one may have other tests' server threads alive, and forking next to them is what
    ``_start_workers`` refuses to do."""
    done = subprocess.run([sys.executable, "-c", _IGNORES_SIGTERM], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and "ENDED" in done.stdout, done.stderr[-2000:]


def test_no_fork_while_other_threads_run():
    """Forking copies other threads' held locks: with a second thread alive, compile in-process."""
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    try:
        assert convert._start_workers(2) is None
    finally:
        stop.set()
        helper.join()


_DIES = """
import json, os, sys, time
from pathlib import Path
from af2kfp.converters import convert

original = convert.compile_pipeline

def compile_or_die(code, function, *, dag_id, **kwargs):
    if dag_id == "doomed":
        os._exit(9)  # as a worker the OOM killer ends, or a crash in native code
    return original(code, function, dag_id=dag_id, **kwargs)

convert.compile_pipeline = compile_or_die
dags = Path(sys.argv[1])
for name in ("first", "doomed", "last"):
    (dags / f"{name}.py").write_text(
        "from datetime import datetime\\nfrom airflow import DAG\\nfrom airflow.operators.bash import BashOperator\\n"
        f"with DAG({name!r}, start_date=datetime(2024, 1, 1), schedule=None):\\n"
        "    BashOperator(task_id='hello', bash_command='echo hi')\\n")
started = time.monotonic()
report = convert.convert_paths([dags], Path(sys.argv[2]), jobs=2)
print(json.dumps({"seconds": time.monotonic() - started, "findings": report["findings"],
                  "compiled": {d["dag_id"]: d["kfp"]["compiled"] for d in report["dags"]}}))
"""


def test_a_dead_worker_is_noticed_within_seconds(tmp_path):
    """A worker that dies while compiling costs that DAG (E314) within seconds, not a 10-minute
    wait; the DAGs other workers or the replacement worker compile are not lost."""
    (tmp_path / "dags").mkdir()
    done = subprocess.run([sys.executable, "-c", _DIES, str(tmp_path / "dags"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["compiled"] == {"first": True, "doomed": False, "last": True}
    died = [f for f in outcome["findings"] if f["code"] == "E314"]
    assert [f["dag_id"] for f in died] == ["doomed"] and "died while compiling" in died[0]["message"]
    assert outcome["seconds"] < 60  # kfp's import in the workers included; the old wait was 600 s
