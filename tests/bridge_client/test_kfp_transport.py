"""Retries, timeouts, error mapping and TLS options of both client faces, over real loopback HTTP."""

from __future__ import annotations

import socket
import time

import pytest

from af2kfp.bridge.kfp import (
    KfpApiError,
    KfpAuthError,
    KfpClient,
    KfpConfig,
    KfpConfigError,
    KfpConnectionError,
    KfpNotFoundError,
    RetryPolicy,
)
from tests.bridge_client.conftest import call
from tests.bridge_client.fake_kfp import Fault


async def test_healthz(make_client, fake):
    client = make_client()
    assert (await call(client, "healthz"))["pipeline_store"] == "database"
    seen = fake.seen("GET", "/healthz")[0]
    assert seen.headers["Accept"] == "application/json"
    assert "Authorization" not in seen.headers and "Cookie" not in seen.headers


async def test_503_burst_is_retried(make_client, fake):
    fake.fail(*[Fault("status", 503) for _ in range(3)])
    client = make_client()
    assert (await call(client, "healthz"))["multi_user"] is False
    assert len(fake.seen("GET", "/healthz")) == 4


async def test_retries_exhausted_raise_retriable_error(make_client, fake):
    fake.fail(*[Fault("status", 502, body={"error": "bad gateway", "code": 14, "message": "upstream down"})
                for _ in range(10)])
    client = make_client()
    with pytest.raises(KfpApiError) as info:
        await call(client, "get_run", "run-x")
    err = info.value
    assert err.status == 502 and err.retriable and err.attempts == 4
    assert "upstream down" in str(err) and "after 4 attempts" in str(err)
    assert len(fake.seen("GET", "/runs/run-x")) == 4


async def test_429_honours_retry_after(make_client, fake):
    fake.fail(Fault("status", 429, headers={"Retry-After": "0.4"}))
    client = make_client()
    started = time.monotonic()
    await call(client, "healthz")
    assert time.monotonic() - started >= 0.39
    assert len(fake.seen("GET", "/healthz")) == 2


async def test_retry_after_is_capped(make_client, fake):
    fake.fail(Fault("status", 503, headers={"Retry-After": "3600"}))
    client = make_client(retry=RetryPolicy(max_attempts=2, initial_backoff=0.01, retry_after_cap=0.05))
    started = time.monotonic()
    await call(client, "healthz")
    assert time.monotonic() - started < 1.0


async def test_dropped_connection_on_get_is_retried(make_client, fake):
    fake.fail(Fault("drop"), Fault("drop"))
    client = make_client()
    await call(client, "healthz")
    assert len(fake.seen("GET", "/healthz")) == 3


async def test_slow_answer_times_out_and_is_retried(make_client, fake):
    fake.fail(Fault("slow", seconds=0.6))
    client = make_client(timeout=0.2)
    started = time.monotonic()
    await call(client, "healthz")
    assert time.monotonic() - started < 0.6 + 0.5
    assert len(fake.seen("GET", "/healthz")) == 2


async def test_slow_answers_until_exhausted_raise_connection_error(make_client, fake):
    fake.fail(*[Fault("slow", seconds=0.3) for _ in range(2)])
    client = make_client(timeout=0.1, retry=RetryPolicy(max_attempts=2, initial_backoff=0.01))
    with pytest.raises(KfpConnectionError) as info:
        await call(client, "healthz")
    assert info.value.status is None and info.value.retriable and "ReadTimeout" in info.value.message


async def test_4xx_fails_at_once_with_server_message(make_client, fake):
    fake.fail(Fault("status", 400, body={"error": "Invalid input error: bad filter", "code": 3,
                                         "message": "Invalid input error: bad filter", "details": []}))
    client = make_client()
    with pytest.raises(KfpApiError) as info:
        await call(client, "list_runs", experiment_id="e1")
    err = info.value
    assert (err.status, err.code, err.retriable) == (400, 3, False)
    assert err.message == "Invalid input error: bad filter"
    assert "GET /apis/v2beta1/runs" in str(err)
    assert len(fake.seen("GET", "/runs")) == 1


async def test_404_is_not_found(make_client, fake):
    client = make_client()
    with pytest.raises(KfpNotFoundError) as info:
        await call(client, "get_run", "nope")
    assert info.value.status == 404 and "resource not found" in info.value.message


