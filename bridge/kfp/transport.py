"""How the KFP client faces send requests and take pauses: ``httpx`` and ``time``/``asyncio``.

:class:`SyncTransport` and :class:`AsyncTransport` run a core operation (a generator of
:class:`~af2kfp.bridge.kfp.protocol.Send` and :class:`~af2kfp.bridge.kfp.protocol.Sleep` actions, see
:mod:`af2kfp.bridge.kfp.core`) to its end; :mod:`af2kfp.bridge.kfp.client` puts one typed method per
operation on top of each. Transport errors become :class:`~af2kfp.bridge.kfp.protocol.Outcome`
objects, so retry decisions are the core's, not httpx's. TLS: ``verify=False`` logs a
warning and issues a ``UserWarning``; a CA bundle path builds an ``ssl.SSLContext``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import warnings
from typing import Any, TypeVar

import httpx

from af2kfp.bridge.kfp.core import KfpConfig, KfpCore, Op
from af2kfp.bridge.kfp.models import run_url
from af2kfp.bridge.kfp.protocol import Outcome, Send, Sleep

__all__ = ["Face", "SyncTransport", "AsyncTransport"]

log = logging.getLogger("af2kfp.bridge.kfp")

T = TypeVar("T")
S = TypeVar("S", bound="SyncTransport")
A = TypeVar("A", bound="AsyncTransport")

# Errors raised before a single byte left: resending can never duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _verify(config: KfpConfig) -> bool | ssl.SSLContext:
    if config.verify is False:
        message = f"TLS certificate verification is OFF for KFP host {config.host}; do not use this in production"
        log.warning(message)
        warnings.warn(message, UserWarning, stacklevel=4)
        return False
    if isinstance(config.verify, str):
        return ssl.create_default_context(cafile=config.verify)
    return True


def _outcome(response: httpx.Response) -> Outcome:
    return Outcome(status=response.status_code, headers=dict(response.headers), body=response.content)


def _failed(exc: httpx.TransportError) -> Outcome:
    detail = str(exc) or "no detail"
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in detail:
        return Outcome(
            error=f"TLS certificate verification failed ({detail}); give the CA bundle that signed the "
            "KFP certificate",
            reached_server=False,
            permanent=True,
        )
    return Outcome(error=f"{type(exc).__name__}: {detail}", reached_server=not isinstance(exc, _NOT_SENT))


def _send_kwargs(action: Send, config: KfpConfig) -> dict[str, Any]:
    request = action.request
    kwargs: dict[str, Any] = {
        "params": list(request.params),
        "headers": dict(action.headers),
        "timeout": httpx.Timeout(action.timeout, connect=config.connect_timeout),
    }
    if request.json is not None:
        kwargs["json"] = request.json
    if request.files is not None:
        kwargs["files"] = dict(request.files)
    return kwargs


class Face:
    """What both faces share: the config, the core, and UI links."""

    def __init__(self, config: KfpConfig | None = None, **options: Any) -> None:
        if config is None:
            config = KfpConfig(**options)
        elif options:
            raise TypeError("pass either a KfpConfig or keyword options, not both")
        self.config = config
        self.core = KfpCore(config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.config.host!r}, auth={self.config.auth!r})"

    def run_url(self, run_id: str, namespace: str | None = None) -> str:
        """The run's page in the KFP UI (``config.ui_host``, else the API host)."""
        return run_url(self.config.ui_base, run_id, namespace if namespace is not None else self.config.namespace)


class SyncTransport(Face):
    """Sends with ``httpx.Client`` and pauses with ``time.sleep`` (the sync face's base)."""

    def __init__(self, config: KfpConfig | None = None, *, http: httpx.Client | None = None, **options: Any):
        super().__init__(config, **options)
        self._own_http = http is None
        self._http = http or httpx.Client(verify=_verify(self.config), follow_redirects=False)

    def _drive(self, op: Op[T]) -> T:
        value: Any = None
        while True:
            try:
                action = op.send(value)
            except StopIteration as stop:
                return stop.value
            if isinstance(action, Sleep):
                time.sleep(action.seconds)
                value = None
            else:
                value = self._send(action)

    def _send(self, action: Send) -> Outcome:
        try:
            response = self._http.request(action.request.method, action.url, **_send_kwargs(action, self.config))
        except httpx.TransportError as exc:
            return _failed(exc)
        return _outcome(response)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncTransport(Face):
    """Sends with ``httpx.AsyncClient`` and pauses with ``asyncio.sleep`` (the async face's base)."""

    def __init__(self, config: KfpConfig | None = None, *, http: httpx.AsyncClient | None = None, **options: Any):
        super().__init__(config, **options)
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(verify=_verify(self.config), follow_redirects=False)

    async def _drive(self, op: Op[T]) -> T:
        value: Any = None
        while True:
            try:
                action = op.send(value)
            except StopIteration as stop:
                return stop.value
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                value = None
            else:
                value = await self._send(action)

    async def _send(self, action: Send) -> Outcome:
        try:
            response = await self._http.request(
                action.request.method, action.url, **_send_kwargs(action, self.config)
            )
        except httpx.TransportError as exc:
            return _failed(exc)
        return _outcome(response)

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self: A) -> A:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
