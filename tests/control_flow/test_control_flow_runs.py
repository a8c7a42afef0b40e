"""Converted control flow runs as Airflow runs it: the same tasks run, the same ones are skipped.

The DAG files under ``dags/`` (branches and joins, a branch following several tasks,
short circuits, trigger rules, a teardown, dynamic task mapping) are Python-only, so both
sides really run here: Airflow's own ``dag.test()`` in a child process with a fresh
SQLite database, and the converted ``pipeline.py`` under ``kfp.local`` (SubprocessRunner)
in another. Every task appends its name to the file ``$CF_MARKERS``; the lines each side
wrote must be the same, and are also checked against what Airflow's docs promise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from converters.convert import convert_paths

DAGS = Path(__file__).parent / "dags"

EXPECTED = {
    "cf_branch_big": {"big", "big_more", "never", "join", "report"},
    "cf_branch_small": {"small", "join", "report"},
    "cf_regions": {"load_eu", "load_us", "merged"},
    "cf_branch_group": {"heavy.first", "heavy.second"},
    "cf_branch_group_set": {"heavy.first", "heavy.second"},
    "cf_gate_open": {"gate", "load", "audit", "free"},
    "cf_gate_closed": {"free"},
    "cf_all_done": {"boom", "notify"},
    "cf_teardown": {"create_cluster", "train", "delete_cluster"},
    "cf_alert_fired": {"load", "alert"},
    "cf_alert_quiet": {"load", "publish"},
    "cf_mapped": {"add 1+10", "add 2+10", "add 3+10", "total 36", "load p1", "load p2", "fetch eu", "fetch apac",
                  "store 2", "store 4", "fetch us", "fetch latam", "store 5"},
}

_AIRFLOW = """
import json, os, sys
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
from airflow.utils import db

db.resetdb()
DagBundlesManager().sync_bundles_to_db()
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
sync_bag_to_db(bag, "dags-folder", None)
states = {}
for dag_id in json.loads(sys.argv[2]):
    os.environ["CF_MARKERS"] = os.path.join(sys.argv[3], dag_id + ".airflow")
    open(os.environ["CF_MARKERS"], "w").close()
    states[dag_id] = str(bag.dags[dag_id].test().state)
print("STATES " + json.dumps(states))
"""

_KFP = """
import importlib.util, json, os, sys
from kfp import local

local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=os.path.join(sys.argv[2], "root"))
states = {}
for dag_id, folder in json.loads(sys.argv[1]).items():
    os.environ["CF_MARKERS"] = os.path.join(sys.argv[2], dag_id + ".kfp")
    open(os.environ["CF_MARKERS"], "w").close()
    spec = importlib.util.spec_from_file_location("pipeline_" + dag_id, os.path.join(folder, "pipeline.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pipeline = getattr(module, [n for n in dir(module) if getattr(getattr(module, n), "pipeline_spec", None)
                                and n.replace("_", "-") == dag_id.replace("_", "-")][0])
    try:
        pipeline()
        states[dag_id] = "success"
    except RuntimeError:
        states[dag_id] = "failed"
print("STATES " + json.dumps(states))
"""


def _states(output: str) -> dict[str, str]:
    return json.loads(output[output.rindex("STATES ") + len("STATES "):].splitlines()[0])


def _markers(path: Path) -> Counter[str]:
    return Counter(line for line in path.read_text(encoding="utf-8").splitlines() if line)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf")
    report = convert_paths([DAGS], out / "kfp")
    folders = {d["dag_id"]: str(out / "kfp" / d["folder"]) for d in report["dags"]}
    assert set(folders) == set(EXPECTED)
    assert all(d["kfp"]["compiled"] for d in report["dags"]), [f for d in report["dags"] for f in d["findings"]]
    home = out / "airflow"
    home.mkdir()
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}
    airflow = subprocess.run([sys.executable, "-c", _AIRFLOW, str(DAGS), json.dumps(sorted(EXPECTED)), str(out)],
                             env=env, capture_output=True, text=True, timeout=600)
    assert airflow.returncode == 0, airflow.stderr[-3000:]
    kfp = subprocess.run([sys.executable, "-c", _KFP, json.dumps(folders), str(out)], capture_output=True, text=True,
                         timeout=600, cwd=out)
    assert kfp.returncode == 0, kfp.stderr[-3000:]
    return out, _states(airflow.stdout), _states(kfp.stdout), folders


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_kfp_runs_the_tasks_airflow_runs(runs, dag_id):
    out, _, _, _ = runs
    airflow, kfp = _markers(out / f"{dag_id}.airflow"), _markers(out / f"{dag_id}.kfp")
    assert set(airflow) == EXPECTED[dag_id]
    if dag_id == "cf_mapped":  # KFP passes collected numbers as protobuf doubles: 11 arrives as 11.0
        kfp = Counter({line.replace("total 36.0", "total 36"): n for line, n in kfp.items()})
    assert kfp == airflow


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_run_outcome_matches(runs, dag_id):
    _, airflow, kfp, _ = runs
    # A failed task fails the run on both sides, teardown or not.
    if dag_id == "cf_alert_fired":  # Airflow judges the run by its last tasks: the alert succeeded
        assert (airflow[dag_id], kfp[dag_id]) == ("success", "failed")
        return
    assert airflow[dag_id] == kfp[dag_id] == ("failed" if dag_id in ("cf_all_done", "cf_teardown") else "success")


def test_emitted_constructs(runs):
    _, _, _, folders = runs

    def code(dag_id: str) -> str:
        return (Path(folders[dag_id]) / "pipeline.py").read_text(encoding="utf-8")

    branch = code("cf_branch_big")
    assert '    with dsl.If(pick_output == "big"):' in branch and "    with dsl.Else():" in branch
    assert "pick_branches(pick_output=pick_task.output)" in branch and "join_task.after(pick_branches_task)" in branch
    regions = code("cf_regions")
    assert "with dsl.If(follow_load_eu == True):" in regions  # inside the sub-pipeline merged waits for
    assert 'regions_follow_load_eu(follow_load_eu=regions_task.outputs["follow_load_eu"])' in regions
    assert "follow_load_eu: dsl.OutputPath(bool)," in regions
    assert 'with dsl.If(route_task.output == "heavy"):' in code("cf_branch_group")  # a TaskGroup id followed
    gate = code("cf_gate_open")
    assert "with dsl.If(gate_task.output == True):" in gate and "audit_task.ignore_upstream_failure()" in gate
    assert "    return bool(name)" in gate
    assert "with dsl.ExitHandler(exit_task=delete_cluster_task):" in code("cf_teardown")
    alert = code("cf_alert_fired")
    assert "with dsl.ExitHandler(exit_task=alert_task):" in alert
    assert "def alert(run_status: dsl.PipelineTaskFinalStatus, name: str):" in alert
    mapped = code("cf_mapped")
    assert "with dsl.ParallelFor(items=[1, 2, 3]) as x_item:" in mapped
    assert "total(values=dsl.Collected(add_task.output))" in mapped
    assert "with dsl.ParallelFor(items=partitions_task.output) as partition_item:" in mapped
    group = mapped[mapped.index('with dsl.ParallelFor(items=["eu", "apac"]) as region_item:'):]
    assert "per_region_fetch(region=region_item)" in group  # the mapped task group: one loop, both tasks
    assert "per_region_store(n=per_region_fetch_task.output)" in group
    assert "with dsl.ParallelFor(items=regions_task.output) as region_item:" in mapped
