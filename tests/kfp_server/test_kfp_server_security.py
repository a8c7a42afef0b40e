"""The local server's defences: credentials everywhere, powers fixed at start, request checks."""

from __future__ import annotations

import json
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from af2kfp.bridge.kfp import run_url
from af2kfp.bridge.kfp_server import RunningServer, start_server, start_server_process
from af2kfp.bridge.kfp_server.api import KfpApi
from af2kfp.bridge.kfp_server.store import Store

from .conftest import FAST, JSON

RUNS = "/apis/v2beta1/runs"


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[RunningServer]:
    """A server as `af2kfp kfp-server` starts by default: no control API, no run-chosen fates, no execution."""
    running = start_server(tmp_path / "kfp.db", **FAST)
    yield running
    running.stop()


def _create(url: str, spec: dict[str, Any], **fields: Any) -> httpx.Response:
    return httpx.post(url + RUNS, json={"display_name": "r", "pipeline_spec": spec, **fields})


def _raw(port: int, request: bytes) -> bytes:
    """Send bytes as they are (no client fixing up headers); the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_control_api_is_off_unless_asked_for(plain: RunningServer, spec: dict[str, Any]) -> None:
    for method, path in (("GET", "/settings"), ("PATCH", "/settings"), ("POST", "/scripts"), ("GET", "/stats")):
        answer = httpx.request(method, plain.url + "/af2kfp/v1" + path, json={}, headers=JSON)
        assert answer.status_code == 404 and "--control" in answer.json()["message"]
    with pytest.raises(RuntimeError, match="control=True"):
        plain.control()


def test_a_run_cannot_choose_its_fate_or_execution_without_the_flags(
    plain: RunningServer, spec: dict[str, Any]
) -> None:
    """af2kfp.fate is an ordinary parameter unless --run-fates; nothing runs without --execute."""
    for fate in ("execute", "fail:add:boom"):
        run = _create(plain.url, spec, runtime_config={"parameters": {"a": 1, "af2kfp.fate": fate}}).json()
        assert plain.api.store.one("SELECT exec_dir FROM runs WHERE run_id = ?", (run["run_id"],)) == {
            "exec_dir": None
        }
        note = run["plugins_output"]["af2kfp-kfp-server"]
        assert note["entries"] == {"execution": {"value": "simulated"}, "fate": {"value": "succeed"}}
        described = _create(plain.url, spec, description=f"af2kfp.fate={fate}").json()
        assert described["plugins_output"]["af2kfp-kfp-server"]["entries"]["fate"] == {"value": "succeed"}


def test_execution_is_only_for_a_server_started_with_execute(tmp_path: Path, spec: dict[str, Any]) -> None:
    with start_server(tmp_path / "kfp.db", control=True, run_fates=True, **FAST) as server:
        control = server.control()
        for change in ({"execute": True}, {"run_fates": False}):
            answer = httpx.patch(server.url + "/af2kfp/v1/settings", json=change)
            assert answer.status_code == 400 and "fixed when the server starts" in answer.json()["message"]
        for call in (
            lambda: control.script_next("execute"),
            lambda: control.script_name("nightly", "execute"),
            lambda: control.settings(default_fate="execute"),
        ):
            with pytest.raises(Exception, match="only a server started with --execute"):
                call()
        asked = _create(server.url, spec, runtime_config={"parameters": {"af2kfp.fate": "execute"}})
        assert asked.status_code == 400 and "--execute" in asked.json()["message"]
        assert control.settings()["execute"] is False and control.settings()["run_fates"] is True
        # a script stored by an earlier server started with --execute does not run code here
        server.api.store.run(
            "INSERT INTO scripts (display_name, fate, remaining) VALUES (NULL, ?, 1)", (json.dumps({"kind": "execute"}),)
        )
        run = _create(server.url, spec).json()
        assert server.api.store.one("SELECT exec_dir, fate FROM runs WHERE run_id = ?", (run["run_id"],))[
            "exec_dir"
        ] is None


def test_host_must_name_this_server(plain: RunningServer) -> None:
    """DNS rebinding: a page of evil.test resolved to 127.0.0.1 sends its own name as Host."""
    port, health = plain.port, plain.url + "/apis/v2beta1/healthz"
    for host in (f"evil.test:{port}", "evil.test", f"127.0.0.1:{port + 1}", f"localhost.evil.test:{port}", ""):
        answer = httpx.get(health, headers={"Host": host})
        assert answer.status_code == 403 and answer.json()["code"] == 7, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"LOCALHOST.:{port}"):
        assert httpx.get(health, headers={"Host": host}).status_code == 200, host
    answer = _raw(port, b"GET /apis/v2beta1/healthz HTTP/1.1\r\nConnection: close\r\n\r\n")  # no Host at all
    assert answer.startswith(b"HTTP/1.1 403")


def test_allow_host_adds_a_name(tmp_path: Path) -> None:
    with start_server(allow_hosts=["kfp.internal"]) as server:
        health = server.url + "/apis/v2beta1/healthz"
        assert httpx.get(health, headers={"Host": f"kfp.internal:{server.port}"}).status_code == 200
        assert httpx.get(health, headers={"Host": f"other.internal:{server.port}"}).status_code == 403


def test_foreign_origins_are_refused(plain: RunningServer, spec: dict[str, Any]) -> None:
    body = {"display_name": "r", "pipeline_spec": spec}
    for origin in ("http://evil.test", f"http://127.0.0.1:{plain.port + 1}", "null", f"http://localhost.evil.test:{plain.port}"):
        answer = httpx.post(plain.url + RUNS, json=body, headers={"Origin": origin})
        assert answer.status_code == 403 and "origin" in answer.json()["message"], origin
    assert httpx.get(plain.url + RUNS, headers={"Origin": "http://evil.test"}).status_code == 403
    assert plain.api.store.one("SELECT COUNT(*) AS n FROM runs")["n"] == 0
    own = httpx.post(plain.url + RUNS, json=body, headers={"Origin": plain.url})
    assert own.status_code == 200


def test_writes_must_be_json_or_a_multipart_upload(plain: RunningServer, spec: dict[str, Any]) -> None:
    """What a page on another origin can send without a CORS preflight is refused."""
    text = json.dumps({"display_name": "r", "pipeline_spec": spec})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = httpx.post(plain.url + RUNS, content=text, headers=headers)
        assert answer.status_code == 415 and "application/json" in answer.json()["message"], content_type
    assert httpx.post(plain.url + RUNS + "/x:terminate").status_code == 415  # no body, no type
    assert httpx.request("DELETE", plain.url + RUNS + "/x").status_code == 415
    upload = httpx.post(
        plain.url + "/apis/v2beta1/pipelines/upload", content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert upload.status_code == 415 and "multipart/form-data" in upload.json()["message"]
    assert plain.api.store.one("SELECT COUNT(*) AS n FROM runs")["n"] == 0
    assert httpx.post(plain.url + RUNS, content=text, headers={"Content-Type": "application/json; charset=utf-8"}).status_code == 200


@pytest.mark.parametrize(
    "headers, status",
    [
        (b"Content-Length: 99999999999\r\n", 413),
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: -1\r\n", 400),
        (b"Content-Length: 2\r\nContent-Length: 3\r\n", 400),
        (b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", 400),
        (b"Transfer-Encoding: gzip\r\n", 400),
        (b"Transfer-Encoding: chunked\r\n", 400),  # followed by a bad chunk size
    ],
    ids=["too-big", "not-a-number", "negative", "two-values", "both", "unknown-coding", "bad-chunk"],
)
def test_bodies_are_bounded_and_their_length_checked(plain: RunningServer, headers: bytes, status: int) -> None:
    request = (
        b"POST /apis/v2beta1/runs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        % plain.port
        + headers
        + b"\r\nzz\r\n"
    )
    answer = _raw(plain.port, request)
    assert answer.startswith(b"HTTP/1.1 %d" % status), answer[:200]
    assert b"Connection: close" in answer


def test_a_chunked_body_over_the_limit_is_refused(tmp_path: Path) -> None:
    with start_server() as server:
        server.server.max_body = 1000
        request = (
            b"POST /apis/v2beta1/runs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % server.port
            + b"400\r\n" + b" " * 1024 + b"\r\n0\r\n\r\n"
        )
        assert _raw(server.port, request).startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize(
    "body, message",
    [
        (b"[" * 101 + b"]" * 101, "nested deeper than 100"),
        (b'{"a":' * 150 + b"1" + b"}" * 150, "nested deeper than 100"),
        (b'{"display_name": NaN}', "NaN is not JSON"),
        (b'{"display_name": -Infinity}', "-Infinity is not JSON"),
        (b'{"display_name": 1e999}', "does not fit a float"),
    ],
    ids=["arrays", "objects", "nan", "infinity", "overflow"],
)
def test_json_depth_and_non_finite_numbers_are_refused(plain: RunningServer, body: bytes, message: str) -> None:
    answer = httpx.post(plain.url + RUNS, content=body, headers=JSON)
    assert answer.status_code == 400 and message in answer.json()["message"]


def test_brackets_inside_strings_do_not_count_as_depth(plain: RunningServer, spec: dict[str, Any]) -> None:
    answer = _create(plain.url, spec, description="[" * 500 + '"{\\"' * 50)
    assert answer.status_code == 200, answer.text


def test_the_database_is_private_and_keeps_no_secret(tmp_path: Path) -> None:
    db = tmp_path / "kfp.db"
    with start_server(db, bearer_token="s3cret-token", session_cookie="session=c00kie-value", control=True) as server:
        server.control().settings(bearer_token="rotated-t0ken")
        assert httpx.get(server.url + RUNS, headers={"Authorization": "Bearer rotated-t0ken"}).status_code == 200
    files = [p for p in tmp_path.iterdir() if p.name.startswith("kfp.db")]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files if p.is_file())
    for path in files:
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in (b"s3cret-token", b"c00kie-value", b"rotated-t0ken")), path
    stored = json.loads(sqlite3.connect(db).execute("SELECT value FROM settings").fetchone()[0])
    assert stored["bearer_token"].startswith("pbkdf2_sha256$")
    assert stored["session_cookie"].startswith("session=pbkdf2_sha256$")


def test_plain_text_credentials_of_an_older_database_are_hashed(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    legacy = Store(str(db))
    legacy.set_setting("settings", json.dumps({"bearer_token": "legacy", "session_cookie": "s=v", "execute": True}))
    api = KfpApi(legacy)
    stored = json.loads(legacy.setting("settings"))
    assert stored["bearer_token"].startswith("pbkdf2_sha256$") and "legacy" not in json.dumps(stored)
    assert api.checker.allows({"Authorization": "Bearer legacy"}, api.settings.bearer_token, None)
    assert api.policy.execute is False  # a stored 'execute' setting is not a power
    legacy.close()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "kfp.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    Store(str(db)).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_run_links_resolve_to_a_page_and_the_api_object(plain: RunningServer, spec: dict[str, Any]) -> None:
    run = _create(plain.url, spec, display_name="<b>linked</b>").json()
    page = httpx.get(run_url(plain.url, run["run_id"]))  # the fragment is not sent: GET /
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'id="/runs/details/{run["run_id"]}"' in page.text
    assert "&lt;b&gt;linked&lt;/b&gt;" in page.text and "<b>linked</b>" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    link = f'href="/apis/v2beta1/runs/{run["run_id"]}"'
    assert link in page.text
    assert httpx.get(plain.url + f"/apis/v2beta1/runs/{run['run_id']}").json()["run_id"] == run["run_id"]
    assert httpx.get(run_url(plain.url, run["run_id"], namespace="team")).status_code == 200


def test_credentials_guard_the_page_and_the_control_api(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    token.chmod(0o600)
    with start_server_process(args=["--control", "--bearer-token-file", str(token)], credentials={"token": "t0ken"}) as server:
        for path in ("/", "/af2kfp/v1/settings", "/af2kfp/v1/stats"):
            assert httpx.get(server.url + path).status_code == 401, path
        attempt = httpx.patch(server.url + "/af2kfp/v1/settings", json={"bearer_token": None})
        assert attempt.status_code == 401
        assert httpx.get(server.url + "/", headers={"Authorization": "Bearer t0ken"}).status_code == 200
        with pytest.raises(Exception, match="cannot be removed"):
            server.control().settings(bearer_token=None)
        assert server.control().stats()["auth rejected"] == 4


def test_the_cli_says_what_the_server_does(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "af2kfp.bridge.kfp_server", "--port", "0", "--db", str(tmp_path / "k.db")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            first, second = process.stdout.readline(), process.stdout.readline()
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert "KFP API v2beta1 on http://127.0.0.1:" in first
    assert "runs are SIMULATED" in second and "no credentials" in second and "control API" not in second
