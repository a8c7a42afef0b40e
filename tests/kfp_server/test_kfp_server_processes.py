"""Restarts lose nothing; the command line starts a real server process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from af2kfp.bridge.kfp_server import start_server, start_server_process

from .conftest import FAST, wait_for


def _state(url: str, run_id: str) -> str:
    return httpx.get(f"{url}/apis/v2beta1/runs/{run_id}").json()["state"]


def test_restart_in_process_keeps_everything_and_runs_go_on(tmp_path: Path, spec: dict[str, Any]) -> None:
    db = tmp_path / "state.db"
    first = start_server(db, control=True, **FAST)
    control = first.control()
    control.script_next({"kind": "succeed", "after": 1.5})
    run = httpx.post(
        f"{first.url}/apis/v2beta1/runs", json={"display_name": "long", "pipeline_spec": spec}
    ).json()
    experiment = httpx.post(f"{first.url}/apis/v2beta1/experiments", json={"display_name": "kept"}).json()
    control.script_name("later", "fail:add:after restart")
    control.fault("status", count=1, path="/apis/v2beta1/healthz")
    wait_for(lambda: _state(first.url, run["run_id"]) == "RUNNING")
    first.stop()

    second = start_server(db, control=True)  # another port, same file, stored settings
    try:
        assert _state(second.url, run["run_id"]) == "RUNNING"
        assert (
            httpx.get(f"{second.url}/apis/v2beta1/experiments/{experiment['experiment_id']}").status_code
            == 200
        )
        assert httpx.get(f"{second.url}/apis/v2beta1/healthz").status_code == 503  # the fault survived too
        assert second.control().settings()["run_seconds"] == FAST["run_seconds"]
        done = wait_for(
            lambda: (r := httpx.get(f"{second.url}/apis/v2beta1/runs/{run['run_id']}").json())["state"]
            == "SUCCEEDED"
            and r
        )
        assert [t["state"] for t in done["run_details"]["task_details"]] == ["SUCCEEDED", "SUCCEEDED"]
        later = httpx.post(
            f"{second.url}/apis/v2beta1/runs", json={"display_name": "later", "pipeline_spec": spec}
        ).json()
        wait_for(lambda: _state(second.url, later["run_id"]) == "FAILED")
    finally:
        second.stop()


def test_subprocess_restart_on_the_same_db(tmp_path: Path, spec: dict[str, Any]) -> None:
    db = tmp_path / "state.db"
    args = ["--run-seconds", "1.5", "--pending-seconds", "0.1", "--default-fate", "succeed"]
    with start_server_process(db, args=args) as first:
        assert httpx.get(f"{first.url}/apis/v2beta1/healthz").json() == {
            "commit_sha": "unknown",
            "tag_name": "af2kfp-kfp-server",
            "multi_user": False,
            "pipeline_store": "database",
        }
        run = httpx.post(
            f"{first.url}/apis/v2beta1/runs", json={"display_name": "r", "pipeline_spec": spec}
        ).json()
        wait_for(lambda: _state(first.url, run["run_id"]) == "RUNNING")
        assert first.stop() == 0  # SIGTERM: a clean stop
    with start_server_process(db) as second:
        assert _state(second.url, run["run_id"]) in ("RUNNING", "SUCCEEDED")
        wait_for(lambda: _state(second.url, run["run_id"]) == "SUCCEEDED")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_command_serves_on_a_free_port(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("af2kfp")),
        "kfp-server",
        "--port",
        str(port),
        "--db",
        str(tmp_path / "cli.db"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()  # type: ignore[union-attr]
        assert (
            banner.strip()
            == f"af2kfp kfp-server: KFP API v2beta1 on http://127.0.0.1:{port} (state: {tmp_path / 'cli.db'})"
        )
        assert httpx.get(f"http://127.0.0.1:{port}/apis/v2beta1/healthz").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0 and "stopped" in errors


def test_cli_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    af2kfp = str(Path(sys.executable).with_name("af2kfp"))
    missing = subprocess.run(
        [af2kfp, "kfp-server", "--db", str(tmp_path / "no" / "such.db")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (
        missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    )
    fate = subprocess.run(
        [af2kfp, "kfp-server", "--port", "0", "--default-fate", "explode"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (
        fate.returncode == 2 and "'explode' is not one of" in fate.stderr and "Traceback" not in fate.stderr
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = subprocess.run(
            [af2kfp, "kfp-server", "--port", str(busy.getsockname()[1])],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert taken.returncode == 2 and "cannot listen" in taken.stderr
