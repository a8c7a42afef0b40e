"""Run states of KFP v2beta1 and what each means for whoever waits on a run.

``kfp.Client.wait_for_run_completion`` never ends on CANCELED; here every terminal state
must be either a success or a failure (:class:`StatePolicy` checks it), so a wait always
ends. Default: SUCCEEDED and SKIPPED succeed, FAILED and CANCELED fail, everything else
(PENDING, RUNNING, CANCELING, PAUSED, RUNTIME_STATE_UNSPECIFIED, unknown) keeps waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

__all__ = ["RunState", "Verdict", "StatePolicy", "TERMINAL_STATES", "DEFAULT_POLICY"]

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
