"""Injected transient faults: error bursts, dropped connections, slow answers."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from af2kfp.bridge.kfp_server import ControlError, RunningServer

from .conftest import json_writes


@pytest.fixture
def run_id(server: RunningServer, spec: dict[str, Any]) -> str:
    answer = httpx.post(f"{server.url}/apis/v2beta1/runs", json={"display_name": "r", "pipeline_spec": spec})
    return answer.json()["run_id"]


def test_503_burst_is_exact(server: RunningServer, run_id: str) -> None:
    control = server.control()
    control.fault("status", count=3, path="/apis/v2beta1/runs/*", method="GET")
    control.reset_stats()
    with httpx.Client(base_url=server.url, event_hooks={"request": [json_writes]}) as http:
        assert http.get("/apis/v2beta1/healthz").status_code == 200  # another path: untouched
        assert (
            http.post(f"/apis/v2beta1/runs/{run_id}:archive").status_code == 200
        )  # another method: untouched
        answers = [http.get(f"/apis/v2beta1/runs/{run_id}") for _ in range(5)]
    assert [a.status_code for a in answers] == [503, 503, 503, 200, 200]
    assert answers[0].json() == {
        "error": "af2kfp kfp-server: injected fault: HTTP 503",
        "code": 14,
        "message": "af2kfp kfp-server: injected fault: HTTP 503",
        "details": [],
    }
    assert control.faults() == []
    stats = control.stats()
    assert stats["fault status"] == 3 and stats["GET /apis/v2beta1/runs/{run_id}"] == 5


def test_other_status_codes_and_control_paths_are_never_faulted(server: RunningServer, run_id: str) -> None:
    control = server.control()
    control.fault("status", status=429, count=1, path="*")
    assert control.settings()["run_seconds"] == 0.6  # /af2kfp/v1/... is not faulted
    assert httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}").status_code == 429
    with pytest.raises(ControlError, match="kind 'boom'"):
        control.fault("boom")
    with pytest.raises(ControlError, match="delay must be"):
        control.fault("delay")
    with pytest.raises(ControlError, match="count must be"):
        control.fault("drop", count=0)


def test_dropped_connections(server: RunningServer, run_id: str) -> None:
    server.control().fault("drop", count=2, path="/apis/v2beta1/runs/*")
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}")
    assert httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}").status_code == 200


def test_dropped_connection_on_a_kept_alive_connection(server: RunningServer, run_id: str) -> None:
    with httpx.Client(base_url=server.url, event_hooks={"request": [json_writes]}) as http:
        assert http.get(f"/apis/v2beta1/runs/{run_id}").status_code == 200
        server.control().fault("drop", count=1, path="/apis/v2beta1/runs/*")
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(f"/apis/v2beta1/runs/{run_id}")
        assert http.get(f"/apis/v2beta1/runs/{run_id}").status_code == 200


def test_slow_answers(server: RunningServer, run_id: str) -> None:
    server.control().fault("delay", delay=0.6, count=2, path="/apis/v2beta1/runs/*")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}", timeout=0.2)
    started = time.monotonic()
    assert httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}", timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    assert httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}", timeout=5).status_code == 200
    assert time.monotonic() - started < 0.5


def test_reset_clears_scripts_faults_and_counts(server: RunningServer) -> None:
    control = server.control()
    control.fault("status", count=5)
    control.script_next("fail")
    control.reset()
    assert (control.faults(), control.scripts(), control.stats()) == ([], [], {})
    assert httpx.get(f"{server.url}/apis/v2beta1/healthz").status_code == 200


def test_faults_after_the_work_hit_the_answer_of_a_request_that_was_served(
    server: RunningServer, spec: dict[str, Any]
) -> None:
    """``after``: the create is done, the client sees an error, a dropped connection or a
    late answer; what a client must not take for "nothing happened"."""
    control = server.control()
    control.fault("status", status=503, after=True, path="/apis/v2beta1/runs", method="POST")
    control.fault("drop", after=True, path="/apis/v2beta1/runs", method="POST")
    assert control.faults()[0]["after"] is True
    body = {"display_name": "applied", "pipeline_spec": spec}
    with httpx.Client(base_url=server.url, event_hooks={"request": [json_writes]}) as http:
        assert http.post("/apis/v2beta1/runs", json=body).status_code == 503
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/apis/v2beta1/runs", json=body)
        runs = http.get("/apis/v2beta1/runs").json()["runs"]
    assert [r["display_name"] for r in runs] == ["applied", "applied"]
    with pytest.raises(ControlError, match="after must be true"):
        control.fault("drop", after="yes")  # type: ignore[arg-type]
