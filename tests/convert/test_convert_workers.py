"""The compile worker pool: it must never hang the process that converts."""

from __future__ import annotations

import signal
import threading

import pytest

from converters import convert


@pytest.mark.timeout(60, method="thread")  # a hang must fail, not stall the suite
def test_workers_end_even_when_the_parent_ignores_sigterm(monkeypatch):
    """A host process (Airflow, a test runner) may install a SIGTERM handler that returns;
    forked workers inherit it, and Pool.terminate must still end them."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with convert._workers(3) as pool:
            assert pool is not None
            workers = list(pool._pool)
            assert pool.apply_async(sum, ([1, 2],)).get(timeout=30) == 3
        assert all(worker.exitcode is not None for worker in workers)
    finally:
        signal.signal(signal.SIGTERM, previous)


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
