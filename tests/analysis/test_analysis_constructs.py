"""One behaviour per test: a dedented DAG snippet -> the task ids, edges and args Airflow would build."""

from __future__ import annotations

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.graph import task
from af2kfp.converters.values import Call, DateTime, Deferred, Duration, Symbolic, TaskRef
from tests.analysis.conftest import codes_of, edges, only_graph

BASH = "airflow.providers.standard.operators.bash.BashOperator"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
DOCKER = "airflow.providers.docker.operators.docker.DockerOperator"
POD = "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"


# ------------------------------------------------------------------ finding DAGs
def test_with_dag_and_bitshift(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        with DAG("etl", schedule="@daily") as dag:
            a = BashOperator(task_id="a", bash_command="echo a")
            b = BashOperator(task_id="b", bash_command="echo b")
            c = BashOperator(task_id="c", bash_command="echo c")
            a >> b << c
    """))
    info = graph.graph["dag"]
    assert (info.dag_id, info.schedule, info.line) == ("etl", "@daily", 4)
    assert edges(graph) == {("a", "b"), ("c", "b")}
    assert task(graph, "a").operator == BASH
    assert task(graph, "a").imported_as == "airflow.operators.bash.BashOperator"
    assert (task(graph, "b").line, task(graph, "b").args) == (6, {"bash_command": "echo b"})


def test_dag_variable_and_dag_kwarg(analyze):
    graph = only_graph(analyze("""
        from airflow.models import DAG
        from airflow.operators.dummy_operator import DummyOperator
        dag = DAG(dag_id="plain")
        start = DummyOperator(task_id="start", dag=dag)
        end = DummyOperator(task_id="end", dag=dag)
        start.set_downstream(end)
        end.set_upstream([start])
    """))
    assert set(graph.nodes) == {"start", "end"}
    assert edges(graph) == {("start", "end")}
    assert task(graph, "start").operator == EMPTY


def test_dag_decorator_several_dags_and_params(analyze):
    analysis = analyze("""
        import pendulum
        from airflow.decorators import dag, task

        @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 2, tz="UTC"))
        def first(x=1):
            @task
            def hello():
                return 1
            hello()

        @dag(dag_id="renamed")
        def second():
            pass

        first()
        second()
    """)
    ids = [g.graph["dag"].dag_id for g in analysis.graphs]
    assert ids == ["first", "renamed"]
    assert analysis.graphs[0].graph["dag"].params == {"x": 1}
    assert analysis.graphs[0].graph["dag"].start_date == DateTime(iso="2024-01-02T00:00:00+00:00")
    assert set(analysis.graphs[0].nodes) == {"hello"}


def test_dag_factory_called_in_loop(analyze):
    analysis = analyze("""
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator

        def make(name, steps):
            with DAG(dag_id=f"load_{name}") as dag:
                prev = None
                for step in steps:
                    op = EmptyOperator(task_id=step)
                    if prev is not None:
                        prev >> op
                    prev = op
            return dag

        for name in ["a", "b"]:
            globals()[f"dag_{name}"] = make(name, ["x", "y", "z"])
    """)
    assert [g.graph["dag"].dag_id for g in analysis.graphs] == ["load_a", "load_b"]
    assert edges(analysis.graphs[1]) == {("x", "y"), ("y", "z")}


def test_dag_created_but_never_registered_is_an_info_finding(analyze):
    analysis = analyze("""
        from airflow import DAG
        def build():
            return DAG("lost")
        build()
    """)
    assert analysis.graphs == []
    assert codes_of(analysis) == ["A112"]


def test_unresolved_dag_id(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from mycompany.naming import dag_name
        with DAG(dag_name()):
            pass
    """))
    assert codes_of(graph) == ["A106"]
    assert "dag_name()" in graph.graph["dag"].dag_id


