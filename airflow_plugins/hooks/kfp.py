"""KfpHook: turns a ``kubeflow_pipelines`` Airflow connection into the bridge's KFP client.

The hook owns all I/O to KFP; operators use the sync client, the trigger the async one.
Secrets live only in the connection's password (bearer token or session cookie) or in a
token file named by the extra; Airflow masks the password and the bridge never logs or
raises with a secret in the text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import weakref
from collections.abc import AsyncIterator
from functools import cached_property
from typing import Any

import httpx

from af2kfp.airflow_plugins._compat import AirflowException, BaseHook
from af2kfp.airflow_plugins.get_provider_info import CONN_TYPE, connection_type_info
from af2kfp.bridge.kfp import (
    AsyncKfpClient,
    BearerToken,
    KfpClient,
    KfpConfig,
    KfpError,
    NoAuth,
    RetryPolicy,
    SessionCookie,
    TokenFile,
)
from af2kfp.bridge.kfp.auth import DEFAULT_TOKEN_FILE, Auth

__all__ = ["AUTH_METHODS", "KfpHook", "config_from_connection"]

AUTH_METHODS = ("bearer", "token_file", "cookie", "none")
_FALSE = {"false", "0", "no", "off"}

log = logging.getLogger(__name__)


def _extra(conn: Any, name: str) -> Any:
    """An extra field, stored plain (Airflow 3 forms, JSON) or prefixed (older UI forms)."""
    extra = conn.extra_dejson
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__{CONN_TYPE}__{name}")
    return None if value == "" else value


def _host(conn: Any) -> str:
    host = (conn.host or "").strip()
    if not host:
        raise AirflowException(f"connection {conn.conn_id!r}: set the host to the KFP API URL")
    if "://" not in host:  # a URI-style connection: host, port and path in separate fields
        scheme = _extra(conn, "scheme") or "https"
        host = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
        if conn.schema:
            host += "/" + conn.schema.strip("/")
    return host


def _auth(conn: Any) -> Auth:
    method = (_extra(conn, "auth_method") or "").strip().lower()
    secret = conn.password or None
    token_file = _extra(conn, "token_file")
    if not method:
        method = "bearer" if secret else "token_file" if token_file else "none"
    if method not in AUTH_METHODS:
        raise AirflowException(
            f"connection {conn.conn_id!r}: auth_method {method!r} is not one of {', '.join(AUTH_METHODS)}"
        )
    if method in ("bearer", "cookie") and not secret:
        raise AirflowException(
            f"connection {conn.conn_id!r}: auth_method {method} needs the password field set"
        )
    if method == "bearer":
        return BearerToken(secret)
    if method == "cookie":
        return SessionCookie(secret)
    if method == "token_file":
        return TokenFile(token_file or DEFAULT_TOKEN_FILE)
    return NoAuth()


def _verify(conn: Any) -> bool | str:
    ca_bundle = _extra(conn, "ca_bundle")
    if ca_bundle:
        return str(ca_bundle)
    verify = _extra(conn, "verify")
    if isinstance(verify, str):
        return verify.strip().lower() not in _FALSE
    return True if verify is None else bool(verify)


def _retry(conn: Any) -> RetryPolicy:
    attempts, backoff = _extra(conn, "retries"), _extra(conn, "retry_backoff")
    try:
        return RetryPolicy(
            max_attempts=int(attempts) if attempts is not None else RetryPolicy.max_attempts,
            initial_backoff=float(backoff) if backoff is not None else RetryPolicy.initial_backoff,
        )
    except (TypeError, ValueError) as err:
        raise AirflowException(f"connection {conn.conn_id!r}: bad retries/retry_backoff: {err}") from None


def config_from_connection(
    conn: Any, *, namespace: str | None = None, retry: RetryPolicy | None = None
) -> KfpConfig:
    """The bridge settings a connection describes; ``namespace`` overrides the connection's."""
    options: dict[str, Any] = {}
    if _extra(conn, "timeout") is not None:
        options["timeout"] = float(_extra(conn, "timeout"))
    try:
        return KfpConfig(
            host=_host(conn),
            auth=_auth(conn),
            namespace=namespace or _extra(conn, "namespace"),
            verify=_verify(conn),
            ui_host=_extra(conn, "ui_host"),
            retry=retry or _retry(conn),
            **options,
        )
    except KfpError as err:
        raise AirflowException(f"connection {conn.conn_id!r}: {err}") from None


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, Any], httpx.AsyncClient]]
_POOLS = weakref.WeakKeyDictionary()


