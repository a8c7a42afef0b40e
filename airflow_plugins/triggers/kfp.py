"""The deferrable wait: polls one KFP run over HTTP from the triggerer's event loop.

One event per run, always saying how the wait ended: ``success``, ``failure`` (the run's
error and its failed tasks), ``timeout`` (the run was left going), or ``error`` (what
could not be done, e.g. the API kept failing after the client's own retries).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow_plugins._compat import BaseTrigger, TriggerEvent
from airflow_plugins.hooks.kfp import KfpHook
from bridge.kfp import (
    DEFAULT_UNEXPECTED_STATE_TIMEOUT,
    AsyncKfpClient,
    KfpApiError,
    KfpUnexpectedStateError,
    Run,
    StatePolicy,
    UnexpectedStateWatch,
    Verdict,
    describe_failure,
    raw_state,
)

__all__ = ["KfpRunTrigger"]

log = logging.getLogger(__name__)


class KfpRunTrigger(BaseTrigger):
    """Wait for KFP run ``run_id`` to reach a success or failure state.

    :param run_id: the KFP run to wait on.
    :param kfp_conn_id: the ``kubeflow_pipelines`` connection.
    :param namespace: overrides the connection's namespace.
    :param poll_interval: seconds between two state reads.
    :param end_time: epoch seconds after which the wait ends with a ``timeout`` event.
    :param unexpected_state_timeout: seconds a run may stay in a state no waiter expects
        (unknown, unspecified, PAUSED) before the wait ends with a ``failure`` event naming it
        (None: wait on). The clock restarts with the triggerer.
    :param cancel_on_kill: terminate the run when a user kills the deferred task.
    :param success_states: run states that end the wait with success (default SUCCEEDED, SKIPPED).
    :param failure_states: run states that end it with failure (default FAILED, CANCELED).
    """

    def __init__(
        self,
        *,
        run_id: str,
        kfp_conn_id: str = KfpHook.default_conn_name,
        namespace: str | None = None,
        poll_interval: float = 10.0,
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
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.unexpected_state_timeout = unexpected_state_timeout
        self.cancel_on_kill = cancel_on_kill
        self.success_states = success_states
        self.failure_states = failure_states
        self.policy = StatePolicy.create(success=success_states, failure=failure_states)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "kfp_conn_id": self.kfp_conn_id,
                "namespace": self.namespace,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "unexpected_state_timeout": self.unexpected_state_timeout,
                "cancel_on_kill": self.cancel_on_kill,
                "success_states": self.success_states,
                "failure_states": self.failure_states,
            },
        )

    def _hook(self) -> KfpHook:
        return KfpHook(kfp_conn_id=self.kfp_conn_id, namespace=self.namespace)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        state = None
        watch = UnexpectedStateWatch(self.unexpected_state_timeout)
        try:
            async with hook.async_client() as client:
                while True:
                    run = await self._poll(client)
                    if run is not None:
                        state = run.state.value
                        verdict = self.policy.classify(run.state)
                        if verdict is not Verdict.WAIT:
                            yield TriggerEvent(
                                self._event(verdict.value, run.summary(), describe_failure(run))
                            )
                            return
                        stayed = watch.check(run.state, verdict)
                        if stayed is not None:
                            message = str(KfpUnexpectedStateError(self.run_id, raw_state(run), stayed))
                            yield TriggerEvent(self._event("failure", run.summary(), message))
                            return
                    left = None if self.end_time is None else self.end_time - time.time()
                    if left is not None and left <= 0:
                        message = (
                            f"KFP run {self.run_id} did not finish before the timeout "
                            f"(last state: {state or 'unknown'}); the run was left going"
                        )
                        yield TriggerEvent(self._event("timeout", run.summary() if run else None, message))
                        return
                    log.debug("KFP run %s is %s; next poll in %ss", self.run_id, state, self.poll_interval)
                    await asyncio.sleep(self.poll_interval if left is None else min(self.poll_interval, left))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an event that names what failed, not a vague one
            message = f"waiting for KFP run {self.run_id} failed (last state: {state or 'unknown'}): {exc}"
            yield TriggerEvent(self._event("error", None, message))

    async def _poll(self, client: AsyncKfpClient) -> Run | None:
        """The run now, or None when KFP stayed unreachable through the client's retries:
        an API outage shorter than the timeout does not fail a long wait."""
        try:
            return await client.get_run(self.run_id)
        except KfpApiError as err:
            if not err.retriable:
                raise
            log.warning("polling KFP run %s failed (%s); still waiting", self.run_id, err)
            return None

    def _event(self, status: str, run: dict[str, Any] | None, message: str) -> dict[str, Any]:
        return {"status": status, "run_id": self.run_id, "run": run, "message": message}

    async def on_kill(self) -> None:
        """Airflow 3.3+: a user killed the deferred task (mark failed/success, clear)."""
        if not self.cancel_on_kill:
            return
        async with self._hook().async_client() as client:
            await client.terminate_run(self.run_id)
        log.info("terminated KFP run %s because its task was killed", self.run_id)