def test_dag_id_from_an_unsupplied_variable_says_what_to_supply(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.models import Variable
        with DAG(Variable.get("name")):
            pass
    """))
    assert codes_of(graph) == ["A121"]
    assert "Airflow Variable `name` (--variables FILE)" in graph.graph["findings"][0].message
    assert "Variable.get" in graph.graph["dag"].dag_id


# ------------------------------------------------------------------ dependencies
def test_lists_chain_chain_linear_cross_downstream(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import DAG, chain, chain_linear, cross_downstream
        from airflow.providers.standard.operators.empty import EmptyOperator as E
        with DAG("deps"):
            a, b, c, d, e, f = [E(task_id=x) for x in "abcdef"]
            a >> [b, c]
            chain(d, [e, f], [a, b])
            chain_linear([a, b], [e, f])
            cross_downstream([c], [d, f])
    """))
    assert edges(graph) == {
        ("a", "b"),
        ("a", "c"),
        ("d", "e"),
        ("d", "f"),
        ("e", "a"),
        ("f", "b"),
        ("a", "e"),
        ("a", "f"),
        ("b", "e"),
        ("b", "f"),
        ("c", "d"),
        ("c", "f"),
    }
    assert "A105" in codes_of(graph)  # chain + chain_linear above make a cycle a -> e -> a


def test_taskflow_data_edges_output_and_xcomarg(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import DAG, task, XComArg
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG("flow"):
            @task
            def extract():
                return {"a": 1}
            @task
            def load(rows, n):
                print(rows)
            rows = extract()
            load(rows, n=rows["a"])
            make = BashOperator(task_id="make", bash_command="echo 1")
            use = BashOperator(task_id="use", bash_command=make.output)
            also = BashOperator(task_id="also", env={"X": XComArg(make)})
    """))
    assert graph.edges["extract", "load"]["kind"] == "data"
    assert graph.edges["make", "use"]["kind"] == "data"
    assert graph.edges["make", "also"]["kind"] == "data"
    load = task(graph, "load")
    assert load.call_args == [TaskRef(task_id="extract")]
    assert load.call_kwargs == {"n": TaskRef(task_id="extract", key="a")}
    assert task(graph, "use").args["bash_command"] == TaskRef(task_id="make")
    assert load.python is not None and load.python.source.startswith("def load(rows, n):")
    assert load.operator == "airflow.sdk.task"


def test_label_between_tasks(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import DAG, Label
        from airflow.providers.standard.operators.empty import EmptyOperator
        with DAG("labels"):
            a = EmptyOperator(task_id="a"); b = EmptyOperator(task_id="b")
            a >> Label("why") >> b
    """))
    assert edges(graph) == {("a", "b")}


def test_dependency_on_unknown_name_is_a_finding(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        from somewhere_else import make_task
        with DAG("unknown"):
            a = EmptyOperator(task_id="a")
            a >> make_task()
    """))
    assert codes_of(graph) == ["A107"]
    assert list(graph.nodes) == ["a"]


# ------------------------------------------------------------------ ids: groups, TaskFlow
def test_task_group_prefixes_and_group_edges(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import DAG, TaskGroup
        from airflow.providers.standard.operators.empty import EmptyOperator
        with DAG("groups"):
            start = EmptyOperator(task_id="start")
            with TaskGroup("g") as g:
                x = EmptyOperator(task_id="x")
                with TaskGroup("inner", prefix_group_id=False):
                    y = EmptyOperator(task_id="y")
                    with TaskGroup("deep"):
                        z = EmptyOperator(task_id="z")
                x >> y
            start >> g
    """))
    # As Airflow: "inner" does not prefix its children, so "deep" is not prefixed either.
    assert set(graph.nodes) == {"start", "g.x", "y", "deep.z"}
    assert edges(graph) == {("g.x", "y"), ("start", "g.x"), ("start", "deep.z")}
    assert task(graph, "deep.z").group == ["g", "g.inner", "deep"]


def test_task_group_decorator_taskflow_suffixes_and_override(analyze):
    graph = only_graph(analyze("""
        from airflow.decorators import dag, task, task_group
        @dag()
        def ids():
            @task
            def step(i):
                return i
            @task_group
            def section():
                return step(1)
            step(0); step(1); step.override(task_id="custom")(2)
            section() >> section()
        ids()
    """))
    assert set(graph.nodes) == {"step", "step__1", "custom", "section.step", "section__1.step"}
    assert edges(graph) == {("section.step", "section__1.step")}


