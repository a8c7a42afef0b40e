"""docs/migration.md, run as written: every ``bash`` block of the page (but the set-up ones it
marks) in a shell, in order, against ``af2kfp kfp-server --execute`` and one real
``airflow standalone`` (scheduler, dag-processor, triggerer, api-server), the folder's shared
ones (``tests/e2e/conftest.py``).

The page's DAG, ``orders_rollup``, is taken from the page itself. Beside it the test puts
``refunds_rollup``, the same DAG under another id whose converted ``total`` task is changed
on purpose (it raises) before deploy: its shadow DAG must report the difference while
``orders_rollup``'s reports the runs the same. Then the page cuts ``orders_rollup`` over: the
generated DAG, with the original's id, runs under the scheduler and triggerer, its KFP run
carrying the Airflow run's logical date; and KFP's recurring run takes over.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("airflow.sdk", reason="the migration page drives Airflow 3")

from af2kfp.bridge.cli import main  # noqa: E402
from af2kfp.bridge.kfp import KfpClient  # noqa: E402
from af2kfp.bridge.migration.state import MigrationState  # noqa: E402
from tests.e2e.standalone import tail, wait_for  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(1200)]

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migration.md"
DAG_ID, CHANGED = "orders_rollup", "refunds_rollup"
SHADOW = "__kfp_shadow"
RUN_TIMEOUT = 360


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    run: bool


def page_blocks(text: str) -> list[Block]:
    """The fenced blocks of the page; a block right after ``<!-- not run by the test`` is not run."""
    blocks = []
    for match in re.finditer(r"(<!-- not run by the test[^\n]*-->\n)?```(\w*)\n(.*?)```", text, re.S):
        blocks.append(Block(match[2], match[3], run=match[1] is None))
    return blocks


@dataclass
class Site:
    repo: Path
    home: Path
    log: Path
    env: dict[str, str]
    api: Any
    kfp_url: str

    def sh(self, script: str) -> str:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=self.repo, env=self.env,
            capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, f"{script}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        answer = self.api.get(f"/api/v2/dags/{dag_id}")
        return answer.json() if answer.status_code == 200 else None

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        answer = self.api.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "-run_after"})
        return answer.json().get("dag_runs", []) if answer.status_code == 200 else []

    def finished_run(self, dag_id: str, after: int = 0) -> dict[str, Any]:
        """The newest run of ``dag_id`` once more than ``after`` of its runs exist and it ended."""

        def check() -> dict[str, Any] | None:
            runs = self.runs(dag_id)
            if len(runs) > after and runs[0]["state"] in ("success", "failed"):
                return runs[0]
            return None

        return wait_for(f"a finished run of {dag_id}", check, RUN_TIMEOUT, self.log)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        answer = self.api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {t["task_id"]: t["state"] for t in answer.json()["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        answer = self.api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/1")
        content = answer.json().get("content") if answer.status_code == 200 else answer.text
        items = content if isinstance(content, list) else [content]
        return "\n".join(str(i.get("event", "")) if isinstance(i, dict) else str(i) for i in items)


def _write_dags(repo: Path, home: Path) -> None:
    source = next(b.text for b in page_blocks(PAGE.read_text()) if b.language == "python")
    (repo / "dags").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
    (repo / "dags" / f"{DAG_ID}.py").write_text(source)
    (repo / "dags" / f"{CHANGED}.py").write_text(source.replace(DAG_ID, CHANGED))
    for name in (DAG_ID, CHANGED):  # production: the originals run in Airflow's DAGs folder
        shutil.copy(repo / "dags" / f"{name}.py", home / "dags" / f"{name}.py")


@pytest.fixture(scope="module")
def site(standalone: Any, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The page's repository beside the shared standalone Airflow, its originals deployed and running."""
    repo = tmp_path_factory.mktemp("migration") / "repo"
    _write_dags(repo, standalone.home)
    env = dict(standalone.env, KFP_HOST=standalone.kfp.url, AIRFLOW_DAGS=str(standalone.dags),
               AIRFLOW_URL=standalone.url)
    site = Site(repo, standalone.home, standalone.log, env, standalone.api, standalone.kfp.url)
    for dag_id in (DAG_ID, CHANGED):
        standalone.wait_for_dag(dag_id)
        site.api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
    return site


