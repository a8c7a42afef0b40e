"""SubDagOperator: the sub-DAG's tasks replace the operator in the parent's graph, as a task group.

Snippets pin ids, groups, edges, default_args, nesting and the A117/A118 findings; the
sample ``samples/dags/subdag_sections.py`` is converted and compiled with the real kfp
compiler, and compared with Airflow 2.10's own DagBag (child process in ``.venv-af2``,
skipped when that environment is missing; ``.ci/airflow2.sh`` creates it).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from af2kfp.bridge.airflow_truth import load_with_airflow
from af2kfp.bridge.verify import verify_paths
from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import find_pyproject, load_config
from af2kfp.converters.convert import convert_paths
from af2kfp.converters.graph import task
from af2kfp.converters.values import TaskRef
from tests.analysis.conftest import codes_of, edges, only_graph

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "dags" / "subdag_sections.py"
AF2_PYTHON = REPO / ".venv-af2" / "bin" / "python"
needs_airflow2 = pytest.mark.skipif(not AF2_PYTHON.is_file(), reason=".venv-af2 missing (.ci/airflow2.sh creates it)")

SECTIONS = """
    import pendulum
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.operators.empty import EmptyOperator
    from airflow.operators.subdag import SubDagOperator

    START = pendulum.datetime(2024, 1, 1, tz="UTC")


    def section(parent, child, args):
        sub = DAG(dag_id=f"{parent}.{child}", default_args=args, schedule="@daily", start_date=START)
        first = BashOperator(task_id="first", bash_command="echo first", dag=sub)
        for name in ("left", "right"):
            first >> BashOperator(task_id=name, bash_command=f"echo {name}", dag=sub)
        return sub


    with DAG("parent", default_args={"retries": 1, "owner": "ops"}, schedule="@daily", start_date=START) as dag:
        begin = EmptyOperator(task_id="begin")
        one = SubDagOperator(task_id="one", subdag=section("parent", "one", {"retries": 4}))
        middle = EmptyOperator(task_id="middle")
        two = SubDagOperator(task_id="two", subdag=section("parent", "two", dag.default_args), pool="slow")
        end = EmptyOperator(task_id="end")
        begin >> one >> middle >> two >> end
"""

NESTED = """
    import pendulum
    from airflow import DAG
    from airflow.operators.empty import EmptyOperator
    from airflow.operators.subdag import SubDagOperator
    from airflow.utils.task_group import TaskGroup

    START = pendulum.datetime(2024, 1, 1, tz="UTC")


    def leaf(dag_id):
        with DAG(dag_id, schedule=None, start_date=START) as sub:
            EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
        return sub


    def middle(dag_id):
        with DAG(dag_id, schedule=None, start_date=START) as sub:
            head = EmptyOperator(task_id="head")
            inner = SubDagOperator(task_id="inner", subdag=leaf(f"{dag_id}.inner"))
            with TaskGroup("grp"):
                tail = EmptyOperator(task_id="tail")
            head >> inner >> tail
        return sub


    with DAG("nested", schedule=None, start_date=START) as dag:
        built = middle("nested.outer")  # Airflow checks <parent>.<task_id as given>; built outside the group
        with TaskGroup("tg"):
            outer = SubDagOperator(task_id="outer", subdag=built)
        done = EmptyOperator(task_id="done")
        outer >> done
