"""How the client proves who it is to KFP, without ever showing the secret.

Four methods: :class:`NoAuth`, :class:`BearerToken` (a fixed token),
:class:`TokenFile` (a Kubernetes service-account token, re-read on every request
because the kubelet rotates it, e.g. ``/var/run/secrets/kubeflow/pipelines/token``) and
:class:`SessionCookie` (a Dex / oauth2-proxy session such as ``authservice_session=...``
or ``oauth2_proxy=...``). Each gives the headers of one request and the secret strings
that must be scrubbed from texts; reprs show ``***``. :func:`auth_from_options` picks one
from the optional fields a connection form offers.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable, Protocol

from af2kfp.bridge.kfp.errors import KfpConfigError

__all__ = [
    "Auth",
    "NoAuth",
    "BearerToken",
    "TokenFile",
    "SessionCookie",
    "auth_from_options",
    "redact",
    "REDACTED",
    "DEFAULT_TOKEN_FILE",
]

REDACTED = "***"
DEFAULT_TOKEN_FILE = "/var/run/secrets/kubeflow/pipelines/token"
_MIN_SECRET_LEN = 4  # shorter strings would redact ordinary words


class Auth(Protocol):
    """What the client needs from an auth method."""

    def headers(self) -> dict[str, str]:
        """Headers for one request (read fresh where the secret can change)."""

    def secrets(self) -> tuple[str, ...]:
        """Every secret string this method has used, for redaction."""


class NoAuth:
    """No credentials: a port-forward, an in-cluster KFP without auth, the local server."""

    def headers(self) -> dict[str, str]:
        return {}

    def secrets(self) -> tuple[str, ...]:
        return ()

    def __repr__(self) -> str:
        return "NoAuth()"


class BearerToken:
    """A fixed bearer token (``Authorization: Bearer ...``)."""

    def __init__(self, token: str) -> None:
        token = token.strip()
        if token.lower().startswith("bearer "):
            token = token[len("bearer ") :].strip()
        if not token:
            raise KfpConfigError("the KFP bearer token is empty")
        self._token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def secrets(self) -> tuple[str, ...]:
        return (self._token,)

    def __repr__(self) -> str:
        return f"BearerToken(token={REDACTED!r})"


class TokenFile:
    """A token read from a file on every request, so a rotated token is picked up at once."""

    def __init__(self, path: str | Path = DEFAULT_TOKEN_FILE) -> None:
        self.path = Path(path)
        self._seen: list[str] = []
        self._lock = threading.Lock()

    def read(self) -> str:
        """The current token; a missing or empty file is a configuration error naming the path."""
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise KfpConfigError(f"cannot read KFP token file {self.path}: {exc.strerror or exc}") from None
        if not token:
            raise KfpConfigError(f"KFP token file {self.path} is empty")
        with self._lock:
            if token not in self._seen:
                self._seen.append(token)
                del self._seen[:-8]  # remember the last few rotations only
        return token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read()}"}

    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._seen)

    def __repr__(self) -> str:
        return f"TokenFile(path={str(self.path)!r})"


class SessionCookie:
    """A session cookie string as the browser sends it: ``name=value[; name2=value2]``."""

    def __init__(self, cookie: str) -> None:
        cookie = cookie.strip()
        if cookie.lower().startswith("cookie:"):
            cookie = cookie[len("cookie:") :].strip()
        pairs = [part.strip() for part in cookie.split(";") if part.strip()]
        if not pairs or any("=" not in pair or pair.startswith("=") for pair in pairs):
            raise KfpConfigError("the KFP session cookie must look like 'name=value' (e.g. authservice_session=...)")
        self._cookie = "; ".join(pairs)
        self.names = tuple(pair.split("=", 1)[0] for pair in pairs)
        self._values = tuple(pair.split("=", 1)[1] for pair in pairs)

    def headers(self) -> dict[str, str]:
        return {"Cookie": self._cookie}

    def secrets(self) -> tuple[str, ...]:
        return (self._cookie, *self._values)

    def __repr__(self) -> str:
        return f"SessionCookie(names={list(self.names)!r}, value={REDACTED!r})"


def auth_from_options(
    *, token: str | None = None, token_file: str | Path | None = None, cookie: str | None = None
) -> Auth:
    """The one auth method the given options describe; more than one is a configuration error."""
    given = [name for name, value in (("token", token), ("token_file", token_file), ("cookie", cookie)) if value]
    if len(given) > 1:
        raise KfpConfigError(f"give only one KFP auth method, got: {', '.join(given)}")
    if token:
        return BearerToken(token)
    if token_file:
        return TokenFile(token_file)
    if cookie:
        return SessionCookie(cookie)
    return NoAuth()


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first) replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
