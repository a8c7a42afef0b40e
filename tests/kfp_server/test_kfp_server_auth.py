"""Optional credentials on the KFP API, to test clients' auth end to end."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from af2kfp.bridge.kfp_server import ControlError, RunningServer, start_server, start_server_process

from .conftest import FAST

HEALTHZ = "/apis/v2beta1/healthz"


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path / "kfp.db", bearer_token="s3cret", session_cookie="authservice_session=abc", control=True, **FAST
    )
    yield running
    running.stop()


def _client(url: str, **kwargs: Any) -> Any:
    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return kfp.Client(host=url, **kwargs)


def test_bearer_token_and_session_cookie(guarded: RunningServer) -> None:
    url = guarded.url
    denied = httpx.get(url + HEALTHZ)
    assert denied.status_code == 401 and denied.json()["code"] == 16
    assert httpx.get(url + HEALTHZ, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url + HEALTHZ, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert httpx.get(url + HEALTHZ, cookies={"authservice_session": "abc"}).status_code == 200
    assert httpx.get(url + HEALTHZ, cookies={"authservice_session": "xyz"}).status_code == 401
    # the real kfp.Client with either credential
    assert _client(url, existing_token="s3cret").list_runs().runs is None  # empty: omitted, as KFP does
    assert _client(url, cookies="authservice_session=abc").list_experiments().experiments is None
    assert guarded.control().stats()["auth rejected"] == 3


def test_credentials_rotate_and_are_never_shown(guarded: RunningServer) -> None:
    control = guarded.control()  # sends the credentials the server was started with
    assert control.settings()["bearer_token"] == "***" and control.settings()["session_cookie"] == "***"
    assert httpx.get(guarded.url + "/af2kfp/v1/settings").status_code == 401  # the control API too
    assert control.settings(bearer_token="rotated")["bearer_token"] == "***"
    headers = {"Authorization": "Bearer s3cret"}
    assert httpx.get(guarded.url + HEALTHZ, headers=headers).status_code == 401
    assert httpx.get(guarded.url + HEALTHZ, headers={"Authorization": "Bearer rotated"}).status_code == 200
    with pytest.raises(ControlError, match="cannot be removed while the server runs"):
        control.settings(bearer_token=None, session_cookie=None)
    assert httpx.get(guarded.url + HEALTHZ).status_code == 401


def test_cli_reads_credentials_from_files(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-file\n")
    with start_server_process(args=["--bearer-token-file", str(token)]) as server:
        assert httpx.get(server.url + HEALTHZ).status_code == 401
        assert (
            httpx.get(server.url + HEALTHZ, headers={"Authorization": "Bearer from-file"}).status_code == 200
        )
    missing = subprocess.run(
        [sys.executable, "-m", "af2kfp.bridge.kfp_server", "--bearer-token-file", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (
        missing.returncode == 2
        and "--bearer-token-file" in missing.stderr
        and "cannot read" in missing.stderr
    )
