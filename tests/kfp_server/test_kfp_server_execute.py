"""Really executing lightweight-Python pipelines with kfp.local."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml

from af2kfp.bridge.kfp_server import RunningServer, start_server

from .conftest import FAST, JSON, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def executing(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "kfp.db", control=True, execute=True, run_fates=True, **FAST)
    yield running
    running.stop()


def _run(server: RunningServer, package: Path, **fields: Any) -> str:
    spec = yaml.safe_load(package.read_text())
    answer = httpx.post(
        f"{server.url}/apis/v2beta1/runs", json={"display_name": "x", "pipeline_spec": spec, **fields}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["run_id"]


def _final(server: RunningServer, run_id: str) -> dict[str, Any]:
    def done() -> Any:
        run = httpx.get(f"{server.url}/apis/v2beta1/runs/{run_id}").json()
        return run if run["state"] in ("SUCCEEDED", "FAILED", "CANCELED") else None

    return wait_for(done, timeout=60, interval=0.1)


def test_a_run_asking_for_execution_runs_for_real(executing: RunningServer, package: Path) -> None:
    """The run's own af2kfp.fate parameter (--run-fates) asks for execution on a server started
    with --execute; the parameter is not passed on to the pipeline."""
    params = {"a": 3, "b": 4, "af2kfp.fate": "execute"}
    run_id = _run(executing, package, runtime_config={"parameters": params})
    run = _final(executing, run_id)
    assert run["state"] == "SUCCEEDED", run.get("error")
    assert [(t["display_name"], t["state"]) for t in run["run_details"]["task_details"]] == [
        ("add", "SUCCEEDED"),
        ("show", "SUCCEEDED"),
    ]
    note = run["plugins_output"]["af2kfp-kfp-server"]
    assert note["entries"]["execution"]["value"] == "kfp.local" and note["state"] == "PLUGIN_SUCCEEDED"
    outputs = executing.control().outputs(run_id)
    assert outputs["tasks"] == {"add": {"Output": 7}, "show": {"Output": "value=7"}}
    assert outputs["pipeline"] == {"Output": "value=7"}


def test_a_raising_component_fails_the_run_with_its_exception(
    executing: RunningServer, packages: dict[str, Path]
) -> None:
    run = _final(executing, _run(executing, packages["fail"], runtime_config={"parameters": {"a": 1}}))
    assert run["state"] == "FAILED"
    assert run["error"]["message"] == "task 'explode' failed: ValueError: cannot handle 2"
    tasks = {t["display_name"]: t for t in run["run_details"]["task_details"]}
    assert tasks["add"]["state"] == "SUCCEEDED"
    assert (
        tasks["explode"]["state"] == "FAILED"
        and tasks["explode"]["error"]["message"] == "ValueError: cannot handle 2"
    )
    # a retry executes it again from the start
    assert httpx.post(f"{executing.url}/apis/v2beta1/runs/{run['run_id']}:retry", headers=JSON).status_code == 200
    assert httpx.get(f"{executing.url}/apis/v2beta1/runs/{run['run_id']}").json()["state"] in (
        "PENDING",
        "RUNNING",
    )
    again = _final(executing, run["run_id"])
    assert again["state"] == "FAILED" and again["finished_at"] > run["finished_at"]


def test_terminate_kills_the_execution(executing: RunningServer, packages: dict[str, Path]) -> None:
    run_id = _run(executing, packages["nap"], runtime_config={"parameters": {"seconds": 60.0}})

    def task_states() -> list[str]:
        run = httpx.get(f"{executing.url}/apis/v2beta1/runs/{run_id}").json()
        return [t["state"] for t in run["run_details"].get("task_details", [])]

    wait_for(lambda: task_states() == ["RUNNING"], timeout=30)
    assert httpx.post(f"{executing.url}/apis/v2beta1/runs/{run_id}:terminate", headers=JSON).status_code == 200
    run = _final(executing, run_id)
    assert run["state"] == "CANCELED" and [t["state"] for t in run["run_details"]["task_details"]] == [
        "CANCELED"
    ]
    row = executing.api.store.one("SELECT exec_pid FROM runs WHERE run_id = ?", (run_id,))
    wait_for(
        lambda: not Path(f"/proc/{row['exec_pid']}").exists()
        or "Z" in Path(f"/proc/{row['exec_pid']}/stat").read_text().split()[2]
    )


def test_container_tasks_are_not_run_and_the_run_names_them(
    executing: RunningServer, packages: dict[str, Path], tmp_path: Path
) -> None:
    """kfp.local's SubprocessRunner would run a container's command on this host: the server runs
    the Python tasks, never the container ones, and says which it could not run."""
    marker = tmp_path / "touched"
    run = _final(
        executing, _run(executing, packages["mixed"], runtime_config={"parameters": {"marker": str(marker)}})
    )
    tasks = {t["display_name"]: t for t in run["run_details"]["task_details"]}
    assert tasks["add"]["state"] == "SUCCEEDED"
    assert tasks["touch"]["state"] == "FAILED" and "not run: container component" in tasks["touch"]["error"]["message"]
    assert run["state"] == "FAILED" and "could not run task(s) 'touch'" in run["error"]["message"]
    note = run["plugins_output"]["af2kfp-kfp-server"]
    assert note["entries"]["not_run"]["value"] == ["touch"] and note["state"] == "PLUGIN_FAILED"
    assert "no Docker" in note["state_message"]
    assert not marker.exists()
    # a container-only pipeline: nothing can run, and the run says so
    only = _final(executing, _run(executing, packages["container"]))
    assert only["state"] == "FAILED" and "could not run task(s) 'echo'" in only["error"]["message"]


def test_an_execution_survives_a_server_restart(tmp_path: Path, packages: dict[str, Path]) -> None:
    first = start_server(tmp_path / "kfp.db", control=True, execute=True, run_fates=True, **FAST)
    run_id = _run(first, packages["nap"], runtime_config={"parameters": {"seconds": 1.5}})
    wait_for(
        lambda: httpx.get(f"{first.url}/apis/v2beta1/runs/{run_id}").json()["state"] == "RUNNING", timeout=30
    )
    first.stop()
    second = start_server(tmp_path / "kfp.db", control=True)  # not --execute: the child goes on anyway
    try:
        run = _final(second, run_id)
        assert run["state"] == "SUCCEEDED" and second.control().outputs(run_id)["pipeline"] == {"Output": 1.5}
    finally:
        second.stop()
