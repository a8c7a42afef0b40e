"""Auth headers as the server sees them, token-file rotation, and secrets kept out of logs and errors."""

from __future__ import annotations

import logging
import pickle

import pytest

from af2kfp.bridge.kfp import (
    BearerToken,
    KfpAuthError,
    KfpClient,
    KfpConfigError,
    NoAuth,
    SessionCookie,
    TokenFile,
    auth_from_options,
)
from af2kfp.bridge.kfp.auth import redact
from tests.bridge_client.conftest import call
from tests.bridge_client.fake_kfp import Fault

TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-token-value"
COOKIE = "authservice_session=MTcwMDAwMDAwMHxzZWNyZXQtc2Vzc2lvbg"


async def test_bearer_token_header(make_client, fake):
    client = make_client(auth=BearerToken(TOKEN))
    await call(client, "healthz")
    assert fake.seen()[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_session_cookie_header(make_client, fake):
    client = make_client(auth=SessionCookie(COOKIE + "; oauth2_proxy=abc123def"))
    await call(client, "healthz")
    assert fake.seen()[0].headers["Cookie"] == COOKIE + "; oauth2_proxy=abc123def"
    assert "Authorization" not in fake.seen()[0].headers


async def test_token_file_is_reread_on_every_request(make_client, fake, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("first-token-1111\n")
    client = make_client(auth=TokenFile(token_file))
    await call(client, "healthz")
    token_file.write_text("second-token-2222")  # the kubelet rotated it
    await call(client, "healthz")
    assert [s.headers["Authorization"] for s in fake.seen()] == [
        "Bearer first-token-1111",
        "Bearer second-token-2222",
    ]


async def test_token_file_is_reread_between_retries(make_client, fake, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("old-token-1111")
    client = make_client(auth=TokenFile(token_file))
    fake.fail(Fault("status", 401, body={"error": "token expired", "code": 16, "message": "token expired"}))
    with pytest.raises(KfpAuthError):
        await call(client, "healthz")
    token_file.write_text("new-token-2222")
    await call(client, "healthz")
    assert fake.seen()[-1].headers["Authorization"] == "Bearer new-token-2222"


async def test_401_after_rotation_in_flight_is_resent_once(make_client, fake, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("old-token-1111")
    fake.fail(Fault("status", 401, body={"error": "expired", "code": 16, "message": "expired"},
                    on_hit=lambda: token_file.write_text("new-token-2222")))
    client = make_client(auth=TokenFile(token_file))
    await call(client, "healthz")
    assert [s.headers["Authorization"] for s in fake.seen()] == ["Bearer old-token-1111", "Bearer new-token-2222"]


async def test_401_with_an_unchanged_token_fails_at_once(make_client, fake):
    fake.fail(*[Fault("status", 401, body={"error": "no", "code": 16, "message": "Unauthenticated"})] * 3)
    client = make_client(auth=BearerToken(TOKEN))
    with pytest.raises(KfpAuthError, match="Unauthenticated"):
        await call(client, "healthz")
    assert len(fake.seen()) == 1


async def test_missing_token_file_names_the_path(make_client, tmp_path):
    client = make_client(auth=TokenFile(tmp_path / "absent"))
    with pytest.raises(KfpConfigError, match="absent"):
        await call(client, "healthz")


@pytest.mark.parametrize("kind", ["token_file", "cookie", "bearer"])
async def test_secrets_absent_from_errors_and_logs(make_client, fake, caplog, tmp_path, kind):
    """The server echoes the credentials it got back in its error text; nothing must leak."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    auth = {"token_file": TokenFile(token_file), "cookie": SessionCookie(COOKIE), "bearer": BearerToken(TOKEN)}[kind]
    secret = COOKIE.split("=", 1)[1] if kind == "cookie" else TOKEN
    echo = f"denied: credentials {auth.headers()} / {secret}"
    fake.fail(*[Fault("status", 503, body={"error": echo, "code": 14, "message": echo}) for _ in range(2)],
              Fault("status", 403, body={"error": echo, "code": 7, "message": echo}))
    caplog.set_level(logging.DEBUG)  # httpx and httpcore debug logs too
    client = make_client(auth=auth)
    with pytest.raises(KfpAuthError) as info:
        await call(client, "healthz")
    texts = [str(info.value), repr(info.value), info.value.message, repr(client), repr(auth),
             repr(client.config), str(pickle.loads(pickle.dumps(info.value))), caplog.text]
    for text in texts:
        assert secret not in text
    assert "***" in info.value.message
    assert "retrying" in caplog.text  # the 503s were logged, without the secret


def test_reprs_hide_secrets(tmp_path):
    assert TOKEN not in repr(BearerToken(TOKEN))
    cookie = SessionCookie(COOKIE)
    assert "authservice_session" in repr(cookie) and "MTcw" not in repr(cookie)
    assert repr(TokenFile(tmp_path / "t")) == f"TokenFile(path={str(tmp_path / 't')!r})"


def test_auth_from_options(tmp_path):
    assert isinstance(auth_from_options(), NoAuth)
    assert isinstance(auth_from_options(token="Bearer abcd"), BearerToken)
    assert BearerToken("Bearer abcd").headers() == {"Authorization": "Bearer abcd"}
    assert isinstance(auth_from_options(token_file=tmp_path / "t"), TokenFile)
    assert isinstance(auth_from_options(cookie="Cookie: a=b"), SessionCookie)
    with pytest.raises(KfpConfigError, match="only one"):
        auth_from_options(token="abcd", cookie="a=b")
    with pytest.raises(KfpConfigError):
        SessionCookie("no-equals-sign")
    with pytest.raises(KfpConfigError):
        BearerToken("   ")


def test_redact_longest_first():
    assert redact("a=secretvalue; b=secret", ["secret", "secretvalue"]) == "a=***; b=***"
    assert redact("abc", ["ab"]) == "abc"  # too short to redact safely


def test_client_repr_shows_host_not_secret(fake):
    with KfpClient(host=fake.url, auth=BearerToken(TOKEN)) as client:
        assert fake.url in repr(client) and TOKEN not in repr(client)
