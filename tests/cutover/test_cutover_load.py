"""The files ``af2kfp cutover`` writes for every sample DAG load in Airflow 3 with no import
error and keep what their originals declare: loaded by Airflow's own DagBag, in a child
process, beside the originals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import black
import pytest

from tests.cutover.conftest import REPO, Deployed, quiet

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

KEPT = ("timetable", "start_date", "end_date", "timezone", "catchup", "max_active_runs", "tags", "owner",
        "retries", "retry_delay", "on_failure_callback", "on_success_callback", "params")
SHADOW_KEPT = ("timetable", "start_date", "end_date", "timezone", "max_active_runs", "owner", "params")


def load(home: Path, *folders: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__UNIT_TEST_MODE="True", AIRFLOW__CORE__LOAD_EXAMPLES="False",
               PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "tests.cutover.load_dags", *map(str, folders)],
                          env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def loaded(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("load")
    kfp, shadow = work / "kfp", work / "shadow"
    assert quiet("cutover", deployed.out, "-o", kfp, "--state", deployed.kfp_state, "--root", deployed.root) == 0
    assert quiet("cutover", deployed.out, "-o", shadow, "--state", deployed.shadow_state, "--root", deployed.root) == 0
    found = load(work / "home", deployed.root / "dags", kfp, shadow)
    return {"originals": found[str(deployed.root / "dags")], "kfp": found[str(kfp)], "shadow": found[str(shadow)],
            "folders": (kfp, shadow)}


def test_cut_over_dags_load_and_keep_what_the_originals_declare(loaded: dict[str, Any]) -> None:
    originals, generated = loaded["originals"]["dags"], loaded["kfp"]
    assert len(generated["dags"]) >= 25
    for dag_id, facts in generated["dags"].items():
        assert facts["tasks"] == {"run_kfp_pipeline": "KfpRunPipelineOperator"}
        assert facts["fileloc"].endswith(f"{dag_id}__kfp.py")
        if dag_id in originals:  # same id; schedule, dates, owner, retries, callbacks as they were
            assert {k: facts[k] for k in KEPT} == {k: originals[dag_id][k] for k in KEPT}, dag_id
    # an import error only where the original cannot load in this Airflow either (an Airflow 1.10 DAG)
    broken = {Path(p).name.removesuffix("__kfp.py") for p in generated["import_errors"]}
    assert broken == {"legacy_weekly_reporting"}, generated["import_errors"]
    assert "legacy_reporting_110.py" in {Path(p).name for p in loaded["originals"]["import_errors"]}
    # a callback the original file defines is that very function, read from the original file
    callback = generated["dags"]["ledger_checks_fallback"]["on_failure_callback"]
    assert callback["name"] == "page_on_call" and callback["file"].endswith("dags/ledger_checks_fallback.py")
    # the DAG's params reach the pipeline with their own types; a task's settings stay the DAG's
    assert generated["dags"]["templated_report_params"]["params"]["limit"] == 1000
    assert generated["dags"]["ledger_checks_fallback"]["task_retries"] == {"run_kfp_pipeline": 1}


def test_shadow_dags_load_beside_their_originals(loaded: dict[str, Any]) -> None:
    originals, shadows = loaded["originals"]["dags"], loaded["shadow"]
    assert {Path(p).name for p in shadows["import_errors"]} == {"legacy_weekly_reporting__kfp_shadow.py"}
    for dag_id, facts in shadows["dags"].items():
        assert dag_id.endswith("__kfp_shadow")
        assert facts["tasks"] == {
            "wait_for_airflow_run": "ExternalTaskSensor", "run_kfp_pipeline": "KfpRunPipelineOperator",
            "compare_runs": "KfpShadowCompareOperator",
        }
        assert facts["catchup"] is False and "af2kfp-shadow" in facts["tags"]
        assert facts["on_failure_callback"] is None  # a difference is not a page to the owner
        original = originals.get(dag_id.removesuffix("__kfp_shadow"))
        if original:
            assert {k: facts[k] for k in SHADOW_KEPT} == {k: original[k] for k in SHADOW_KEPT}, dag_id
            assert set(original["tags"]) <= set(facts["tags"])


def test_generated_files_are_black_stable(loaded: dict[str, Any]) -> None:
    for folder in loaded["folders"]:
        for path in sorted(folder.glob("*.py")):
            text = path.read_text()
            assert black.format_str(text, mode=black.Mode()) == text, path.name
