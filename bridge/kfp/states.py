"""Run states of KFP v2beta1 and what each means for whoever waits on a run.

``kfp.Client.wait_for_run_completion`` never ends on CANCELED; here every terminal state
must be either a success or a failure (:class:`StatePolicy` checks it), so a wait always
ends. Default: SUCCEEDED and SKIPPED succeed, FAILED and CANCELED fail, everything else
(PENDING, RUNNING, CANCELING, PAUSED, RUNTIME_STATE_UNSPECIFIED, unknown) keeps waiting.

Only PENDING, RUNNING and CANCELING are expected on the way to an end: a run that stays
longer than a grace period (:data:`DEFAULT_UNEXPECTED_STATE_TIMEOUT`) in any other
waiting state is given up on (:class:`UnexpectedStateWatch`), so a wait without a timeout
still ends, with the state in the message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

__all__ = [
    "RunState",
    "Verdict",
    "StatePolicy",
    "TERMINAL_STATES",
    "EXPECTED_WAIT_STATES",
    "DEFAULT_POLICY",
    "DEFAULT_UNEXPECTED_STATE_TIMEOUT",
    "UnexpectedStateWatch",
    "raw_state",
]

log = logging.getLogger(__name__)


class RunState(str, Enum):
    """``V2beta1RuntimeState`` values, as the API spells them."""

    RUNTIME_STATE_UNSPECIFIED = "RUNTIME_STATE_UNSPECIFIED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    PAUSED = "PAUSED"

    @classmethod
    def parse(cls, value: object) -> "RunState":
        """The state for an API value; missing or unknown values are UNSPECIFIED (keep waiting)."""
        if isinstance(value, RunState):
            return value
        if not value:
            return cls.RUNTIME_STATE_UNSPECIFIED
        try:
            return cls(str(value).upper())
        except ValueError:
            log.warning("unknown KFP run state %r, treating it as %s", value, cls.RUNTIME_STATE_UNSPECIFIED.value)
            return cls.RUNTIME_STATE_UNSPECIFIED

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({RunState.SUCCEEDED, RunState.SKIPPED, RunState.FAILED, RunState.CANCELED})
EXPECTED_WAIT_STATES = frozenset({RunState.PENDING, RunState.RUNNING, RunState.CANCELING})
DEFAULT_UNEXPECTED_STATE_TIMEOUT = 300.0
"""Seconds a run may stay in an unexpected waiting state before a wait gives up on it."""


class Verdict(str, Enum):
    """What a state means to a waiter."""

    SUCCESS = "success"
    FAILURE = "failure"
    WAIT = "wait"


@dataclass(frozen=True, kw_only=True)
class StatePolicy:
    """Which states end a wait with success and which with failure; the rest keep waiting.

    Build with :meth:`create` to pass names; ``skipped_is_success=False`` makes SKIPPED a
    failure (when neither set names SKIPPED). Every terminal state must be in one of the two sets, or a wait could never end.
    """

    success: frozenset[RunState] = frozenset({RunState.SUCCEEDED, RunState.SKIPPED})
    failure: frozenset[RunState] = frozenset({RunState.FAILED, RunState.CANCELED})

    def __post_init__(self) -> None:
        both = self.success & self.failure
        if both:
            raise ValueError(f"states both success and failure: {sorted(s.value for s in both)}")
        loose = TERMINAL_STATES - self.success - self.failure
        if loose:
            raise ValueError(
                f"terminal states {sorted(s.value for s in loose)} must count as success or failure, "
                "or a wait on such a run never ends"
            )

    @classmethod
    def create(
        cls,
        *,
        success: "list[str | RunState] | None" = None,
        failure: "list[str | RunState] | None" = None,
        skipped_is_success: bool = True,
    ) -> "StatePolicy":
        """A policy from state names (case-insensitive); unknown names are a ValueError."""

        def states(names: "list[str | RunState]") -> frozenset[RunState]:
            out = set()
            for name in names:
                try:
                    out.add(name if isinstance(name, RunState) else RunState(str(name).upper()))
                except ValueError:
                    raise ValueError(f"unknown KFP run state {name!r}") from None
            return frozenset(out)

        ok = states(success) if success is not None else frozenset({RunState.SUCCEEDED})
        bad = states(failure) if failure is not None else frozenset({RunState.FAILED, RunState.CANCELED})
        if RunState.SKIPPED not in ok | bad:
            if skipped_is_success:
                ok = ok | {RunState.SKIPPED}
            else:
                bad = bad | {RunState.SKIPPED}
        return cls(success=ok, failure=bad)

    def classify(self, state: "RunState | str | None") -> Verdict:
        parsed = RunState.parse(state)
        if parsed in self.success:
            return Verdict.SUCCESS
        if parsed in self.failure:
            return Verdict.FAILURE
        return Verdict.WAIT


DEFAULT_POLICY = StatePolicy()


class UnexpectedStateWatch:
    """Times how long a run stays in a waiting state nobody expects (unknown, unspecified,
    PAUSED, or any state the policy leaves waiting other than PENDING/RUNNING/CANCELING).

    :meth:`check` returns how long (seconds) once that exceeds ``timeout``, else None; an
    expected state resets the clock. ``timeout=None`` never gives up (not the default).
    """

    def __init__(self, timeout: float | None = DEFAULT_UNEXPECTED_STATE_TIMEOUT, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError(f"unexpected_state_timeout must be >= 0 seconds, got {timeout}")
        self.timeout = timeout
        self._clock = clock
        self._since: float | None = None

    def check(self, state: RunState, verdict: "Verdict") -> float | None:
        if verdict is not Verdict.WAIT or state in EXPECTED_WAIT_STATES:
            self._since = None
            return None
        now = self._clock()
        if self._since is None:
            self._since = now
        stayed = now - self._since
        return stayed if self.timeout is not None and stayed >= self.timeout else None


def raw_state(run: Any) -> str:
    """The run's state as the server spelled it (the parsed one hides unknown values)."""
    raw = getattr(run, "raw", None) or {}
    value = raw.get("state") if isinstance(raw, dict) else None
    return str(value) if value else (run.state.value if hasattr(run, "state") else "missing")