async def test_error_body_without_json_uses_text(make_client, fake):
    fake.fail(Fault("status", 403, body=b"RBAC: access denied", headers={"Content-Type": "text/plain"}))
    client = make_client()
    with pytest.raises(KfpAuthError) as info:
        await call(client, "healthz")
    assert info.value.message == "RBAC: access denied"


async def test_redirect_to_login_is_an_auth_error(make_client, fake):
    fake.fail(Fault("status", 302, headers={"Location": "https://dex.example.com/auth?state=xyz"}, body=b""))
    client = make_client()
    with pytest.raises(KfpAuthError) as info:
        await call(client, "healthz")
    assert "https://dex.example.com/auth" in info.value.message and "state=xyz" not in info.value.message


async def test_login_page_instead_of_json(make_client, fake):
    fake.fail(Fault("status", 200, body=b"<html>Log in</html>", headers={"Content-Type": "text/html"}))
    client = make_client()
    with pytest.raises(KfpApiError, match="expected a JSON object but got text/html"):
        await call(client, "healthz")
    fake.fail(Fault("status", 200, body=b"[1, 2]"))
    with pytest.raises(KfpApiError, match="expected a JSON object but got application/json"):
        await call(client, "list_runs")


async def test_create_is_not_resent_after_5xx(make_client, fake):
    fake.fail(Fault("status", 503, method="POST", path="/experiments$"))
    client = make_client()
    with pytest.raises(KfpApiError) as info:
        await call(client, "create_experiment", "exp")
    assert info.value.retriable and info.value.maybe_applied
    assert len(fake.seen("POST", "/experiments$")) == 1


async def test_create_is_resent_after_429(make_client, fake):
    fake.fail(Fault("status", 429, method="POST", path="/experiments$", headers={"Retry-After": "0"}))
    client = make_client()
    exp = await call(client, "create_experiment", "exp")
    assert exp.display_name == "exp" and len(fake.experiments) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_retried_then_raised(face):
    config = KfpConfig(host=f"http://127.0.0.1:{_closed_port()}",
                       retry=RetryPolicy(max_attempts=3, initial_backoff=0.01))
    from af2kfp.bridge.kfp import AsyncKfpClient

    client = KfpClient(config) if face == "sync" else AsyncKfpClient(config)
    with pytest.raises(KfpConnectionError) as info:
        await call(client, "create_experiment", "exp")  # not sent, so even a create may be resent
    assert info.value.attempts == 3 and not info.value.maybe_applied and "ConnectError" in info.value.message


def test_config_validation(tmp_path):
    with pytest.raises(KfpConfigError, match="http"):
        KfpConfig(host="kfp.example.com")
    with pytest.raises(KfpConfigError, match="credentials"):
        KfpConfig(host="https://user:secret@kfp.example.com")
    with pytest.raises(KfpConfigError, match="CA bundle"):
        KfpConfig(host="https://kfp.example.com", verify=str(tmp_path / "missing.pem"))
    assert KfpConfig(host="http://h:1/pipeline/").host == "http://h:1/pipeline"


def test_verify_off_warns(caplog, fake):
    with pytest.warns(UserWarning, match="verification is OFF"):
        client = KfpClient(KfpConfig(host=fake.url, verify=False))
    client.close()
    assert "verification is OFF" in caplog.text


def test_ca_bundle_is_used(fake):
    import certifi

    with KfpClient(KfpConfig(host=fake.url, verify=certifi.where())) as client:
        assert client.healthz()["multi_user"] is False


def test_host_path_prefix_is_kept(fake):
    with KfpClient(KfpConfig(host=fake.url + "/pipeline")) as client:
        with pytest.raises(KfpNotFoundError):
            client.healthz()
    assert fake.seen()[0].path == "/pipeline/apis/v2beta1/healthz"


def test_retry_policy_backoff_grows_with_jitter():
    import random

    policy = RetryPolicy(initial_backoff=1.0, multiplier=2.0, max_backoff=5.0, jitter=0.5, rng=random.Random(7))
    delays = [policy.backoff(n) for n in (1, 2, 3, 4, 5)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.0 <= delays[2] <= 4.0
    assert all(2.5 <= d <= 5.0 for d in delays[3:])
    assert RetryPolicy(jitter=0.0, initial_backoff=1.0).backoff(3) == 4.0


def test_parse_retry_after_date():
    from datetime import datetime, timezone

    from af2kfp.bridge.kfp.retry import parse_retry_after

    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