def test_duplicate_task_ids_keep_first(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        with DAG("dup"):
            EmptyOperator(task_id="same")
            EmptyOperator(task_id="same", retries=3)
    """))
    assert list(graph.nodes) == ["same"]
    assert task(graph, "same").line == 5
    [finding] = graph.graph["findings"]
    assert finding.code == "A104" and "dag.py:5" in finding.message and "dag.py:6" in finding.message


# ------------------------------------------------------------------ default_args
def test_default_args_dag_group_and_explicit(analyze):
    graph = only_graph(analyze("""
        from datetime import timedelta
        from airflow import DAG
        from airflow.utils.task_group import TaskGroup
        from airflow.operators.bash import BashOperator
        args = {"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=5)}
        args.update({"queue": "q1"})
        with DAG("defaults", default_args=args):
            a = BashOperator(task_id="a", bash_command="x", retries=0)
            with TaskGroup("g", default_args={"queue": "q2", "pool": "p"}):
                b = BashOperator(task_id="b", bash_command="y", default_args={"pool": "mine"})
    """))
    a, b = task(graph, "a"), task(graph, "g.b")
    assert a.args == {
        "bash_command": "x",
        "retries": 0,
        "owner": "data",
        "retry_delay": Duration(seconds=300.0),
        "queue": "q1",
    }
    assert a.from_default_args == ["owner", "queue", "retry_delay"]
    assert (b.args["queue"], b.args["pool"], b.args["retries"]) == ("q2", "mine", 2)
    assert graph.graph["dag"].default_args["retries"] == 2


# ------------------------------------------------------------------ imports and names
def test_import_aliases_and_legacy_paths(analyze):
    graph = only_graph(analyze("""
        import airflow.providers.docker.operators.docker as d
        from airflow.contrib.operators.kubernetes_pod_operator import KubernetesPodOperator as KPO
        from airflow.operators.docker_operator import DockerOperator
        from airflow.contrib.operators.gcp_container_operator import GKEPodOperator
        from airflow.operators.python_operator import PythonOperator
        from airflow import DAG
        def f():
            return 1
        with DAG("names"):
            d.DockerOperator(task_id="new", image="busybox")
            DockerOperator(task_id="old", image="busybox")
            KPO(task_id="pod", image="python", cmds=["python"])
            GKEPodOperator(task_id="gke", image="x")
            PythonOperator(task_id="py", python_callable=f)
    """))
    assert task(graph, "new").operator == DOCKER
    assert task(graph, "new").imported_as == "airflow.providers.docker.operators.docker.DockerOperator"
    assert task(graph, "old").operator == DOCKER
    assert task(graph, "old").imported_as == "airflow.operators.docker_operator.DockerOperator"
    assert task(graph, "pod").operator == POD
    assert (
        task(graph, "gke").operator == "airflow.providers.google.cloud.operators.kubernetes_engine.GKEStartPodOperator"
    )
    py = task(graph, "py")
    assert py.operator == "airflow.providers.standard.operators.python.PythonOperator"
    assert py.python is not None and py.python.name == "f" and py.python.line == 8
    assert py.python.imports[0].startswith("import airflow.providers.docker")
    assert py.args["python_callable"] == Symbolic(source="f")


def test_taskflow_decorator_flavours(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import dag, task
        from airflow.decorators import task as t
        @dag
        def flavours():
            @task.docker(image="python:3.11")
            def in_docker():
                pass
            @t.branch
            def pick():
                return "x"
            @task(task_id="renamed", retries=4)
            def plain():
                pass
            in_docker(); pick(); plain()
        flavours()
    """))
    assert task(graph, "in_docker").operator == "airflow.sdk.task.docker"
    assert task(graph, "in_docker").args == {"image": "python:3.11"}
    assert task(graph, "pick").operator == "airflow.sdk.task.branch"
    assert task(graph, "pick").imported_as == "airflow.decorators.task.branch"
    assert task(graph, "renamed").args == {"retries": 4}


