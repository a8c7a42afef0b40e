"""The wire contract of KFP API v2beta1, free of I/O.

:class:`ApiRequest` describes one call (path and JSON names as in
``kfp_server_api/api/*_service_api.py``); :class:`Outcome` is what a transport saw
(a response, or a transport error and whether the request may have reached the server);
:func:`error_from_outcome` maps a failed outcome to one :class:`KfpApiError` with the
server's message; :func:`filter_json` writes the ``filter`` query parameter the way
``kfp.Client`` does. A core generator yields :class:`Send` and :class:`Sleep` actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from af2kfp.bridge.kfp.auth import redact
from af2kfp.bridge.kfp.errors import (
    KfpApiError,
    KfpAuthError,
    KfpConnectionError,
    KfpNotFoundError,
)
from af2kfp.bridge.kfp.retry import RETRIABLE_STATUSES

__all__ = [
    "API_PREFIX",
    "ApiRequest",
    "Sleep",
    "Outcome",
    "Send",
    "error_from_outcome",
    "decode_json",
    "filter_json",
    "clean_params",
]

API_PREFIX = "/apis/v2beta1"
_MAX_MESSAGE = 2000
_EQUALS = 1  # v2beta1 PredicateOperation.EQUALS


@dataclass(frozen=True)
class ApiRequest:
    """One KFP API call.

    ``idempotent`` says whether sending it twice is harmless: GETs, deletes and the
    ``:terminate``/``:archive`` actions are; creating a run, an experiment or a pipeline
    is not, so those are only resent when the first attempt surely never reached the
    server (connect error) or was refused before processing (429).
    ``files`` is ``{"uploadfile": (filename, bytes, content_type)}`` for multipart uploads;
    ``timeout`` (seconds) overrides the client's read timeout for this call.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    files: Mapping[str, tuple[str, bytes, str]] | None = field(default=None, repr=False)
    idempotent: bool = True
    timeout: float | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Sleep:
    """Ask the driver to wait (``time.sleep`` or ``asyncio.sleep``) before resuming."""

    seconds: float


@dataclass(frozen=True)
class Outcome:
    """What one attempt produced: a response (``status``) or a transport ``error``.

    ``reached_server`` is False only when the request certainly was not delivered
    (connection refused, connect timeout, pool timeout); a read timeout or a dropped
    connection leave it True because the server may have acted. ``permanent`` marks a
    transport error that waiting cannot cure (a TLS certificate that does not verify).
    """

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    reached_server: bool = True
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


def clean_params(**params: Any) -> tuple[tuple[str, str], ...]:
    """Query parameters without the ``None`` ones, values as strings."""
    return tuple((key, str(value)) for key, value in params.items() if value is not None and value != "")


def filter_json(**equals: str) -> str:
    """A v2beta1 ``Filter`` with one EQUALS predicate per key, spelt exactly as ``kfp.Client``
    sends it (numeric operation, camelCase ``stringValue``), the form every server accepts."""
    predicates = [{"operation": _EQUALS, "key": key, "stringValue": value} for key, value in equals.items()]
    return json.dumps({"predicates": predicates}, separators=(",", ":"))


def decode_json(request: ApiRequest, outcome: Outcome, secrets: Iterable[str]) -> dict[str, Any]:
    """The JSON object of a successful response (``{}`` when empty); every v2beta1 answer is one."""
    if not outcome.body.strip():
        return {}
    try:
        decoded = json.loads(outcome.body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        return decoded
    content_type = outcome.header("content-type") or "unknown"
    snippet = redact(outcome.body[:200].decode("utf-8", "replace"), secrets)
    raise KfpApiError(
        f"expected a JSON object but got {content_type}: {snippet!r} (is the host the KFP API endpoint, "
        "or did an auth proxy answer with a login page?)",
        status=outcome.status,
        method=request.method,
        path=request.path,
    )


def _server_message(outcome: Outcome) -> tuple[str, int | None]:
    """The message and gRPC code of a KFP error body ``{"error", "code", "message", "details"}``."""
    text = outcome.body.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        message = body.get("message") or body.get("error") or ""
        code = body.get("code")
        if message:
            return str(message), code if isinstance(code, int) else None
    return (text or "(empty response)"), None


def error_from_outcome(
    request: ApiRequest, outcome: Outcome, secrets: Iterable[str], *, attempts: int = 1
) -> KfpApiError:
    """The exception for a failed attempt, with the server's message and secrets redacted."""
    if outcome.status is None:
        return KfpConnectionError(
            redact(outcome.error or "connection failed", secrets),
            method=request.method,
            path=request.path,
            retriable=not outcome.permanent,
            maybe_applied=outcome.reached_server and not request.idempotent,
            attempts=attempts,
        )
    status = outcome.status
    if 300 <= status < 400:
        location = (outcome.header("location") or "").split("?", 1)[0]
        return KfpAuthError(
            f"redirected to {location or 'another page'}: probably a login page; "
            "the session cookie or token is missing or expired",
            status=status,
            method=request.method,
            path=request.path,
            attempts=attempts,
        )
    message, code = _server_message(outcome)
    message = redact(message, secrets)
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    cls = KfpApiError
    if status in (401, 403):
        cls = KfpAuthError
    elif status == 404:
        cls = KfpNotFoundError
    return cls(
        message,
        status=status,
        code=code,
        method=request.method,
        path=request.path,
        retriable=status in RETRIABLE_STATUSES,
        maybe_applied=status >= 500 and not request.idempotent,
        attempts=attempts,
    )


@dataclass(frozen=True)
class Send:
    """Ask the driver to send ``request`` to ``url`` with ``headers`` and resume with an :class:`Outcome`.

    The repr leaves the headers out: they carry the credentials.
    """

    request: ApiRequest
    url: str
    headers: Mapping[str, str] = field(repr=False)
    timeout: float | None = None
