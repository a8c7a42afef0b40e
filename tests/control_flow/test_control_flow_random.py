"""Random DAGs of branches, short circuits and trigger rules: KFP runs what Airflow runs.

Sixteen fixed seeds (``random_dags.py``) give DAG files that Airflow's own ``dag.test()``
and ``kfp.local`` both run (the harness of ``test_control_flow_runs``). Every pipeline
must compile, and every task that ran on one side only must carry a finding that states
the difference (M251 trigger rule, M254 never runs, M255 condition approximated), or
sit downstream of such a task.
"""

from __future__ import annotations

import networkx as nx
import pytest

from tests.control_flow.both_sides import markers, run_both
from tests.control_flow.random_dags import dag_source

# The module fixture runs both sides (each up to 900 s); its setup counts against the first test.
pytestmark = pytest.mark.timeout(1200)

SEEDS = range(16)
DECLARED = {"M251", "M254", "M255"}


@pytest.fixture(scope="module")
def random_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("random")
    dags = out / "dags"
    dags.mkdir()
    for seed in SEEDS:
        (dags / f"cf_random_{seed}.py").write_text(dag_source(seed), encoding="utf-8")
    both = run_both(dags, out)
    return out, both.report, both.airflow, both.kfp

@pytest.mark.parametrize("seed", SEEDS)
def test_random_dag_runs_the_same_tasks_or_says_why(random_runs, seed):
    out, report, airflow_states, kfp_states = random_runs
    dag_id = f"cf_random_{seed}"
    dag = next(d for d in report["dags"] if d["dag_id"] == dag_id)
    assert dag["kfp"]["compiled"], [f for f in report["findings"] if f["dag_id"] == dag_id]
    assert airflow_states[dag_id] == kfp_states[dag_id] == "success"
    airflow, kfp = markers(out / f"{dag_id}.airflow"), markers(out / f"{dag_id}.kfp")
    flagged = {f["task_id"] for f in report["findings"] if f["dag_id"] == dag_id and f["code"] in DECLARED}
    graph = nx.DiGraph([tuple(e) for e in dag["airflow"]["edges"]])
    explained = flagged | {d for t in flagged if t in graph for d in nx.descendants(graph, t)}
    unexplained = sorted((set(airflow) ^ set(kfp)) - explained)
    assert not unexplained, (unexplained, sorted(airflow), sorted(kfp))