"""


def test_ids_groups_and_edges(analyze):
    graph = only_graph(analyze(SECTIONS))
    assert list(graph.nodes) == [
        "begin",
        "one.first",
        "one.left",
        "one.right",
        "middle",
        "two.first",
        "two.left",
        "two.right",
        "end",
    ]
    assert edges(graph) == {
        ("begin", "one.first"),
        ("one.first", "one.left"),
        ("one.first", "one.right"),
        ("one.left", "middle"),
        ("one.right", "middle"),
        ("middle", "two.first"),
        ("two.first", "two.left"),
        ("two.first", "two.right"),
        ("two.left", "end"),
        ("two.right", "end"),
    }
    assert task(graph, "one.left").group == ["one"]
    assert task(graph, "begin").group == []
    assert task(graph, "two.first").args["bash_command"] == "echo first"


def test_subdag_tasks_take_the_subdags_default_args(analyze):
    graph = only_graph(analyze(SECTIONS))
    assert task(graph, "one.first").args["retries"] == 4
    assert "owner" not in task(graph, "one.first").args  # the parent's default_args do not reach the sub-DAG
    assert task(graph, "two.first").args["retries"] == 1  # this section was given the parent's default_args
    assert task(graph, "two.first").args["owner"] == "ops"
    assert task(graph, "begin").args == {"retries": 1, "owner": "ops"}


def test_one_info_finding_per_flattened_group(analyze):
    graph = only_graph(analyze(SECTIONS))
    flattened = [f for f in graph.graph["findings"] if f.code == "A117"]
    assert [(f.task_id, f.line, f.severity.value) for f in flattened] == [("one", 21, "info"), ("two", 23, "info")]
    assert "flattened into task group 'one': 3 task(s)" in flattened[0].message
    assert "own arguments (pool)" in flattened[1].message
    assert "TaskGroup" in flattened[0].suggestion
    assert not any("refuses" in f.message for f in flattened)


def test_a_subdag_id_airflow_2_refuses_is_named(analyze):
    graph = only_graph(analyze(textwrap.dedent(SECTIONS).replace('section("parent", "one"', 'section("other", "one"')))
    [note] = [f.message for f in graph.graph["findings"] if f.code == "A117" and f.task_id == "one"]
    assert "Airflow 2 refuses this SubDagOperator: its sub-DAG's dag_id must be 'parent.one'" in note


def test_the_subdag_is_no_pipeline_of_its_own(analyze):
    analysis = analyze(textwrap.dedent(SECTIONS) + textwrap.dedent("""
    with DAG("other.three", schedule=None, start_date=START) as registered_sub:
        EmptyOperator(task_id="x")
    with DAG("other", schedule=None, start_date=START) as other:
        SubDagOperator(task_id="three", subdag=registered_sub)
    """))
    assert sorted(g.graph["dag"].dag_id for g in analysis.graphs) == ["other", "parent"]
    other = next(g for g in analysis.graphs if g.graph["dag"].dag_id == "other")
    assert list(other.nodes) == ["three.x"]
    assert "A112" not in codes_of(analysis)  # the factories' DAGs are not "never loaded" either


def test_nested_subdags_flatten_recursively_inside_a_task_group(analyze):
    graph = only_graph(analyze(NESTED))
    assert list(graph.nodes) == [
        "tg.outer.head",
        "tg.outer.inner.a",
        "tg.outer.inner.b",
        "tg.outer.grp.tail",
        "done",
    ]
    assert edges(graph) == {
        ("tg.outer.head", "tg.outer.inner.a"),
        ("tg.outer.inner.a", "tg.outer.inner.b"),
        ("tg.outer.inner.b", "tg.outer.grp.tail"),
        ("tg.outer.grp.tail", "done"),
    }
    assert task(graph, "tg.outer.inner.a").group == ["tg", "tg.outer", "tg.outer.inner"]
    assert task(graph, "tg.outer.grp.tail").group == ["tg", "tg.outer", "tg.outer.grp"]
    assert task(graph, "tg.outer.head").group == ["tg", "tg.outer"]
    assert sorted(f.task_id for f in graph.graph["findings"] if f.code == "A117") == ["tg.outer", "tg.outer.inner"]


def test_factory_in_a_helper_module_and_the_110_import_path(analyze):
    graph = only_graph(
        analyze(
            """
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.dummy_operator import DummyOperator
        from airflow.operators.subdag_operator import SubDagOperator
        from helpers.sections import load_section

        dag = DAG("legacy", schedule_interval="@daily", start_date=datetime(2020, 1, 1))
        start = DummyOperator(task_id="start", dag=dag)
        load = SubDagOperator(task_id="load", subdag=load_section("legacy", "load"), dag=dag)
        start >> load
        """,
            files={
                "helpers/__init__.py": "",
                "helpers/sections.py": """
                from datetime import datetime
                from airflow import DAG
                from airflow.operators.python_operator import PythonOperator

                def fetch():
                    return 3

                def store(rows):
                    print(rows)

                def load_section(parent, child):
                    dag = DAG(f"{parent}.{child}", schedule_interval="@daily", start_date=datetime(2020, 1, 1))
                    got = PythonOperator(task_id="fetch", python_callable=fetch, dag=dag)
                    PythonOperator(task_id="store", python_callable=store, op_args=[got.output], dag=dag)
                    return dag
            """,
            },
        )
    )
    assert list(graph.nodes) == ["start", "load.fetch", "load.store"]
    assert edges(graph) == {("start", "load.fetch"), ("load.fetch", "load.store")}
    assert graph.edges["load.fetch", "load.store"]["kind"] == "data"
    assert task(graph, "load.store").args["op_args"] == [TaskRef(task_id="load.fetch")]  # XCom follows the rename


def test_unresolvable_factory_keeps_the_operator_with_a_warning(analyze):
    analysis = analyze("""
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        from airflow.operators.subdag import SubDagOperator
        from company_platform.subdags import build_section

        with DAG("opaque", schedule=None) as dag:
            start = EmptyOperator(task_id="start")
            section = SubDagOperator(
                task_id="section",
                subdag=build_section("opaque", "section"),
            )
            start >> section
    """)
    graph = only_graph(analysis)
    assert list(graph.nodes) == ["start", "section"]
    assert edges(graph) == {("start", "section")}
    assert task(graph, "section").operator == "airflow.operators.subdag.SubDagOperator"
    [warning] = [f for f in graph.graph["findings"] if f.code == "A118"]
    assert (warning.severity.value, warning.file.endswith("dag.py"), warning.line, warning.task_id) == (
        "warning",
        True,
        9,
        "section",
    )
    assert "dag.py:9" in warning.message
    assert '`subdag=build_section("opaque", "section")` is not a DAG the analyzer can build' in warning.message
    assert "A117" not in codes_of(graph)


def test_missing_and_non_dag_subdag_arguments_are_reported(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.subdag import SubDagOperator

        with DAG("odd", schedule=None) as dag:
            SubDagOperator(task_id="none_given")
            SubDagOperator(task_id="a_string", subdag="odd.a_string")
    """))
    assert list(graph.nodes) == ["none_given", "a_string"]
    messages = {f.task_id: f.message for f in graph.graph["findings"] if f.code == "A118"}
    assert "no `subdag` argument" in messages["none_given"]
    assert '`subdag="odd.a_string"` is not a DAG' in messages["a_string"]