def test_user_operator_subclass_and_unknown_operator(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.models import BaseOperator
        from mycompany.operators import GKEPodOperator
        class Local(BaseOperator):
            pass
        with DAG("custom"):
            GKEPodOperator(task_id="company", image="x")
            Local(task_id="local")
    """))
    assert task(graph, "company").operator == "mycompany.operators.GKEPodOperator"
    assert task(graph, "local").operator == "dag.Local"


# ------------------------------------------------------------------ symbolic evaluation
def test_symbolic_values(analyze):
    graph = only_graph(analyze("""
        import os
        from datetime import datetime, timedelta
        from kubernetes.client import models as k8s
        from kubernetes.client import V1ResourceRequirements
        from airflow import DAG
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
        from airflow.providers.cncf.kubernetes.secret import Secret
        REGISTRY = os.environ.get("REGISTRY", "gcr.io/acme")
        TAG = os.getenv("TAG")
        base = {"A": "1"}
        env = {**base, "B": "%s-%d" % ("x", 2), "C": "{}/{}".format("p", "q")}
        env.update(D=f"{REGISTRY}/img")
        cmds = ["python"] + ["-m", "train"]
        cmds.append("--fast")
        with DAG("values", start_date=datetime(2024, 5, 1)):
            KubernetesPodOperator(
                task_id="train",
                image=f"{REGISTRY}/train:{TAG}",
                cmds=cmds,
                env_vars=env,
                secrets=[Secret("env", "PASSWORD", "db", "password")],
                tolerations=[k8s.V1Toleration(key="gpu", operator="Exists")],
                container_resources=V1ResourceRequirements(limits={"cpu": "2"}),
                execution_timeout=timedelta(hours=1, minutes=30),
                retries=int("3"),
            )
    """))
    args = task(graph, "train").args
    assert args["image"] == Deferred(source='f"{REGISTRY}/train:{TAG}"', needs=("env TAG",),
                                     parts=("gcr.io/acme/train:", Deferred(source="TAG", needs=("env TAG",))))
    assert args["cmds"] == ["python", "-m", "train", "--fast"]
    assert args["env_vars"] == {"A": "1", "B": "x-2", "C": "p/q", "D": "gcr.io/acme/img"}
    assert args["secrets"] == [
        Call(func="airflow.providers.cncf.kubernetes.secret.Secret", args=("env", "PASSWORD", "db", "password"))
    ]
    assert args["tolerations"] == [
        Call(func="kubernetes.client.models.V1Toleration", kwargs={"key": "gpu", "operator": "Exists"})
    ]
    assert args["container_resources"] == Call(
        func="kubernetes.client.models.V1ResourceRequirements", kwargs={"limits": {"cpu": "2"}}
    )
    assert args["execution_timeout"] == Duration(seconds=5400.0)
    assert args["retries"] == 3
    assert graph.graph["dag"].start_date == DateTime(iso="2024-05-01T00:00:00")


def test_loops_and_comprehensions_unrolled(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        TABLES = {"orders": "o", "users": "u"}
        with DAG("loops"):
            done = BashOperator(task_id="done", bash_command="true")
            for name, short in TABLES.items():
                if name == "skip":
                    continue
                BashOperator(task_id=f"load_{short}", bash_command=f"load {name}") >> done
            checks = [BashOperator(task_id=f"check_{i}", bash_command="c") for i in range(2)]
            done >> checks
    """))
    assert set(graph.nodes) == {"done", "load_o", "load_u", "check_0", "check_1"}
    assert task(graph, "load_u").args["bash_command"] == "load users"
    assert ("done", "check_1") in edges(graph)


def test_loop_over_unknown_collection_is_a_finding(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from mycompany.catalog import tables
        with DAG("dynamic"):
            for name in tables():
                BashOperator(task_id=name, bash_command="x")
    """))
    assert list(graph.nodes) == []
    assert codes_of(graph) == ["A109"]


def test_loop_over_an_unsupplied_variable_names_it(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from airflow.models import Variable
        with DAG("dynamic"):
            for i in range(int(Variable.get("shards", "4"))):
                BashOperator(task_id=f"shard_{i}", bash_command="x")
    """))
    assert list(graph.nodes) == []
    [finding] = graph.graph["findings"]
    assert (finding.code, finding.severity.value) == ("A121", "error")
    assert "Airflow Variable `shards` (--variables FILE)" in finding.message


