"""KfpRunSensor: wait for a KFP run that something else started (another DAG, a schedule,
a person), by run id; pokes from the worker, or defers to :class:`KfpRunTrigger`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import Any

from af2kfp.airflow_plugins._compat import (
    AirflowException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    default_deferrable,
)
from af2kfp.airflow_plugins.hooks.kfp import KfpHook
from af2kfp.airflow_plugins.links.kfp import XCOM_RUN_ID, XCOM_RUN_URL, KfpRunLink
from af2kfp.airflow_plugins.triggers.kfp import KfpRunTrigger
from af2kfp.bridge.kfp import (
    DEFAULT_UNEXPECTED_STATE_TIMEOUT,
    KfpError,
    KfpUnexpectedStateError,
    RunWatch,
    Verdict,
    WaitOptions,
    describe_failure,
)

__all__ = ["KfpRunSensor"]


class KfpRunSensor(BaseSensorOperator):
    """Succeed when KFP run ``run_id`` succeeds; fail with its error when it fails.

    Each poke is one poll of ``af2kfp.bridge.kfp.waiting`` (an API outage is a poke that says "not yet").

    :param run_id: the KFP run id (templated, e.g. from an upstream task's XCom).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``);
        ``poke_interval`` is the poll interval and ``timeout`` the limit in both modes.
    :param cancel_on_kill: terminate the run when the deferred sensor is killed (off by
        default: the sensor only watches a run it did not start).
    :param unexpected_state_timeout, success_states, failure_states: the
        :class:`~af2kfp.bridge.kfp.WaitOptions` (in ``mode="reschedule"`` the unexpected-state clock
        restarts with each poke, and the sensor's ``timeout`` applies).
    """

    template_fields: Sequence[str] = ("run_id", "namespace")
    ui_color = "#4285f4"
    operator_extra_links = (KfpRunLink(),)

    def __init__(
        self,
        *,
        run_id: str,
        kfp_conn_id: str = KfpHook.default_conn_name,
        namespace: str | None = None,
        deferrable: bool | None = None,
        cancel_on_kill: bool = False,
        success_states: list[str] | None = None,
        failure_states: list[str] | None = None,
        unexpected_state_timeout: float | None = DEFAULT_UNEXPECTED_STATE_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.kfp_conn_id = kfp_conn_id
        self.namespace = namespace
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.cancel_on_kill = cancel_on_kill
        self.success_states = success_states
        self.failure_states = failure_states
        self.wait_options = WaitOptions.create(
            unexpected_state_timeout=unexpected_state_timeout,
            success_states=success_states, failure_states=failure_states,
        )

    @cached_property
    def hook(self) -> KfpHook:
        return KfpHook(self.kfp_conn_id, namespace=self.namespace)

    @cached_property
    def watch(self) -> RunWatch:
        """The poll state kept across pokes of this try (the unexpected-state clock)."""
        return RunWatch(self.run_id, self.wait_options)

    def poke(self, context: Any) -> bool:
        try:
            verdict = self.hook.client.poll_run(self.watch)
        except KfpUnexpectedStateError as err:
            raise AirflowException(str(err)) from None
        except KfpError as err:
            raise AirflowException(f"{self.task_id}: reading KFP run {self.run_id} failed: {err}") from None
        run = self.watch.last_run
        if run is None:  # an outage outlasting the client's retries: the next poke may pass
            return False
        if verdict is Verdict.FAILURE:
            raise AirflowException(describe_failure(run))
        self.log.info("KFP run %s is %s", self.run_id, run.state.value)
        return verdict is Verdict.SUCCESS

    def execute(self, context: Any) -> Any:
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RUN_ID, value=self.run_id)
        ti.xcom_push(key=XCOM_RUN_URL, value=self.hook.run_url(self.run_id))
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):  # one look before deferring
            return None
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else self.timeout
        self.defer(
            trigger=KfpRunTrigger(
                run_id=self.run_id,
                kfp_conn_id=self.kfp_conn_id,
                namespace=self.namespace,
                poll_interval=float(self.poke_interval),
                end_time=time.time() + float(timeout) if timeout else None,
                unexpected_state_timeout=self.wait_options.unexpected_state_timeout,
                cancel_on_kill=self.cancel_on_kill,
                success_states=self.success_states,
                failure_states=self.failure_states,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        if event.get("status") == "timeout":  # as a poking sensor times out (soft_fail applies)
            raise AirflowSensorTimeout(event["message"])
        if event.get("status") != "success":
            raise AirflowException(event.get("message") or f"KFP wait ended without a message: {event!r}")
        self.log.info("KFP run %s ended %s", self.run_id, (event.get("run") or {}).get("state"))
