"""End to end with real Airflow processes, not dag.test(): ``airflow standalone`` (scheduler,
dag-processor, triggerer, api-server, LocalExecutor on SQLite) runs a DAG whose
``KfpRunPipelineOperator(deferrable=True)`` waits in the triggerer on a run that
``af2kfp kfp-server``, started as a process on a free loopback port, ends seconds later.
Both are the folder's shared ones (``tests/e2e/conftest.py``).
"""

from __future__ import annotations

import datetime
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("airflow.sdk", reason="the end-to-end test drives Airflow 3's api-server")

from tests.e2e.standalone import tail as _tail  # noqa: E402
from tests.provider.kfp_pipeline import compile_to  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(360)]

DAG_ID = "e2e_kfp_deferrable"
RUN_NAME = "e2e-deferred-run"
RUN_SECONDS = 15  # long enough for the task to be seen deferred and polled several times
STARTUP_TIMEOUT = 150
RUN_TIMEOUT = 120

DAG_FILE = """
import datetime

from airflow.sdk import DAG

from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator

with DAG({dag_id!r}, schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
    KfpRunPipelineOperator(
        task_id="run",
        pipeline_package={package!r},
        parameters={{"ds": "{{{{ ds }}}}", "run_id": "{{{{ run_id }}}}"}},
        experiment_name="e2e",
        run_name={run_name!r},
        deferrable=True,
        poll_interval=1.0,
        timeout=90,
    )
"""


def _task_logs(api: Any, run_id: str, tries: int) -> str:
    """The task's log as the UI shows it: the worker's lines and the triggerer's."""
    parts = []
    for n in range(1, tries + 1):
        answer = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/run/logs/{n}")
        content = answer.json().get("content") if answer.status_code == 200 else answer.text
        lines = [
            " ".join(str(item.get(k, "")) for k in ("timestamp", "level", "event", "logger"))
            if isinstance(item, dict)
            else str(item)
            for item in (content if isinstance(content, list) else [content])
        ]
        parts.append(f"--- task log, try {n} ---\n" + "\n".join(lines))
    return "\n".join(parts)


def test_deferred_task_waits_in_real_triggerer_and_dag_run_succeeds(standalone: Any, tmp_path: Path) -> None:
    package = compile_to(tmp_path / "pipeline.yaml")
    (standalone.dags / f"{DAG_ID}.py").write_text(
        textwrap.dedent(DAG_FILE).format(dag_id=DAG_ID, package=str(package), run_name=RUN_NAME)
    )
    control = standalone.kfp.control()
    control.script_name(RUN_NAME, f"succeed:{RUN_SECONDS}")  # simulated, though the server can execute
    api, log = standalone.api, standalone.log
    standalone.wait_for_dag(DAG_ID, STARTUP_TIMEOUT)
    control.reset_stats()  # the server is shared: count this test's requests only
    api.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    answer = api.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        json={"logical_date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
    )
    answer.raise_for_status()
    run_id = answer.json()["dag_run_id"]

    seen: list[str] = []
    ti: dict[str, Any] = {}
    deadline = time.monotonic() + RUN_TIMEOUT
    state = None
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:  # a busy 2-core CI box can make one read time out: read again
            ti = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/run").json()
            state = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
        except httpx.HTTPError:
            continue
        if ti.get("state") and (not seen or seen[-1] != ti["state"]):
            seen.append(ti["state"])
        if state in ("success", "failed"):
            break
    tries = int(ti.get("try_number") or 1)
    if state != "success":
        pytest.fail(
            f"DAG run ended {state!r} (task states seen: {seen})\n"
            f"{_task_logs(api, run_id, tries)}\n--- standalone ---\n{_tail(log)}"
        )
    task_log = _task_logs(api, run_id, tries)
    stats = control.stats()

    # it really deferred: the task instance was seen deferred, the triggerer polled the run
    # (1 s interval over a ~15 s run) and the worker only submitted and resumed once.
    assert "deferred" in seen, f"task states seen: {seen}"
    assert seen[-1] == "success"
    assert stats.get("POST /apis/v2beta1/runs") == 1, stats
    polls = stats.get("GET /apis/v2beta1/runs/{run_id}", 0)
    assert polls >= RUN_SECONDS // 2, stats
    # and the triggerer's own lines, merged into the task log, sit between the two worker runs
    marks = ["Pausing task as DEFERRED", "starting", "Trigger fired event", "ended SUCCEEDED"]
    positions = [task_log.find(mark) for mark in marks]
    assert -1 not in positions and positions == sorted(positions), task_log
    assert "ended SUCCEEDED" in task_log, task_log