@pytest.fixture(scope="module")
def shadowed(site: Site) -> dict[str, dict[str, Any]]:
    """Steps 1 to 4 of the page: both DAGs shadowed, one shadow run each, the comparisons
    recorded. Returns each shadow DAG's finished run."""
    blocks = [b for b in page_blocks(PAGE.read_text()) if b.language == "bash" and b.run]
    steps = iter(blocks)
    site.sh(next(steps).text)  # 1. convert
    package = site.repo / "build" / "kfp" / CHANGED / "pipeline.yaml"
    text = package.read_text()
    assert text.count("return sum(amounts)") == 1, "the converted total task changed shape"
    package.write_text(text.replace("return sum(amounts)", "raise ValueError('changed on purpose')"))
    site.sh(next(steps).text)  # 2. deploy
    assert main(["migrate", "stage", CHANGED, "shadow", "--state", str(site.repo / "af2kfp-migration.yaml")]) == 0
    site.sh(next(steps).text)  # 3. stage shadow, cutover
    for dag_id in (DAG_ID + SHADOW, CHANGED + SHADOW):
        wait_for(f"DAG {dag_id} served", lambda d=dag_id: site.dag(d), 240, site.log)
    site.sh(next(steps).text)  # airflow dags unpause orders_rollup__kfp_shadow
    site.api.patch(f"/api/v2/dags/{CHANGED + SHADOW}", json={"is_paused": False}).raise_for_status()
    runs = {d: site.finished_run(d + SHADOW) for d in (DAG_ID, CHANGED)}
    status = site.sh(next(steps).text)  # 4. record the comparisons, migrate status
    return {"runs": runs, "status": status, "rest": steps}  # type: ignore[dict-item]


def test_shadow_dags_compare_with_the_airflow_runs(site: Site, shadowed: dict[str, Any]) -> None:
    runs = shadowed["runs"]
    same, changed = runs[DAG_ID], runs[CHANGED]
    log = site.task_log(CHANGED + SHADOW, changed["dag_run_id"], "compare_runs")
    assert same["state"] == "success", site.task_log(DAG_ID + SHADOW, same["dag_run_id"], "compare_runs")
    assert site.task_states(DAG_ID + SHADOW, same["dag_run_id"]) == {
        "wait_for_airflow_run": "success", "run_kfp_pipeline": "success", "compare_runs": "success",
    }
    # the changed task: the KFP run ended FAILED, which the shadow records as a result; the compare fails
    assert changed["state"] == "failed", log
    assert site.task_states(CHANGED + SHADOW, changed["dag_run_id"]) == {
        "wait_for_airflow_run": "success", "run_kfp_pipeline": "success", "compare_runs": "failed",
    }
    assert "Verdict: differs" in log and "changed on purpose" in log, log
    state = MigrationState.load(site.repo / "af2kfp-migration.yaml")
    recorded = {d: state.entry(d).shadow for d in (DAG_ID, CHANGED)}
    assert recorded[DAG_ID]["verdict"] == "same" and recorded[DAG_ID]["differences"] == []
    assert recorded[CHANGED]["verdict"] == "differs"
    assert any(d.startswith("total: Airflow success, KFP failed") for d in recorded[CHANGED]["differences"])
    assert recorded[CHANGED]["shadow_run_id"] == changed["dag_run_id"]
    # the shadow ran the pipeline for the original run's logical date, with the DAG's params
    with KfpClient(host=site.kfp_url) as kfp:
        run = kfp.get_run(recorded[DAG_ID]["kfp_run_id"])
    parameters = (run.raw.get("runtime_config") or {}).get("parameters")
    logical = site.runs(DAG_ID)[0]["logical_date"]
    assert parameters["region"] == "eu"
    assert parameters["logical_date"].replace("+00:00", "Z") == logical.replace("+00:00", "Z")
    lines = {line.split()[0]: line for line in shadowed["status"].splitlines()[1:] if line.strip()}
    assert "same at" in lines[DAG_ID] and "differs (" in lines[CHANGED], shadowed["status"]


def test_cut_over_dag_runs_under_the_scheduler_and_kfp_takes_over(site: Site, shadowed: dict[str, Any]) -> None:
    steps = shadowed["rest"]
    site.sh(next(steps).text)  # 5. .airflowignore, stage kfp, deploy, cutover
    folder = site.home / "dags" / "af2kfp"
    assert (folder / f"{DAG_ID}__kfp.py").is_file() and not (folder / f"{DAG_ID}{SHADOW}.py").exists()
    wait_for(
        "orders_rollup served from the cut-over file",
        lambda: (site.dag(DAG_ID) or {}).get("fileloc", "").endswith("__kfp.py") or None,
        240, site.log,
    )
    before = len(site.runs(DAG_ID))
    site.sh(next(steps).text)  # airflow dags trigger orders_rollup
    run = site.finished_run(DAG_ID, after=before)
    states = site.task_states(DAG_ID, run["dag_run_id"])
    log = site.task_log(DAG_ID, run["dag_run_id"], "run_kfp_pipeline")
    assert run["state"] == "success" and states == {"run_kfp_pipeline": "success"}, f"{states}\n{log}\n{tail(site.log)}"
    assert "Pausing task as DEFERRED" in log and "ended SUCCEEDED" in log, log  # waited in the triggerer
    status = site.sh(next(steps).text)  # 6. stage kfp-scheduled, deploy, cutover, status
    assert not (folder / f"{DAG_ID}__kfp.py").exists()
    assert re.search(rf"^{DAG_ID} +kfp-scheduled ", status, re.M), status
    state = MigrationState.load(site.repo / "af2kfp-migration.yaml")
    record = state.entry(DAG_ID).deployed
    with KfpClient(host=site.kfp_url) as kfp:
        assert kfp.get_recurring_run(record.recurring_run_id).enabled
    assert next(steps, None) is None, "the page has more bash blocks than this test knows"
