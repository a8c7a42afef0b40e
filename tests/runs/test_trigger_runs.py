"""TriggerDagRunOperator runs the target DAG's converted pipeline on a KFP API server.

Both DAGs of ``dags_trigger`` are converted; the target's pipeline is uploaded with the real
``kfp.Client`` to the project's local KFP server (``af2kfp.bridge.kfp_server``, real HTTP on loopback,
``--execute``: the run really runs with kfp.local); the parent pipeline runs under kfp.local,
its trigger component finding the server through ``KF_PIPELINES_ENDPOINT`` as it finds the
cluster's API with ``kfp.Client()`` in KFP. What the triggered run computed is read back from
the server: the conf (exact, with a rendered template and an upstream output in it) and the
logical date reached it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from af2kfp.bridge.kfp_server import RunningServer, start_server
from af2kfp.bridge.kfp_server.time_placeholders import time_placeholders
from af2kfp.converters.convert import convert_paths

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

HERE = Path(__file__).resolve().parent / "dags_trigger"
DAY = "2024-03-05T00:00:00+00:00"
FAST = {"run_seconds": 0.5, "pending_seconds": 0.1, "cancel_seconds": 0.1}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("trigger") / "kfp"
    return out, convert_paths([HERE], out)


@pytest.fixture
def server(tmp_path: Path, converted: tuple[Path, dict[str, Any]],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """A KFP API server holding the converted orders_child pipeline under its converted name."""
    import kfp

    out, _ = converted
    running = start_server(tmp_path / "kfp.db", control=True, execute=True, **FAST)
    try:
        client = kfp.Client(host=running.url)
        client.upload_pipeline(str(out / "orders_child" / "pipeline.yaml"), pipeline_name="orders-child")
        monkeypatch.setenv("KF_PIPELINES_ENDPOINT", running.url)
        yield running
    finally:
        running.stop()


def _run_parent(out: Path, tmp_path: Path) -> str:
    """Run the parent pipeline with kfp.local; the error text of the task that failed, or ``""``."""
    import importlib.util

    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    spec = importlib.util.spec_from_file_location("orders_parent_pipeline", out / "orders_parent" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with time_placeholders():
        try:
            module.orders_parent(logical_date=DAY)
        except RuntimeError as error:
            return re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # kfp.local colours names
    return ""


def _child_runs(server: RunningServer) -> list[dict[str, Any]]:
    import kfp

    runs = kfp.Client(host=server.url).list_runs(page_size=50).runs or []
    return [run.to_dict() for run in runs]


def test_the_report_flags_a_target_that_is_not_converted(converted):
    _, report = converted
    parent = next(d for d in report["dags"] if d["dag_id"] == "orders_parent")
    fates = {t["task_id"]: t["fate"] for t in parent["airflow"]["tasks"]}
    assert fates == {"pick_regions": "converted", "refresh_summary": "converted", "archive": "review"}
    codes = [(f["code"], f["task_id"]) for f in report["findings"] if f["code"].startswith("M3")]
    assert codes == [("M300", "archive")]
    assert all(d["kfp"]["compiled"] for d in report["dags"])


def test_trigger_runs_the_target_pipeline_with_its_conf_and_waits(server, converted, tmp_path):
    out, _ = converted
    failed = _run_parent(out, tmp_path)
    # refresh_summary waited for a successful run; archive (never deployed: M300) fails as it says.
    assert "Inner task failed: 'archive'" in failed, failed
    (child,) = _child_runs(server)
    assert child["display_name"] == "orders_child (triggered by orders_parent.refresh_summary)"
    assert child["state"] == "SUCCEEDED", child.get("error")
    assert child["runtime_config"]["parameters"]["logical_date"] == "2024-03-05 00:00:00+00:00"
    with server.control() as control:
        outputs = control.outputs(child["run_id"])
    (summary,) = [task["Output"] for task in outputs["tasks"].values() if "Output" in task]
    # conf: literals exact (5, not 5.0), {{ ds }} rendered, the upstream list whole; ds from the logical date.
    assert summary == "eu:5:2024-03-05:eu,us:2024-03-05"


def test_a_failed_triggered_run_fails_the_waiting_task(server, converted, tmp_path):
    out, _ = converted
    with server.control() as control:
        control.script_name("orders_child (triggered by orders_parent.refresh_summary)", "fail:summarize:boom")
    failed = _run_parent(out, tmp_path)
    assert "Inner task failed: 'refresh-summary'" in failed, failed
    (child,) = _child_runs(server)
    assert child["state"] == "FAILED"


def test_a_target_not_deployed_fails_the_task(converted, tmp_path, monkeypatch):
    out, _ = converted
    with start_server(tmp_path / "kfp.db", **FAST) as empty:
        monkeypatch.setenv("KF_PIPELINES_ENDPOINT", empty.url)
        failed = _run_parent(out, tmp_path)
    assert "Inner task failed: 'refresh-summary'" in failed, failed


def test_the_pipeline_name_is_the_emitted_one():
    from af2kfp.converters.emit.names import kebab
    from af2kfp.converters.mappings.trigger import pipeline_name

    for dag_id in ("orders_child", "Orders.Child-2", "a__b", "___", "x" * 200):
        assert pipeline_name(dag_id) == kebab(dag_id)
