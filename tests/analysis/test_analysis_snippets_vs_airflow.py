"""The tricky naming and wiring rules, checked against real Airflow rather than our reading of it:
each snippet is loaded by ``DagBag`` (one child process for all) and analyzed statically."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from af2kfp.bridge.airflow_truth import load_with_airflow
from af2kfp.converters.analysis import analyze_paths

SNIPPETS = {
    "groups": """
        from airflow.sdk import DAG, TaskGroup
        from airflow.providers.standard.operators.empty import EmptyOperator
        with DAG("snip_groups"):
            start = EmptyOperator(task_id="start")
            with TaskGroup("g") as g:
                x = EmptyOperator(task_id="x")
                with TaskGroup("inner", prefix_group_id=False):
                    y = EmptyOperator(task_id="y")
                    with TaskGroup("deep"):
                        z = EmptyOperator(task_id="z")
                x >> y
            start >> g >> EmptyOperator(task_id="end")
    """,
    "taskflow_ids": """
        from airflow.sdk import dag, task, task_group
        @dag()
        def snip_taskflow_ids():
            @task
            def step(i):
                return i
            @task_group
            def section():
                return step(1)
            step(0); step(1); step.override(task_id="custom")(2); step.override(task_id="custom")(3)
            section() >> section() >> section.override(group_id="named")()
        snip_taskflow_ids()
    """,
    "deps": """
        from airflow.sdk import DAG, Label, chain, chain_linear, cross_downstream
        from airflow.providers.standard.operators.empty import EmptyOperator as E
        with DAG("snip_deps"):
            a, b, c, d, e, f, g, h = [E(task_id=x) for x in "abcdefgh"]
            a >> [b, c]
            chain(d, [e, f], [g, h])
            chain_linear([a, b], [e, f])
            cross_downstream([c], [d, f])
            g << Label("why") << h
    """,
    "setup_teardown": """
        from airflow.sdk import DAG, TaskGroup, setup, teardown, task
        from airflow.providers.standard.operators.empty import EmptyOperator
        with DAG("snip_setup_teardown"):
            s = EmptyOperator(task_id="s").as_setup()
            t = EmptyOperator(task_id="t").as_teardown(setups=s)
            with t:
                w1 = EmptyOperator(task_id="w1")
                w2 = EmptyOperator(task_id="w2")
                w1 >> w2
            with TaskGroup("grp") as grp:
                gs = EmptyOperator(task_id="gs").as_setup()
                gw = EmptyOperator(task_id="gw")
                gt = EmptyOperator(task_id="gt").as_teardown(setups=gs)
                gs >> gw >> gt
            w2 >> grp >> EmptyOperator(task_id="after")
    """,
    "factories": """
        from datetime import timedelta
        from airflow.sdk import DAG, TaskGroup, task
        from airflow.providers.standard.operators.bash import BashOperator

        TABLES = {"orders": "o", "users": "u"}

        def make(name):
            with DAG(dag_id=f"snip_load_{name}", default_args={"retries": 2}) as dag:
                done = BashOperator(task_id="done", bash_command="true")
                for table, short in TABLES.items():
                    with TaskGroup(f"t_{short}", default_args={"retries": 5}):
                        BashOperator(task_id="load", bash_command=f"load {table}") >> done
                @task
                def items():
                    return [1, 2]
                @task
                def double(x, factor):
                    return x * factor
                double.partial(factor=2).expand(x=items()) >> done
                BashOperator.partial(task_id="echo").expand(bash_command=["a", "b"])
            return dag

        for name in ["a", "b"]:
            globals()[f"dag_{name}"] = make(name)
    """,
    "xcom_in_fstring": """
        from airflow.sdk import DAG, task
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG("snip_xcom_in_fstring"):
            @task
            def date_filter():
                return "--since 2024-01-01"
            since = date_filter()
            publish = BashOperator(task_id="publish", bash_command=f"publish.py {since} --all")
            since >> publish
    """,
}


_SMALL_DAG = """
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator
    with DAG("{dag_id}"):
        EmptyOperator(task_id="only")
"""
# .airflowignore (glob syntax, Airflow 3's default): which of these files DagBag reads.
IGNORED_LAYOUT = {
    ".airflowignore": "scratch/\n*_draft.py\n/sub/anchored.py  # only at the top\n!keep_draft.py\n",
    "scratch/in_scratch.py": _SMALL_DAG.format(dag_id="snip_ignored_scratch"),
    "wip_draft.py": _SMALL_DAG.format(dag_id="snip_ignored_draft"),
    "keep_draft.py": _SMALL_DAG.format(dag_id="snip_kept_by_negation"),
    "sub/anchored.py": _SMALL_DAG.format(dag_id="snip_ignored_anchored"),
    "sub/deeper/anchored.py": _SMALL_DAG.format(dag_id="snip_kept_not_anchored"),
}


@pytest.fixture(scope="module")
def snippet_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("snippets")
    files = {**{f"{name}.py": code for name, code in SNIPPETS.items()}, **IGNORED_LAYOUT}
    for name, code in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
    return folder


def test_snippets_match_dagbag(snippet_folder):
    truth = load_with_airflow([snippet_folder])
    assert truth["import_errors"] == {}
    built = {dag_id: dag for dags in truth["files"].values() for dag_id, dag in dags.items()}
    analysis = analyze_paths([snippet_folder])
    ours = {g.graph["dag"].dag_id: g for g in analysis.graphs}
    assert sorted(ours) == sorted(built)
    assert {"snip_kept_by_negation", "snip_kept_not_anchored"} <= set(ours)
    assert not any("ignored" in dag_id for dag_id in ours)
    for dag_id, graph in ours.items():
        assert sorted(graph.nodes) == sorted(built[dag_id]["tasks"]), dag_id
        assert sorted(graph.edges) == sorted(tuple(e) for e in built[dag_id]["edges"]), dag_id
        assert graph.graph["findings"] == [], dag_id
        for task_id, data in graph.nodes(data=True):
            if "bash_command" in data["task"].args:  # f"... {xcom_arg}" is str(xcom_arg): the xcom_pull template
                assert data["task"].args["bash_command"] == built[dag_id]["tasks"][task_id]["args"]["bash_command"]
            if "retries" in data["task"].args:
                assert data["task"].args["retries"] == built[dag_id]["tasks"][task_id]["args"]["retries"]