def test_a_subdag_without_tasks_or_with_a_colliding_id_stays_one_task(analyze):
    analysis = analyze("""
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        from airflow.operators.subdag import SubDagOperator

        empty = DAG("p.empty", schedule=None)
        with DAG("p.clash", schedule=None) as clash:
            EmptyOperator(task_id="x")
        with DAG("p", schedule=None) as dag:
            SubDagOperator(task_id="empty", subdag=empty)
            EmptyOperator(task_id="clash.x")
            SubDagOperator(task_id="clash", subdag=clash)
    """)
    # Not consumed, so each sub-DAG is a DAG of its own, as Airflow's DagBag finds them at module level.
    assert sorted(g.graph["dag"].dag_id for g in analysis.graphs) == ["p", "p.clash", "p.empty"]
    graph = next(g for g in analysis.graphs if g.graph["dag"].dag_id == "p")
    assert list(graph.nodes) == ["empty", "clash.x", "clash"]
    messages = {f.task_id: f.message for f in graph.graph["findings"] if f.code == "A118"}
    assert "has no tasks" in messages["empty"]
    assert "'clash.x' is already used" in messages["clash"]


# ------------------------------------------------------------------ the sample, converted and compiled
@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("subdag-out")
    config = load_config(find_pyproject(SAMPLE.parent))
    return out, convert_paths([SAMPLE], out, config=config)


def test_sample_converts_and_compiles_with_groups(converted):
    out, report = converted
    assert [d["dag_id"] for d in report["dags"]] == ["subdag_sections"]
    [dag] = report["dags"]
    assert dag["kfp"]["compiled"] is True
    spec = next(yaml.safe_load_all((out / dag["kfp"]["yaml"]).read_text()))
    tasks = spec["root"]["dag"]["tasks"]
    names = {t["task_id"]: t["kfp_task"] for t in dag["airflow"]["tasks"]}
    assert len(names) == 9 and "regional_rollups" not in names and "publish" not in names
    added = {t["name"] for t in dag["kfp"]["tasks"] if t.get("added_by")}  # the run context: the tasks read ds
    assert added == {"run-context"}
    assert set(tasks) == {n for n in names.values() if n} | added  # the EmptyOperator start is folded away
    merge, check = names["regional_rollups.merge_regions"], names["check_totals"]
    assert merge in tasks[check]["dependentTasks"]
    assert {names[f"regional_rollups.rollup_{r}"] for r in ("emea", "amer", "apac")} <= set(
        tasks[merge]["dependentTasks"]
    )
    assert sum(f["code"] == "A117" for f in report["findings"]) == 2