def test_unknown_condition_analyzes_both_branches(analyze):
    graph = only_graph(analyze("""
        import os
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        with DAG("cond"):
            if os.environ["ENV"] == "prod":
                EmptyOperator(task_id="prod")
            else:
                EmptyOperator(task_id="dev")
            if os.environ.get("ENV", "dev") == "dev":
                EmptyOperator(task_id="known")
    """))
    assert set(graph.nodes) == {"prod", "dev", "known"}
    assert codes_of(graph) == ["A110"]


def test_mapped_tasks(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import DAG, task
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG("mapped"):
            @task
            def items():
                return [1, 2]
            @task
            def double(x, factor):
                return x * factor
            double.partial(factor=2).expand(x=items())
            BashOperator.partial(task_id="echo", retries=1).expand(bash_command=["a", "b"])
    """))
    double = task(graph, "double")
    assert double.mapped is not None
    assert (double.mapped.partial, double.mapped.expand) == ({"factor": 2}, {"x": TaskRef(task_id="items")})
    assert graph.edges["items", "double"]["kind"] == "data"
    echo = task(graph, "echo")
    assert echo.mapped.expand == {"bash_command": ["a", "b"]} and echo.mapped.partial == {"retries": 1}


def test_setup_teardown(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator
        with DAG("st"):
            s = EmptyOperator(task_id="s").as_setup()
            t = EmptyOperator(task_id="t").as_teardown(setups=s)
            with t:
                EmptyOperator(task_id="work")
    """))
    assert edges(graph) == {("s", "t"), ("s", "work"), ("work", "t")}


# ------------------------------------------------------------------ helper modules
def test_follows_imports_into_repository_helpers(analyze):
    analysis = analyze(
        """
        from airflow import DAG
        from helpers.tasks import build_export_task, TABLES
        from helpers import naming
        from . import local_consts
        with DAG(naming.dag_name("exports")) as dag:
            tasks = [build_export_task(t) for t in TABLES]
            tasks[0] >> tasks[1:]
        """,
        files={
            "helpers/__init__.py": "",
            "helpers/tasks.py": """
                from airflow.providers.docker.operators.docker import DockerOperator
                from .consts import IMAGE
                TABLES = ["a", "b", "c"]
                def build_export_task(table):
                    return DockerOperator(task_id=f"export_{table}", image=IMAGE, command=["export", table])
            """,
            "helpers/consts.py": "IMAGE = 'registry/exporter:1'\n",
            "helpers/naming.py": "def dag_name(x):\n    return 'team_' + x\n",
            "local_consts.py": "X = 1\n",
        },
    )
    graph = only_graph(analysis)
    assert graph.graph["dag"].dag_id == "team_exports"
    assert edges(graph) == {("export_a", "export_b"), ("export_a", "export_c")}
    export_b = task(graph, "export_b")
    assert export_b.args == {"image": "registry/exporter:1", "command": ["export", "b"]}
    assert export_b.file.endswith("helpers/tasks.py") and export_b.line == 6
    assert graph.graph["dag"].file.endswith("/dag.py")
    assert len(analysis.files) == 6


def test_config_operator_table_marks_user_operators(analyze):
    graph = only_graph(
        analyze(
            """
        from airflow import DAG
        from company.ops import Runner
        with DAG("cfg"):
            Runner(name="no task id here")
    """,
            config=Config(operators={"company.ops.Runner": "KubernetesPodOperator"}),
        )
    )
    [only] = graph.nodes
    assert task(graph, only).operator == "company.ops.Runner"
    assert codes_of(graph) == ["A108"]


# ------------------------------------------------------------------ not a DAG
def test_plain_python_file_is_not_a_dag(analyze):
    analysis = analyze("""
        def add(a, b):
            return a + b
        print(add(1, 2))
    """)
    assert analysis.graphs == [] and analysis.findings == []


