"""The two faces of the KFP client: :class:`KfpClient` (sync) and :class:`AsyncKfpClient`.

Both run the same generator operations of :class:`~bridge.kfp.core.KfpCore` and
:mod:`bridge.kfp.runs`; they differ only in how a request is sent (``httpx.Client`` or
``httpx.AsyncClient``) and how a pause is taken (``time.sleep`` or ``asyncio.sleep``).
Every method of :class:`KfpClient` exists on :class:`AsyncKfpClient` with the same
signature, as a coroutine::

    config = KfpConfig(host="https://kfp.example.com/pipeline", auth=TokenFile(), namespace="team-a")
    with KfpClient(config) as kfp:
        run = kfp.submit_run(RunSpec(display_name=name, package="build/kfp/etl/pipeline.yaml",
                                     experiment_name="etl", parameters={"ds": "2024-01-01"}))
    async with AsyncKfpClient(config) as kfp:
        run = await kfp.get_run(run.run_id)

Transport errors become :class:`~bridge.kfp.protocol.Outcome` objects, so retry decisions
are the core's, not httpx's. TLS: ``verify=False`` logs a warning and issues a
``UserWarning``; a CA bundle path builds an ``ssl.SSLContext``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import ssl
import time
import warnings
from typing import Any, Callable

import httpx

from bridge.kfp import recurring, runs, uploads
from bridge.kfp.core import KfpConfig, KfpCore, Op
from bridge.kfp.models import run_url
from bridge.kfp.protocol import Outcome, Send, Sleep

__all__ = ["KfpClient", "AsyncKfpClient"]

log = logging.getLogger("bridge.kfp")

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


def _face_signature(fn: Callable[..., Op[Any]]) -> inspect.Signature:
    """``fn``'s signature as a method: ``self`` first, returning what the operation returns."""
    signature = inspect.signature(fn)
    first, *rest = signature.parameters.values()
    returned = signature.return_annotation
    if isinstance(returned, str) and returned.startswith("Op[") and returned.endswith("]"):
        returned = returned[3:-1]
    return signature.replace(parameters=[first.replace(name="self", annotation=inspect.Parameter.empty), *rest], return_annotation=returned)