# ------------------------------------------------------------------ Airflow 2.10's DagBag
@needs_airflow2
def test_sample_matches_airflow2_dagbag():
    truth = load_with_airflow([SAMPLE], python=str(AF2_PYTHON))
    assert truth["import_errors"] == {}
    built = truth["files"][str(SAMPLE.resolve())]
    assert list(built) == ["subdag_sections"]  # DagBag's subdag_sections.regional_rollups etc. are flattened
    graph = only_graph(analyze_paths([SAMPLE]))
    assert set(graph.nodes) == set(built["subdag_sections"]["tasks"])
    assert edges(graph) == {tuple(e) for e in built["subdag_sections"]["edges"]}
    retries = {t: v["args"]["retries"] for t, v in built["subdag_sections"]["tasks"].items()}
    assert retries == {t: task(graph, t).args["retries"] for t in graph.nodes}
    assert retries["regional_rollups.rollup_emea"] == 3 and retries["publish.notify_finance"] == 1


@needs_airflow2
def test_verify_reports_no_difference_for_flattened_subdags(tmp_path):
    (tmp_path / "sections.py").write_text(textwrap.dedent(SECTIONS), encoding="utf-8")
    (tmp_path / "nested.py").write_text(textwrap.dedent(NESTED), encoding="utf-8")
    result = verify_paths([tmp_path], python=str(AF2_PYTHON))
    assert result.import_errors == {}
    assert [d.text() for d in result.differences] == []
    assert (result.dags_compared, result.dags_identical, result.tasks_compared) == (2, 2, 14)
    assert result.arguments_compared >= 9


@needs_airflow2
def test_airflow2_bundled_subdag_example_matches(tmp_path):
    """Airflow's own example (its helper import pointed at a copy beside it)."""
    site = next((REPO / ".venv-af2" / "lib").glob("python3*/site-packages/airflow/example_dags"))
    text = (site / "example_subdag_operator.py").read_text(encoding="utf-8")
    (tmp_path / "example_subdag_operator.py").write_text(
        text.replace("from airflow.example_dags.subdags.subdag import", "from subdags.subdag import"),
        encoding="utf-8",
    )
    (tmp_path / "subdags").mkdir()
    shutil.copyfile(site / "subdags" / "subdag.py", tmp_path / "subdags" / "subdag.py")
    result = verify_paths([tmp_path], python=str(AF2_PYTHON))
    assert [d.text() for d in result.differences] == []
    assert (result.dags_compared, result.tasks_compared) == (1, 13)


def test_an_unresolved_subdag_operator_converts_as_an_unsupported_placeholder(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "opaque.py").write_text(
        textwrap.dedent("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from airflow.operators.subdag import SubDagOperator
        from company_platform.subdags import build_section

        with DAG("opaque", schedule=None) as dag:
            start = BashOperator(task_id="start", bash_command="echo start")
            start >> SubDagOperator(task_id="section", subdag=build_section("opaque", "section"))
    """),
        encoding="utf-8",
    )
    report = convert_paths([tmp_path / "dags"], tmp_path / "out", config=load_config(None))
    [dag] = report["dags"]
    assert dag["kfp"]["compiled"] is True
    assert [(t["task_id"], t["fate"]) for t in dag["airflow"]["tasks"]] == [
        ("start", "converted"),
        ("section", "unsupported"),
    ]
    assert {f["code"] for f in report["findings"] if f["task_id"] == "section"} >= {"A118"}


def test_subdag_params_join_the_parents(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from airflow.operators.subdag import SubDagOperator

        SHARED = {"region": "emea"}


        def section(dag_id):
            sub = DAG(dag_id, schedule=None, params={**SHARED, "limit": 10, "mode": "fast"})
            BashOperator(task_id="run", bash_command="run {{ params.region }} {{ params.limit }}", dag=sub)
            return sub


        with DAG("parent", schedule=None, params={"mode": "safe"}) as dag:
            SubDagOperator(task_id="section", subdag=section("parent.section"))
    """))
    assert graph.graph["dag"].params == {"region": "emea", "limit": 10, "mode": "safe"}
    [note] = [f.message for f in graph.graph["findings"] if f.code == "A117"]
    assert note.endswith("; the sub-DAG's params mode differ from the parent's, whose values are kept")