def test_airflow_helper_without_dag_is_info(analyze):
    analysis = analyze("""
        from airflow.operators.bash import BashOperator
        def make(x, dag):
            return BashOperator(task_id=x, bash_command="x", dag=dag)
    """)
    assert analysis.graphs == []
    assert [(f.code, f.severity.value) for f in analysis.findings] == [("A103", "info")]


def test_files_without_dag_and_airflow_words_are_only_syntax_checked(analyze):
    """As Airflow's safe mode: such a file is never a DAG file; a syntax error is still reported."""
    analysis = analyze("def broken(:\n")
    assert [(f.code, f.line) for f in analysis.findings] == [("A101", 1)]


def test_files_listing_keeps_user_paths(tmp_path, monkeypatch):
    (tmp_path / "dags" / "sub").mkdir(parents=True)
    (tmp_path / "dags" / "sub" / "b.py").write_text("x = 1\n")
    (tmp_path / "dags" / "a.py").write_text("y = 2\n")
    (tmp_path / "one.py").write_text("z = 3\n")
    monkeypatch.chdir(tmp_path)
    from pathlib import Path

    analysis = analyze_paths([Path("dags"), Path("one.py")])
    assert analysis.files == ["dags/a.py", "dags/sub/b.py", "one.py"]


def test_dag_factory_in_helper_module_belongs_to_the_calling_file(analyze):
    analysis = analyze(
        """
        # airflow: Airflow's safe mode (like the analyzer) only reads files that mention "airflow" and "dag"
        from factories.dags import build_dag

        for team in ("red", "blue"):
            globals()[team] = build_dag(team)
        """,
        files={
            "factories/__init__.py": "",
            "factories/dags.py": """
                from airflow import DAG
                from airflow.operators.bash import BashOperator
                def build_dag(team):
                    with DAG(f"sync_{team}") as dag:
                        BashOperator(task_id="sync", bash_command=f"sync {team}")
                    return dag
            """,
        },
    )
    assert [(g.graph["dag"].dag_id, g.graph["dag"].line) for g in analysis.graphs] == [
        ("sync_blue", 6),
        ("sync_red", 6),
    ]
    assert all(g.graph["dag"].file.endswith("/dag.py") for g in analysis.graphs)
    assert task(analysis.graphs[0], "sync").file.endswith("factories/dags.py")


def test_expand_kwargs(analyze):
    graph = only_graph(analyze("""
        from airflow.sdk import DAG, task
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG("expand_kwargs"):
            @task
            def configs():
                return [{"bash_command": "a"}]
            BashOperator.partial(task_id="run").expand_kwargs(configs())
    """))
    run = task(graph, "run")
    assert run.mapped is not None and run.mapped.expand_kwargs == TaskRef(task_id="configs")
    assert graph.edges["configs", "run"]["kind"] == "data"


def test_helper_classes_enums_and_partial(analyze):
    graph = only_graph(analyze("""
        import enum
        from functools import partial
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        class Step(enum.Enum):
            LOAD = "load"
            CHECK = "check"

        class Builder:
            def __init__(self, prefix, retries=1):
                self.prefix = prefix
                self.retries = retries

            @property
            def image(self):
                return f"{self.prefix}/tool:1"

            def task(self, step):
                return BashOperator(task_id=step.value, bash_command=f"run {self.image}", retries=self.retries)

        make = partial(BashOperator, bash_command="echo", retries=5)

        with DAG("helpers"):
            builder = Builder("registry", retries=2)
            load = builder.task(Step.LOAD)
            check = builder.task(Step.CHECK)
            load >> check >> make(task_id="done")
            if isinstance(builder.retries, int):
                BashOperator(task_id="typed", bash_command="true")
    """))
    assert set(graph.nodes) == {"load", "check", "done", "typed"}
    assert task(graph, "load").args == {"bash_command": "run registry/tool:1", "retries": 2}
    assert task(graph, "done").args == {"bash_command": "echo", "retries": 5}
    assert edges(graph) == {("load", "check"), ("check", "done")}
    assert graph.graph["findings"] == []