def _shared_pool(conn_id: str, config: KfpConfig) -> httpx.AsyncClient:
    """The running loop's HTTP pool for this connection, host and TLS setting. Credentials
    are not part of it: the client adds them to each request from its own config. Kept per
    connection id so cookies a server sets never cross from one connection to another."""
    pools = _POOLS.setdefault(asyncio.get_running_loop(), {})
    key = (conn_id, config.host, config.verify)
    pool = pools.get(key)
    if pool is None or pool.is_closed:
        pool = pools[key] = httpx.AsyncClient(verify=_tls_verify(config), follow_redirects=False)
    return pool


def _tls_verify(config: KfpConfig) -> bool | ssl.SSLContext:
    """httpx's ``verify`` for a config, as the bridge's own clients build it."""
    if config.verify is False:
        log.warning("TLS certificate verification is OFF for KFP host %s; do not use this in production", config.host)
        return False
    if isinstance(config.verify, str):
        return ssl.create_default_context(cafile=config.verify)
    return True


class KfpHook(BaseHook):
    """Talk to the KFP API (v2beta1) named by an Airflow connection.

    :param kfp_conn_id: the ``kubeflow_pipelines`` connection.
    :param namespace: the Kubeflow profile namespace; overrides the connection's.
    :param retry: how API calls are retried (default: the connection's ``retries`` attempts,
        5 if unset, with exponential backoff from ``retry_backoff`` seconds, 0.5 if unset).
    """

    conn_name_attr = "kfp_conn_id"
    default_conn_name = "kfp_default"
    conn_type = CONN_TYPE
    hook_name = "Kubeflow Pipelines"

    def __init__(
        self,
        kfp_conn_id: str = default_conn_name,
        *,
        namespace: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.kfp_conn_id = kfp_conn_id
        self.namespace = namespace
        self.retry = retry

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The form layout for Airflow < 3.2; newer versions read it from get_provider_info()."""
        behaviour = connection_type_info()["ui-field-behaviour"]
        return {
            "hidden_fields": behaviour["hidden-fields"],
            "relabeling": behaviour["relabeling"],
            "placeholders": behaviour["placeholders"],
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The form's extra fields for Airflow 2 (Airflow 3 reads ``conn-fields`` from
        get_provider_info() and never calls this). Imports the Flask UI's modules lazily."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from wtforms import BooleanField, StringField

        widgets: dict[str, Any] = {}
        for name, field in connection_type_info()["conn-fields"].items():
            if "boolean" in field["schema"]["type"]:
                widgets[name] = BooleanField(
                    field["label"], description=field["description"], default=field["schema"].get("default")
                )
            else:
                widgets[name] = StringField(
                    field["label"], widget=BS3TextFieldWidget(), description=field["description"]
                )
        return widgets

    def get_config(self) -> KfpConfig:
        conn = self.get_connection(self.kfp_conn_id)
        return config_from_connection(conn, namespace=self.namespace, retry=self.retry)

    async def aget_config(self) -> KfpConfig:
        """Same as :meth:`get_config`, without blocking the triggerer's event loop."""
        if hasattr(BaseHook, "aget_connection"):  # Airflow 3
            conn = await self.aget_connection(self.kfp_conn_id)
        else:  # Airflow 2.10+
            from asgiref.sync import sync_to_async

            conn = await sync_to_async(self.get_connection)(self.kfp_conn_id)
        return config_from_connection(conn, namespace=self.namespace, retry=self.retry)

    @cached_property
    def client(self) -> KfpClient:
        """The sync client, built once per hook (operators, sensors in poke mode)."""
        return KfpClient(self.get_config())

    def get_conn(self) -> KfpClient:
        return self.client

    @contextlib.asynccontextmanager
    async def async_client(self) -> AsyncIterator[AsyncKfpClient]:
        """An async client for the trigger. Its HTTP connection pool is shared by every
        trigger of this connection in the running event loop (the triggerer's): one pool,
        one TLS context, instead of one per waiting run (bench/triggerer_200.py: 200 waits
        cost ~60 KB each shared, ~900 KB and a multi-second loop stall at start unshared)."""
        config = await self.aget_config()
        async with AsyncKfpClient(config, http=_shared_pool(self.kfp_conn_id, config)) as client:
            yield client

    def run_url(self, run_id: str) -> str:
        return self.client.run_url(run_id)

    def test_connection(self) -> tuple[bool, str]:
        """Called by the UI's Test button: reaches KFP's healthz with the connection's auth."""
        try:
            with KfpClient(self.get_config()) as client:
                health = client.healthz()
        except (AirflowException, KfpError) as err:
            return False, str(err)
        multi = health.get("multi_user", health.get("multiUser"))
        return True, f"KFP API reachable (multi-user: {multi})"