def _sync_op(fn: Callable[..., Op[Any]]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(self: "KfpClient", *args: Any, **kwargs: Any) -> Any:
        return self._drive(fn(self.core, *args, **kwargs))

    method.__signature__ = _face_signature(fn)  # type: ignore[attr-defined]
    return method


def _async_op(fn: Callable[..., Op[Any]]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def method(self: "AsyncKfpClient", *args: Any, **kwargs: Any) -> Any:
        return await self._drive(fn(self.core, *args, **kwargs))

    method.__signature__ = _face_signature(fn)  # type: ignore[attr-defined]
    return method


class _Face:
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


class KfpClient(_Face):
    """Synchronous KFP v2beta1 client (operators, sensors in poke mode, the command line)."""

    def __init__(self, config: KfpConfig | None = None, *, http: httpx.Client | None = None, **options: Any):
        super().__init__(config, **options)
        self._own_http = http is None
        self._http = http or httpx.Client(verify=_verify(self.config), follow_redirects=False)

    def _drive(self, op: Op[Any]) -> Any:
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

    def __enter__(self) -> "KfpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    healthz = _sync_op(KfpCore.healthz)
    create_experiment = _sync_op(KfpCore.create_experiment)
    get_experiment = _sync_op(KfpCore.get_experiment)
    list_experiments = _sync_op(KfpCore.list_experiments)
    find_experiment = _sync_op(KfpCore.find_experiment)
    delete_experiment = _sync_op(KfpCore.delete_experiment)
    create_pipeline = _sync_op(KfpCore.create_pipeline)
    upload_pipeline = _sync_op(KfpCore.upload_pipeline)
    upload_pipeline_version = _sync_op(KfpCore.upload_pipeline_version)
    get_pipeline = _sync_op(KfpCore.get_pipeline)
    list_pipelines = _sync_op(KfpCore.list_pipelines)
    find_pipeline = _sync_op(KfpCore.find_pipeline)
    delete_pipeline = _sync_op(KfpCore.delete_pipeline)
    get_pipeline_version = _sync_op(KfpCore.get_pipeline_version)
    list_pipeline_versions = _sync_op(KfpCore.list_pipeline_versions)
    find_pipeline_version = _sync_op(KfpCore.find_pipeline_version)
    latest_pipeline_version = _sync_op(KfpCore.latest_pipeline_version)
    delete_pipeline_version = _sync_op(KfpCore.delete_pipeline_version)
    create_run = _sync_op(KfpCore.create_run)
    get_run = _sync_op(KfpCore.get_run)
    list_runs = _sync_op(KfpCore.list_runs)
    terminate_run = _sync_op(KfpCore.terminate_run)
    archive_run = _sync_op(KfpCore.archive_run)
    unarchive_run = _sync_op(KfpCore.unarchive_run)
    delete_run = _sync_op(KfpCore.delete_run)
    create_recurring_run = _sync_op(KfpCore.create_recurring_run)
    get_recurring_run = _sync_op(KfpCore.get_recurring_run)
    list_recurring_runs = _sync_op(KfpCore.list_recurring_runs)
    enable_recurring_run = _sync_op(KfpCore.enable_recurring_run)
    disable_recurring_run = _sync_op(KfpCore.disable_recurring_run)
    delete_recurring_run = _sync_op(KfpCore.delete_recurring_run)
    get_or_create_experiment = _sync_op(runs.get_or_create_experiment)
    resolve_pipeline_version = _sync_op(runs.resolve_pipeline_version)
    find_run_by_name = _sync_op(runs.find_run_by_name)
    submit_run = _sync_op(runs.submit_run)
    wait_for_run = _sync_op(runs.wait_for_run)
    find_recurring_run = _sync_op(recurring.find_recurring_run)
    submit_recurring_run = _sync_op(recurring.submit_recurring_run)
    get_or_create_pipeline = _sync_op(uploads.get_or_create_pipeline)
    get_or_upload_version = _sync_op(uploads.get_or_upload_version)


class AsyncKfpClient(_Face):
    """Asynchronous KFP v2beta1 client (deferrable triggers): every method is a coroutine."""

    def __init__(self, config: KfpConfig | None = None, *, http: httpx.AsyncClient | None = None, **options: Any):
        super().__init__(config, **options)
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(verify=_verify(self.config), follow_redirects=False)

    async def _drive(self, op: Op[Any]) -> Any:
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

    async def __aenter__(self) -> "AsyncKfpClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    healthz = _async_op(KfpCore.healthz)
    create_experiment = _async_op(KfpCore.create_experiment)
    get_experiment = _async_op(KfpCore.get_experiment)
    list_experiments = _async_op(KfpCore.list_experiments)
    find_experiment = _async_op(KfpCore.find_experiment)
    delete_experiment = _async_op(KfpCore.delete_experiment)
    create_pipeline = _async_op(KfpCore.create_pipeline)
    upload_pipeline = _async_op(KfpCore.upload_pipeline)
    upload_pipeline_version = _async_op(KfpCore.upload_pipeline_version)
    get_pipeline = _async_op(KfpCore.get_pipeline)
    list_pipelines = _async_op(KfpCore.list_pipelines)
    find_pipeline = _async_op(KfpCore.find_pipeline)
    delete_pipeline = _async_op(KfpCore.delete_pipeline)
    get_pipeline_version = _async_op(KfpCore.get_pipeline_version)
    list_pipeline_versions = _async_op(KfpCore.list_pipeline_versions)
    find_pipeline_version = _async_op(KfpCore.find_pipeline_version)
    latest_pipeline_version = _async_op(KfpCore.latest_pipeline_version)
    delete_pipeline_version = _async_op(KfpCore.delete_pipeline_version)
    create_run = _async_op(KfpCore.create_run)
    get_run = _async_op(KfpCore.get_run)
    list_runs = _async_op(KfpCore.list_runs)
    terminate_run = _async_op(KfpCore.terminate_run)
    archive_run = _async_op(KfpCore.archive_run)
    unarchive_run = _async_op(KfpCore.unarchive_run)
    delete_run = _async_op(KfpCore.delete_run)
    create_recurring_run = _async_op(KfpCore.create_recurring_run)
    get_recurring_run = _async_op(KfpCore.get_recurring_run)
    list_recurring_runs = _async_op(KfpCore.list_recurring_runs)
    enable_recurring_run = _async_op(KfpCore.enable_recurring_run)
    disable_recurring_run = _async_op(KfpCore.disable_recurring_run)
    delete_recurring_run = _async_op(KfpCore.delete_recurring_run)
    get_or_create_experiment = _async_op(runs.get_or_create_experiment)
    resolve_pipeline_version = _async_op(runs.resolve_pipeline_version)
    find_run_by_name = _async_op(runs.find_run_by_name)
    submit_run = _async_op(runs.submit_run)
    wait_for_run = _async_op(runs.wait_for_run)
    find_recurring_run = _async_op(recurring.find_recurring_run)
    submit_recurring_run = _async_op(recurring.submit_recurring_run)
    get_or_create_pipeline = _async_op(uploads.get_or_create_pipeline)
    get_or_upload_version = _async_op(uploads.get_or_upload_version)
