"""The deferrable wait: polls one KFP run over HTTP from the triggerer's event loop.

One event per run, always saying how the wait ended: ``success``, ``failure`` (the run's
error and its failed tasks), ``timeout`` (the run was left going), or ``error`` (what
could not be done, e.g. the API kept failing after the client's own retries).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from af2kfp.airflow_plugins._compat import BaseTrigger, TriggerEvent
from af2kfp.airflow_plugins.hooks.kfp import KfpHook
from af2kfp.bridge.kfp import (
    DEFAULT_UNEXPECTED_STATE_TIMEOUT,
    KfpUnexpectedStateError,
    KfpWaitTimeoutError,
    Run,
    RunWatch,
    WaitOptions,
    describe_failure,
)

__all__ = ["KfpRunTrigger"]

log = logging.getLogger(__name__)


class KfpRunTrigger(BaseTrigger):
    """Wait for KFP run ``run_id`` to reach a success or failure state (``af2kfp.bridge.kfp.waiting``'s loop).

    :param run_id: the KFP run to wait on.
    :param kfp_conn_id: the ``kubeflow_pipelines`` connection.
    :param namespace: overrides the connection's namespace.
    :param end_time: epoch seconds after which the wait ends with a ``timeout`` event.
    :param cancel_on_kill: terminate the run when a user kills the deferred task.
    :param poll_interval, unexpected_state_timeout, success_states, failure_states: the
        :class:`~af2kfp.bridge.kfp.WaitOptions` (the unexpected-state clock restarts with the triggerer).
    """

    def __init__(
        self,
        *,
        run_id: str,
        kfp_conn_id: str = KfpHook.default_conn_name,
        namespace: str | None = None,
        poll_interval: float = WaitOptions.poll_interval,
        end_time: float | None = None,
        unexpected_state_timeout: float | None = DEFAULT_UNEXPECTED_STATE_TIMEOUT,
        cancel_on_kill: bool = True,
        success_states: list[str] | None = None,
        failure_states: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.kfp_conn_id = kfp_conn_id
        self.namespace = namespace
        self.end_time = end_time
        self.cancel_on_kill = cancel_on_kill
        self.success_states = success_states
        self.failure_states = failure_states
        self.wait_options = WaitOptions.create(
            poll_interval=poll_interval, unexpected_state_timeout=unexpected_state_timeout,
            success_states=success_states, failure_states=failure_states,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "kfp_conn_id": self.kfp_conn_id,
                "namespace": self.namespace,
                "poll_interval": self.wait_options.poll_interval,
                "end_time": self.end_time,
                "unexpected_state_timeout": self.wait_options.unexpected_state_timeout,
                "cancel_on_kill": self.cancel_on_kill,
                "success_states": self.success_states,
                "failure_states": self.failure_states,
            },
        )

    def _hook(self) -> KfpHook:
        return KfpHook(kfp_conn_id=self.kfp_conn_id, namespace=self.namespace)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        watch = RunWatch(self.run_id, self.wait_options, end_time=self.end_time)
        try:
            async with self._hook().async_client() as client:
                run = await client.watch_run(watch, raise_on_failure=False)
            verdict = self.wait_options.policy.classify(run.state)
            event = self._event(verdict.value, run, describe_failure(run))
        except asyncio.CancelledError:
            raise
        except KfpUnexpectedStateError as err:
            event = self._event("failure", watch.last_run, str(err))
        except KfpWaitTimeoutError:
            message = (
                f"KFP run {self.run_id} did not finish before the timeout "
                f"(last state: {watch.last_state or 'unknown'}); the run was left going"
            )
            event = self._event("timeout", watch.last_run, message)
        except Exception as exc:  # an event that names what failed, not a vague one
            message = f"waiting for KFP run {self.run_id} failed (last state: {watch.last_state or 'unknown'}): {exc}"
            event = self._event("error", None, message)
        yield TriggerEvent(event)

    def _event(self, status: str, run: Run | None, message: str) -> dict[str, Any]:
        summary = run.summary() if run is not None else None
        return {"status": status, "run_id": self.run_id, "run": summary, "message": message}

    async def on_kill(self) -> None:
        """Airflow 3.3+: a user killed the deferred task (mark failed/success, clear)."""
        if not self.cancel_on_kill:
            return
        async with self._hook().async_client() as client:
            await client.terminate_run(self.run_id)
        log.info("terminated KFP run %s because its task was killed", self.run_id)
