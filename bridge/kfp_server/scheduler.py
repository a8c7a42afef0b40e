"""The local server's scheduler: a background thread that starts recurring runs' due runs.

It calls :meth:`~af2kfp.bridge.kfp_server.recurring.RecurringRuns.trigger_due` every ``tick``
seconds (of real time). What is due is decided by the API's clock, so a test can give the
server a fast clock (a minute of schedule in a fraction of a second) or call
``trigger_due`` itself; everything it needs is in the database, so a restarted server
goes on where the last one stopped.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from af2kfp.bridge.kfp_server.api import KfpApi

__all__ = ["Scheduler", "DEFAULT_TICK"]

log = logging.getLogger(__name__)

DEFAULT_TICK = 1.0
"""Seconds between two looks; KFP's cron has a seconds field, so one second is its grain."""


class Scheduler:
    """Runs ``api.recurring.trigger_due()`` every ``tick`` seconds until :meth:`stop`."""

    def __init__(self, api: "KfpApi", tick: float = DEFAULT_TICK) -> None:
        if tick <= 0:
            raise ValueError("the scheduler's tick must be positive")
        self.api = api
        self.tick = tick
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="af2kfp-kfp-server-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the current step to end (the database may be closed after)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stopped.wait(self.tick):
            try:
                self.api.recurring.trigger_due()
            except Exception:  # one bad step must not end scheduling; the next one tries again
                log.exception("af2kfp kfp-server: triggering recurring runs failed")
