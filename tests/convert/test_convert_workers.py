"""The compile worker pool: it must never hang the process that converts."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from converters import convert


_IGNORES_SIGTERM = """
import signal
from converters import convert

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
