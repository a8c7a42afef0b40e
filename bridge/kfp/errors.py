"""The exception family of the KFP client and run lifecycle.

Every error the client raises on purpose derives from :class:`KfpError`, itself an
:class:`af2kfp.converters.errors.Af2KfpError`, so the ``af2kfp`` command line and the Airflow
provider catch one base. Messages never contain a token or a cookie: server texts are
passed through :func:`af2kfp.bridge.kfp.auth.redact` before they reach an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from af2kfp.converters.errors import Af2KfpError, InputError

if TYPE_CHECKING:
    from af2kfp.bridge.kfp.models import Run

__all__ = [
    "KfpError",
    "KfpConfigError",
    "PipelineSourceError",
    "ScheduleError",
    "KfpApiError",
    "KfpConnectionError",
    "KfpAuthError",
    "KfpNotFoundError",
    "KfpRunFailedError",
    "KfpWaitTimeoutError",
    "KfpUnexpectedStateError",
]


class KfpError(Af2KfpError):
    """Base of every error of :mod:`af2kfp.bridge.kfp`."""


class KfpConfigError(KfpError, InputError):
    """The client cannot be built as configured (bad host, unreadable token file or CA bundle)."""


class PipelineSourceError(KfpError, InputError):
    """A pipeline package or parameter set cannot be submitted; the message names the file."""


class ScheduleError(KfpError, InputError):
    """A recurring run's schedule cannot be sent as given (no trigger or two, a bad interval,
    time or concurrency, a schedule.json without a recurring run); the message says which."""


class KfpApiError(KfpError):
    """A KFP API call failed.

    ``status`` is the HTTP status (``None`` when no response arrived), ``message`` the
    server's own message (redacted), ``retriable`` whether trying again later may succeed
    (5xx except 501/505, 429, connection errors), and ``maybe_applied`` whether a
    non-idempotent request may have taken effect although no success was seen (a dropped
    connection after a create): callers must look before they resubmit.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        method: str = "",
        path: str = "",
        retriable: bool = False,
        maybe_applied: bool = False,
        attempts: int = 1,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        self.retriable = retriable
        self.maybe_applied = maybe_applied
        self.attempts = attempts
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"KFP API {where} failed ({status}{tries}): {self.message}"

    def __reduce__(self):  # keeps keyword arguments across pickling (Airflow XCom, processes)
        return (_rebuild_api_error, (type(self), self.message, self.__dict__.copy()))


def _rebuild_api_error(cls: type[KfpApiError], message: str, state: dict) -> KfpApiError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    err.args = (err._compose(),)
    return err


class KfpConnectionError(KfpApiError):
    """No HTTP response: the host could not be reached, the connection dropped, or it timed out."""


class KfpAuthError(KfpApiError):
    """The server refused the credentials (401/403) or redirected to a login page."""


class KfpNotFoundError(KfpApiError):
    """The run, experiment, pipeline or version does not exist (404, or no match by name)."""


class KfpRunFailedError(KfpError):
    """A run ended in a failure state (FAILED, CANCELED, or as configured).

    ``run`` is the final :class:`~af2kfp.bridge.kfp.models.Run`; the message carries the run's
    error and each failed task's name, error and pod name.
    """

    def __init__(self, run: "Run", message: str) -> None:
        self.run = run
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (self.run, self.args[0]))


class KfpWaitTimeoutError(KfpError):
    """Waiting for a run exceeded its timeout; the run itself may still be going."""

    def __init__(self, run_id: str, timeout: float, last_state: str | None) -> None:
        self.run_id = run_id
        self.timeout = timeout
        self.last_state = last_state
        super().__init__(
            f"KFP run {run_id} did not finish within {timeout:g}s (last state: {last_state or 'unknown'})"
        )

    def __reduce__(self):
        return (type(self), (self.run_id, self.timeout, self.last_state))


class KfpUnexpectedStateError(KfpError):
    """A run stayed longer than its grace period in a state no waiter expects (unknown,
    unspecified, PAUSED...); the wait ends rather than lasting forever. The run is left going."""

    def __init__(self, run_id: str, state: str, seconds: float) -> None:
        self.run_id = run_id
        self.state = state
        self.seconds = seconds
        super().__init__(
            f"KFP run {run_id} has been in state {state!r} for {seconds:.0f}s, a state af2kfp does not "
            "expect (it waits through PENDING, RUNNING and CANCELING); it stopped waiting and left the "
            "run going. If that state is normal on your KFP, name it in success_states or "
            "failure_states, or raise unexpected_state_timeout"
        )

    def __reduce__(self):
        return (type(self), (self.run_id, self.state, self.seconds))