def test_unscanned_helper_called_with_task_id_is_assumed_a_task(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from outside.helpers import bigquery_query, ClusterSpec
        with DAG("outside"):
            spec = ClusterSpec(task_id="not_a_task")
            bigquery_query(task_id="q", sql="select 1")
            run_everything()
    """))
    assert list(graph.nodes) == ["q"]
    assert task(graph, "q").operator == "outside.helpers.bigquery_query"
    assert codes_of(graph) == ["A114", "A114"]


def test_dag_and_group_aliases_resolved_by_imports_not_text(analyze):
    analysis = analyze("""
        import airflow.models as m
        from airflow.utils.task_group import TaskGroup as Box
        from airflow.operators.empty import EmptyOperator as Nothing
        from not_airflow import DAG

        with m.DAG("aliased"):
            with Box("box"):
                Nothing(task_id="inside")
        with DAG("impostor"):  # a DAG class from elsewhere is not Airflow's: no DAG, no task
            Nothing(task_id="outside")
    """)
    graph = only_graph(analysis)
    assert graph.graph["dag"].dag_id == "aliased"
    assert list(graph.nodes) == ["box.inside"]
    assert [f.code for f in analysis.findings] == ["A112"]  # "outside" has no Airflow DAG


def test_helper_class_hierarchy_with_super(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        class Base:
            def __init__(self, name):
                self.name = name

            def build(self):
                return BashOperator(task_id=self.name, bash_command="base")

        class Child(Base):
            def __init__(self, name):
                super().__init__(f"child_{name}")

            def build(self):
                first = super(Child, self).build()
                return first >> BashOperator(task_id=f"{self.name}_after", bash_command="after")

        with DAG("hierarchy"):
            Child("x").build()
    """))
    assert edges(graph) == {("child_x", "child_x_after")}
    assert graph.graph["findings"] == []


def test_identity_comparisons_of_tasks_and_helper_objects(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator

        class Registry:
            def __init__(self):
                self.seen = []

            def add(self, op):
                if op in self.seen:
                    return op
                self.seen.append(op)
                if self.seen and self.seen[0] is not op:
                    self.seen[0] >> op
                return op

        with DAG("identity"):
            registry = Registry()
            first = registry.add(EmptyOperator(task_id="first"))
            registry.add(first)
            registry.add(EmptyOperator(task_id="second"))
    """))
    assert edges(graph) == {("first", "second")}
    assert graph.graph["findings"] == []


def test_a_lambda_argument_keeps_its_text_when_it_reads_only_its_parameters(analyze):
    """A lambda reading only its parameters and builtins keeps its text (the fallback runner compiles it);
    one that reads a name of the DAG file stays unknown: its text alone would not mean the same."""
    from af2kfp.converters.values import Lambda

    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.providers.http.operators.http import HttpOperator
        OK = 200
        with DAG("hooks") as dag:
            HttpOperator(task_id="alone", http_conn_id="api",
                         response_check=lambda response: len([c for c in response.text if c]) > 0)
            HttpOperator(task_id="closure", http_conn_id="api",
                         response_check=lambda response: response.status_code == OK)
    """))
    alone = task(graph, "alone").args["response_check"]
    assert isinstance(alone, Lambda) and alone.source == "lambda response: len([c for c in response.text if c]) > 0"
    closure = task(graph, "closure").args["response_check"]
    assert type(closure) is Symbolic and closure.source == "<lambda>"


def test_datetime_and_timedelta_imported_from_airflow_utils_dates(analyze):
    """Airflow 2's ``airflow.utils.dates`` re-exports ``datetime``/``timedelta`` from the standard library."""
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from airflow.utils.dates import datetime, timedelta
        with DAG("dates", start_date=datetime(2024, 7, 10), default_args={"retry_delay": timedelta(minutes=1)}):
            BashOperator(task_id="t", bash_command="true")
    """))
    assert task(graph, "t").args["retry_delay"] == Duration(seconds=60)
    assert graph.graph["dag"].start_date == DateTime(iso="2024-07-10T00:00:00")
