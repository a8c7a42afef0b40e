"""No silent drops: every construct that creates tasks or dependencies is either evaluated as Airflow
evaluates it (the graph equals DagBag's) or is an analyzer finding on its line (marked ``# flagged``).

Each snippet is a small DAG as teams write them; one child process loads them all with Airflow's DagBag
(``af2kfp.bridge.airflow_truth``), the analyzer reads them statically, and the two graphs are compared."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from af2kfp.bridge.airflow_truth import load_with_airflow
from af2kfp.converters.analysis import analyze_paths

HEAD = """
from airflow.sdk import DAG, TaskGroup, chain, chain_linear, cross_downstream
from airflow.providers.standard.operators.empty import EmptyOperator as E
import functools, typing
from airflow.models.baseoperator import BaseOperator
"""

# Evaluated as Airflow does: the graph must equal DagBag's, with no finding.
EVALUATED = {
    "dag_tasks_slice": """
        with DAG("s_dag_tasks_slice") as dag:
            a, b, c = E(task_id="a"), E(task_id="b"), E(task_id="c")
            list(dag.tasks)[:2] >> c
            dag.tasks[0] >> E(task_id="d")
    """,
    "for_dag_tasks": """
        with DAG("s_for_dag_tasks") as dag:
            a, b = E(task_id="a"), E(task_id="b")
            end = E(task_id="end")
            for t in dag.tasks:
                if t is not end:
                    t >> end
    """,
    "roots_and_leaves": """
        with DAG("s_roots_and_leaves") as dag:
            a, b, c = E(task_id="a"), E(task_id="b"), E(task_id="c")
            a >> b
            roots, leaves = dag.roots, dag.leaves
            start, end = E(task_id="start"), E(task_id="end")
            start >> roots
            leaves >> end
    """,
    "task_group_edge": """
        with DAG("s_task_group_edge") as dag:
            with TaskGroup("g"):
                a = E(task_id="a")
                a >> E(task_id="a2")
            a.task_group >> E(task_id="b")
    """,
    "group_children": """
        with DAG("s_group_children") as dag:
            with TaskGroup("g") as g:
                E(task_id="a"); E(task_id="b")
            end = E(task_id="end")
            for t in g.children.values():
                t >> end
    """,
    "downstream_list": """
        with DAG("s_downstream_list") as dag:
            a, b, c, d = E(task_id="a"), E(task_id="b"), E(task_id="c"), E(task_id="d")
            a >> [b, c]
            for t in a.downstream_list:
                t >> d
            if "b" in a.downstream_task_ids:
                d >> E(task_id="e")
    """,
    "set_algebra": """
        with DAG("s_set_algebra") as dag:
            every = {E(task_id=x) for x in "abc"}
            skip = {t for t in every if t.task_id == "b"}
            end = E(task_id="end")
            for t in every - skip:
                t >> end
            list(every | skip) + [end] >> E(task_id="after")
    """,
    "getattr_setter": """
        with DAG("s_getattr_setter") as dag:
            a, b = E(task_id="a"), E(task_id="b")
            getattr(a, "set_downstream")(b)
    """,
    "reduce_chain": """
        with DAG("s_reduce_chain") as dag:
            functools.reduce(lambda a, b: a >> b, [E(task_id=x) for x in "abcd"])
    """,
    "map_filter_sorted": """
        with DAG("s_map_filter_sorted") as dag:
            made = list(map(lambda x: E(task_id=x), ["c", "a", "b"]))
            kept = list(filter(lambda t: t.task_id != "c", made))
            end = E(task_id="end")
            kept >> end
            sorted(made, key=lambda t: t.task_id)[0] >> E(task_id="first")
    """,
    "cross_and_linear": """
        with DAG("s_cross_and_linear") as dag:
            a, b, c, d = [E(task_id=x) for x in "abcd"]
            cross_downstream([a, b], [c, d])
            chain_linear(a, [b, c], d)
    """,
}

# Not evaluated: each must be a finding on the line marked "# flagged".
FLAGGED = {
    "helper_builder": """
        from lib.builders import base
        with DAG("s_helper_builder") as dag:
            start = E(task_id="start")
            run = base.with_args("--x").operator(task_id="run")  # flagged
            start >> run
    """,
    "unknown_factory": """
        from missing_pkg.factories import Factory  # not installed, not scanned
        with DAG("s_unknown_factory") as dag:
            start = E(task_id="start")
            Factory(dag).add_all(start)  # flagged
    """,
    "library_task_builder": """
        from teamlib.pods import pod_task  # a team library installed in Airflow's image, not scanned
        with DAG("s_library_task_builder") as dag:
            load = pod_task(dag=dag, name="load", image="ghcr.io/acme/load:1")  # flagged
            load >> E(task_id="report")
    """,
    "loop_may_return": """
        import os, pathlib
        NODES = [{"id": "load"} for name in os.listdir(pathlib.Path(__file__).parent) if name == "nodes.json"]

        def find(nodes, node_id):
            for node in nodes:
                if node["id"] == node_id:
                    return node
            raise KeyError(node_id)

        with DAG("s_loop_may_return") as dag:
            cfg = find(NODES, "load")
            if cfg:  # flagged
                E(task_id=cfg["id"])
    """,
    "self_edge": """
        with DAG("s_self_edge") as dag:
            a = E(task_id="a")
            for t in dag.roots:
                t >> a  # flagged
    """,
}

BUILDERS = '''
import copy
from dataclasses import dataclass, field, fields
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator


@dataclass
class PodConfig:
    image: str = "busybox:1.36"
    arguments: list = field(default_factory=list)

    def with_args(self, *args):
        c = copy.copy(self)
        c.arguments = [*self.arguments, *args]
        return c

    def operator(self, **kwargs):
        params = {f.name: getattr(self, f.name) for f in fields(self)}
        return KubernetesPodOperator(name="x", **{**params, **kwargs})


base = PodConfig()
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("drops")
    for name, code in {**EVALUATED, **FLAGGED}.items():
        (root / f"{name}.py").write_text(HEAD + textwrap.dedent(code), encoding="utf-8")
    (root / "nodes.json").write_text('[{"id": "load"}]', encoding="utf-8")
    (root / "lib").mkdir()
    (root / "lib" / "__init__.py").write_text("")
    (root / "lib" / "builders.py").write_text(BUILDERS, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def both(folder):
    truth = load_with_airflow([folder])
    built = {dag_id: dag for dags in truth["files"].values() for dag_id, dag in dags.items()}
    ours = {g.graph["dag"].dag_id: g for g in analyze_paths([folder]).graphs}
    return truth, built, ours


@pytest.mark.airflow
@pytest.mark.parametrize("name", sorted(EVALUATED))
def test_evaluated_as_airflow_does(name, both):
    _, built, ours = both
    dag_id = f"s_{name}"
    graph = ours[dag_id]
    assert sorted(graph.nodes) == sorted(built[dag_id]["tasks"])
    assert sorted(graph.edges) == sorted(tuple(e) for e in built[dag_id]["edges"])
    assert graph.graph["findings"] == []


@pytest.mark.airflow
@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_what_is_not_evaluated_is_a_finding_on_its_line(name, both, folder):
    truth, built, ours = both
    dag_id = f"s_{name}"
    source = (folder / f"{name}.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if text.rstrip().endswith("# flagged"))
    graph = ours[dag_id]
    lines = {(f.code, f.line) for f in graph.graph["findings"] if f.code.startswith("A1")}
    assert any(found_line == line for _, found_line in lines), lines
    if dag_id not in built:
        assert any(name in path for path in truth["import_errors"])


@pytest.mark.airflow
def test_a_task_call_not_followed_keeps_its_task(both):
    """``config.operator(task_id="run")`` the analyzer cannot follow still stands for task ``run`` (an unknown
    operator, a placeholder when converted), so the DAG keeps its tasks and dependencies."""
    _, built, ours = both
    graph = ours["s_helper_builder"]
    assert sorted(graph.nodes) == sorted(built["s_helper_builder"]["tasks"]) == ["run", "start"]
    assert sorted(graph.edges) == [("start", "run")] == sorted(tuple(e) for e in built["s_helper_builder"]["edges"])
    assert graph.nodes["run"]["task"].operator == "<not followed>.operator"
    (finding,) = [f for f in graph.graph["findings"] if f.code == "A114"]
    assert finding.task_id == "run" and "assumed to create task 'run'" in finding.message


@pytest.mark.airflow
def test_a_library_call_given_the_dag_keeps_its_task(both):
    """``pod_task(dag=dag, name="load")`` from a library outside the scanned files is given the DAG as an
    operator is: it stands for one task, named after ``name`` (an unknown operator, a placeholder when
    converted), so the DAG keeps it and its edge instead of losing both silently."""
    _, _, ours = both
    graph = ours["s_library_task_builder"]
    assert sorted(graph.nodes) == ["load", "report"]
    assert sorted(graph.edges) == [("load", "report")]
    assert graph.nodes["load"]["task"].operator == "<not followed>.pod_task"
    (finding,) = [f for f in graph.graph["findings"] if f.code == "A114"]
    assert finding.task_id == "load" and "`pod_task(dag=..., ...)` is given the DAG" in finding.message


@pytest.mark.airflow
def test_a_function_whose_loop_may_return_returns_an_unknown_value(both):
    """A lookup helper returning from inside a loop over a collection the analyzer cannot know (a folder listing)
    returns an unknown value, not ``None``: the ``if`` on it keeps its task (A110), where it was lost silently."""
    _, built, ours = both
    graph = ours["s_loop_may_return"]
    assert sorted(built["s_loop_may_return"]["tasks"]) == ["load"]
    assert len(graph.nodes) == 1
    assert {f.code for f in graph.graph["findings"]} >= {"A110", "A108"}
