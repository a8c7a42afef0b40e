"""Waiting on a KFP run: the options, one poll step, and the loop, for every waiter.

The command line and the operator (``wait_for_run``), the deferrable trigger (the same
loop on the async client) and the poking sensor (one :func:`poll_run` per poke) all judge
a run here, so a state, an API fault or a stuck run means the same thing to each of them:

- :class:`WaitOptions`: poll interval, timeout, how long a run may stay in a state no
  waiter expects, and which states end the wait (one type, checked once). Backoff on API
  faults is the client's :class:`~af2kfp.bridge.kfp.retry.RetryPolicy` (the connection's setting):
  each poll is one retried call, and a poll that still fails with a retriable error does
  not end the wait, the next one comes a poll interval later.
- :class:`RunWatch`: what one waiter knows between polls (its options, its deadline, the
  unexpected-state clock, the last run seen); it lives as long as the waiter.
- :func:`poll_run`: one look; :func:`watch_run`: look until the run ends or time is up.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from af2kfp.bridge.kfp.core import KfpCore, Op
from af2kfp.bridge.kfp.errors import KfpApiError, KfpRunFailedError, KfpUnexpectedStateError, KfpWaitTimeoutError
from af2kfp.bridge.kfp.models import Run, describe_failure
from af2kfp.bridge.kfp.protocol import Sleep
from af2kfp.bridge.kfp.states import (
    DEFAULT_POLICY,
    DEFAULT_UNEXPECTED_STATE_TIMEOUT,
    StatePolicy,
    UnexpectedStateWatch,
    Verdict,
    raw_state,
)

__all__ = ["WaitOptions", "RunWatch", "poll_run", "watch_run", "wait_for_run"]

log = logging.getLogger("af2kfp.bridge.kfp")


@dataclass(frozen=True, kw_only=True)
class WaitOptions:
    """How to wait for a run; every waiter (CLI, operator, trigger, sensor) takes these.

    ``timeout`` is in seconds from the start of the wait (None: no limit; the run is left
    going when it passes). ``unexpected_state_timeout`` is how long a run may stay in a
    state no waiter expects (unknown, unspecified, PAUSED) before the wait ends naming it
    (None: wait on); PENDING, RUNNING and CANCELING are always waited through. ``policy``
    says which states are success and which failure (:meth:`StatePolicy.create` from names).
    """

    poll_interval: float = 10.0
    timeout: float | None = None
    unexpected_state_timeout: float | None = DEFAULT_UNEXPECTED_STATE_TIMEOUT
    policy: StatePolicy = field(default=DEFAULT_POLICY)

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {self.poll_interval}")
        if self.unexpected_state_timeout is not None and self.unexpected_state_timeout < 0:
            raise ValueError(f"unexpected_state_timeout must be >= 0 seconds, got {self.unexpected_state_timeout}")

    @classmethod
    def create(
        cls,
        *,
        success_states: list[str] | None = None,
        failure_states: list[str] | None = None,
        poll_interval: float = 10.0,
        timeout: float | None = None,
        unexpected_state_timeout: float | None = DEFAULT_UNEXPECTED_STATE_TIMEOUT,
    ) -> WaitOptions:
        """Options from state names as Airflow users write them (unknown names: ValueError)."""
        policy = StatePolicy.create(success=success_states, failure=failure_states)  # type: ignore[arg-type]
        return cls(
            poll_interval=poll_interval, timeout=timeout, unexpected_state_timeout=unexpected_state_timeout,
            policy=policy,
        )


class RunWatch:
    """One waiter's view of run ``run_id`` across polls.

    ``end_time`` (epoch seconds, wall clock) is the deadline of a wait that outlives a
    process (a deferred trigger is serialized and may resume on another triggerer);
    without it the deadline is ``options.timeout`` from now on the monotonic clock.
    ``last_run`` is the run the latest poll read (None when it failed); ``last_state``
    the latest state any poll read.
    """

    def __init__(self, run_id: str, options: WaitOptions, *, end_time: float | None = None) -> None:
        self.run_id = run_id
        self.options = options
        self.last_run: Run | None = None
        self.last_state: str | None = None
        self._unexpected = UnexpectedStateWatch(options.unexpected_state_timeout)
        if end_time is not None:
            self._clock: Callable[[], float] = time.time
            self._deadline: float | None = end_time
        else:
            self._clock = time.monotonic
            self._deadline = None if options.timeout is None else time.monotonic() + options.timeout

    def judge(self, run: Run | None) -> Verdict:
        """What a poll's result means; raises when the run stayed too long in an unexpected state."""
        self.last_run = run
        if run is None:
            return Verdict.WAIT
        self.last_state = run.state.value
        verdict = self.options.policy.classify(run.state)
        stayed = self._unexpected.check(run.state, verdict)
        if stayed is not None:
            raise KfpUnexpectedStateError(self.run_id, raw_state(run), stayed)
        return verdict

    def pause(self) -> float:
        """Seconds until the next poll; raises :class:`KfpWaitTimeoutError` when time is up."""
        if self._deadline is None:
            return self.options.poll_interval
        left = self._deadline - self._clock()
        if left <= 0:
            raise KfpWaitTimeoutError(self.run_id, float(self.options.timeout or 0), self.last_state)
        return min(self.options.poll_interval, left)


