"""Scripting runs' fates: control API (next run, by name, by id), the run's
own inputs, the server default; terminate, retry."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from af2kfp.bridge.kfp_server import ControlError, RunningServer

from .conftest import JSON, wait_for


def _create(server: RunningServer, spec: dict[str, Any], name: str = "run", **fields: Any) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.url}/apis/v2beta1/runs", json={"display_name": name, "pipeline_spec": spec, **fields}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _final(server: RunningServer, run_id: str) -> dict[str, Any]:
    def done() -> Any:
        run = httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}").json()
        return run if run["state"] in ("SUCCEEDED", "FAILED", "CANCELED") else None

    return wait_for(done)


def test_next_run_fails_with_a_task_error(server: RunningServer, spec: dict[str, Any]) -> None:
    server.control().script_next("fail:add:OOMKilled")
    failed = _final(server, _create(server, spec)["run_id"])
    assert failed["state"] == "FAILED"
    assert failed["error"]["message"] == "task 'add' failed: OOMKilled"
    tasks = failed["run_details"]["task_details"]
    assert [(t["display_name"], t["state"]) for t in tasks] == [("add", "FAILED")]
    assert tasks[0]["error"]["message"] == "OOMKilled" and tasks[0]["pod_name"]
    assert failed["finished_at"] != "1970-01-01T00:00:00Z"
    # the script was used up: the next run gets the default fate
    assert _final(server, _create(server, spec)["run_id"])["state"] == "SUCCEEDED"


def test_next_runs_count_and_order(server: RunningServer, spec: dict[str, Any]) -> None:
    control = server.control()
    control.script_next("fail", count=2)
    control.script_next("cancel:0.1")
    run_ids = [_create(server, spec)["run_id"] for _ in range(4)]
    states = [_final(server, run_id)["state"] for run_id in run_ids]
    assert states == ["FAILED", "FAILED", "CANCELED", "SUCCEEDED"]
    assert control.scripts() == []


def test_by_display_name_wins_over_the_queue_and_the_run_inputs(
    server: RunningServer, spec: dict[str, Any]
) -> None:
    control = server.control()
    control.script_name("nightly", "fail:show:disk full")
    control.script_next("cancel:0.1")
    params = {"runtime_config": {"parameters": {"af2kfp.fate": "succeed"}}}
    assert _final(server, _create(server, spec, "nightly", **params)["run_id"])["state"] == "FAILED"
    assert (
        _final(server, _create(server, spec, "nightly")["run_id"])["state"] == "FAILED"
    )  # every run of that name
    assert _final(server, _create(server, spec, "other")["run_id"])["state"] == "CANCELED"


def test_fate_from_run_parameter_or_description(server: RunningServer, spec: dict[str, Any]) -> None:
    by_param = _create(
        server, spec, runtime_config={"parameters": {"a": 1, "af2kfp.fate": "fail:add:bad input"}}
    )
    by_text = _create(server, spec, description="weekly\naf2kfp.fate=fail::no space left")
    assert _final(server, by_param["run_id"])["error"]["message"] == "task 'add' failed: bad input"
    assert _final(server, by_text["run_id"])["error"]["message"] == "task 'show' failed: no space left"
    bad = httpx.post(
        f"{server.url}/apis/v2beta1/runs",
        json={
            "display_name": "x",
            "pipeline_spec": spec,
            "runtime_config": {"parameters": {"af2kfp.fate": "explode"}},
        },
    )
    assert bad.status_code == 400 and "explode" in bad.json()["message"]


def test_default_fate_and_rescript_a_running_run(server: RunningServer, spec: dict[str, Any]) -> None:
    control = server.control()
    assert control.settings(default_fate="hang")["default_fate"] == "hang"
    run = _create(server, spec)
    wait_for(
        lambda: httpx.get(f"{server.url}/apis/v2beta1/runs/{run['run_id']}").json()["state"] == "RUNNING"
    )
    control.script_run(
        run["run_id"], {"kind": "fail", "task": "show", "message": "late failure", "after": 0.2}
    )
    assert _final(server, run["run_id"])["error"]["message"] == "task 'show' failed: late failure"
    with pytest.raises(ControlError, match="not one of"):
        control.settings(default_fate="nope")
    with pytest.raises(ControlError, match="404"):
        control.script_run("no-such-run", "succeed")


def test_terminate_then_retry(server: RunningServer, spec: dict[str, Any]) -> None:
    server.control().script_next("hang")
    run_id = _create(server, spec)["run_id"]
    assert httpx.post(f"{server.url}/apis/v2beta1/runs/{run_id}:retry", headers=JSON).status_code == 400  # not failed yet
    assert httpx.post(f"{server.url}/apis/v2beta1/runs/{run_id}:terminate", headers=JSON).json() == {}
    assert _final(server, run_id)["state"] == "CANCELED"
    assert httpx.post(f"{server.url}/apis/v2beta1/runs/{run_id}:terminate", headers=JSON).status_code == 200  # idempotent
    assert httpx.post(f"{server.url}/apis/v2beta1/runs/{run_id}:retry", headers=JSON).json() == {}
    assert httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}").json()["state"] in ("PENDING", "RUNNING")
    assert _final(server, run_id)["state"] == "SUCCEEDED"


def test_per_run_pending_and_duration(server: RunningServer, spec: dict[str, Any]) -> None:
    server.control().script_next({"kind": "succeed", "after": 0, "pending": 0})
    run = _create(server, spec)
    assert run["state"] == "SUCCEEDED"
    assert [t["state"] for t in run["run_details"]["task_details"]] == ["SUCCEEDED", "SUCCEEDED"]
