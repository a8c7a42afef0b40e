"""Converted control flow runs as Airflow runs it: the same tasks run, the same ones are skipped.

The DAG files under ``dags/`` (branches and joins, a branch following several tasks,
short circuits, trigger rules, a teardown, dynamic task mapping) are Python-only, so both
sides really run here: Airflow's own ``dag.test()`` in a child process with a fresh
SQLite database, and the converted ``pipeline.py`` under ``kfp.local`` (SubprocessRunner)
in another. Every task appends its name to the file ``$CF_MARKERS``; the lines each side
wrote must be the same, and are also checked against what Airflow's docs promise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.control_flow.both_sides import markers, run_both

# The module fixture runs both sides (each up to 600 s); its setup counts against the first test.
pytestmark = pytest.mark.timeout(900)

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

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    both = run_both(DAGS, tmp_path_factory.mktemp("cf"), timeout=600)
    report = both.report
    assert {d["dag_id"] for d in report["dags"]} == set(EXPECTED)
    assert all(d["kfp"]["compiled"] for d in report["dags"]), [f for d in report["dags"] for f in d["findings"]]
    return both.out, both.airflow, both.kfp, both.folders

@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_kfp_runs_the_tasks_airflow_runs(runs, dag_id):
    out, _, _, _ = runs
    airflow, kfp = markers(out / f"{dag_id}.airflow"), markers(out / f"{dag_id}.kfp")
    assert set(airflow) == EXPECTED[dag_id]
    assert kfp == airflow  # collected ints stay ints ("total 36", not 36.0)


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