def poll_run(core: KfpCore, watch: RunWatch, on_poll: Callable[[Run], None] | None = None) -> Op[Verdict]:
    """One poll: read the run, show it to ``on_poll``, judge it (it is ``watch.last_run``).

    A retriable API error that outlived the client's own retries is an outage, not the
    run's end: it is logged and the verdict is WAIT. Other errors raise.
    """
    try:
        run: Run | None = yield from core.get_run(watch.run_id)
    except KfpApiError as err:
        if not err.retriable:
            raise
        log.warning("polling KFP run %s failed (%s); still waiting", watch.run_id, err.message)
        run = None
    if run is not None and on_poll is not None:
        on_poll(run)
    return watch.judge(run)


def watch_run(
    core: KfpCore,
    watch: RunWatch,
    *,
    raise_on_failure: bool = True,
    on_poll: Callable[[Run], None] | None = None,
) -> Op[Run]:
    """Poll until the run succeeds or fails by the watch's policy; returns the final run.

    Raises :class:`KfpRunFailedError` on failure (unless ``raise_on_failure=False``),
    :class:`KfpWaitTimeoutError` past the deadline, :class:`KfpUnexpectedStateError` for a
    run stuck in a state no waiter expects. ``on_poll`` sees every run read (progress).
    """
    while True:
        verdict = yield from poll_run(core, watch, on_poll)
        run = watch.last_run
        if run is not None and verdict is Verdict.SUCCESS:
            return run
        if run is not None and verdict is Verdict.FAILURE:
            if raise_on_failure:
                raise KfpRunFailedError(run, describe_failure(run))
            return run
        pause = watch.pause()
        log.debug("KFP run %s is %s; next poll in %.3gs", watch.run_id, watch.last_state, pause)
        yield Sleep(pause)


def wait_for_run(
    core: KfpCore,
    run_id: str,
    *,
    poll_interval: float = 10.0,
    timeout: float | None = None,
    policy: StatePolicy = DEFAULT_POLICY,
    raise_on_failure: bool = True,
    on_poll: Callable[[Run], None] | None = None,
    unexpected_state_timeout: float | None = DEFAULT_UNEXPECTED_STATE_TIMEOUT,
) -> Op[Run]:
    """:func:`watch_run` on ``run_id`` with these :class:`WaitOptions` (the keyword form)."""
    options = WaitOptions(
        poll_interval=poll_interval, timeout=timeout, policy=policy, unexpected_state_timeout=unexpected_state_timeout
    )
    return (yield from watch_run(core, RunWatch(run_id, options), raise_on_failure=raise_on_failure, on_poll=on_poll))
