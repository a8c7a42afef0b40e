"""A long ``a >> b >> ...`` expression is evaluated in a loop: every edge found, no recursion limit
(A113), the edges in chain order; a mixed chain (lists, ``<<``) gives what a short one gives."""

from __future__ import annotations

import sys
from pathlib import Path

from af2kfp.converters.analysis import analyze_paths

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from scaled_dags import chain_file  # noqa: E402


def test_chain_of_1500_terms(tmp_path):
    dag = tmp_path / "chain.py"
    dag.write_text(chain_file(1500), encoding="utf-8")
    found = analyze_paths([dag])
    assert [f.code for f in found.findings] == []
    (graph,) = found.graphs
    assert graph.number_of_nodes() == 1500
    assert sorted(graph.edges) == sorted((f"t{i}", f"t{i + 1}") for i in range(1499))


def test_mixed_chain_as_short_one(tmp_path):
    head = ("from datetime import datetime\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n"
            "from airflow.sdk import DAG\n\nwith DAG(dag_id='mixed', schedule=None, start_date=datetime(2024, 1, 1)):\n"
            + "".join(f"    t{i} = EmptyOperator(task_id='t{i}')\n" for i in range(8)))
    dag = tmp_path / "mixed.py"
    dag.write_text(head + "    t0 >> [t1, t2] >> t3 << t4\n    t5 << t6 << t7 >> t0\n", encoding="utf-8")
    (graph,) = analyze_paths([dag]).graphs
    assert sorted(graph.edges) == [("t0", "t1"), ("t0", "t2"), ("t1", "t3"), ("t2", "t3"), ("t4", "t3"),
                                   ("t6", "t5"), ("t7", "t0"), ("t7", "t6")]
