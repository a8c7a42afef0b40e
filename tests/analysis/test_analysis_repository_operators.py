"""The repository's own operators: a class deriving from a mapped operator takes its parent's rule,
with the arguments its ``__init__`` passes to ``super().__init__()``, without any configuration."""

from __future__ import annotations

from af2kfp.converters.config import Config
from af2kfp.converters.graph import task
from af2kfp.converters.mappings import map_graph
from tests.analysis.conftest import edges, only_graph

POD = "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"

OPERATORS = """
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    from team.settings import NAMESPACE


    class TeamPodOperator(KubernetesPodOperator):
        team_labels = {"team": "data"}

        def __init__(self, *, image_pull_policy="Always", startup_timeout_seconds=300, **kwargs):
            kwargs.setdefault("labels", dict(self.team_labels))
            super().__init__(image_pull_policy=image_pull_policy, namespace=NAMESPACE,
                             startup_timeout_seconds=startup_timeout_seconds, **kwargs)


    class SparkOperator(TeamPodOperator):
        image = "registry.example.com/spark:3.5"

        def __init__(self, job, **kwargs):
            super().__init__(image=self.image, cmds=["spark-submit"], **kwargs)
            self.job = job  # its own parameter: not an operator argument
            self.arguments = ["--class", job]  # set after super().__init__: the operator argument
"""
FILES = {
    "team/__init__.py": "",
    "team/settings.py": 'NAMESPACE = "data-prod"\n',
    "team/operators.py": OPERATORS,
    "team/builders.py": """
        from team.operators import SparkOperator

        def spark_job(name, **kwargs):
            return SparkOperator(task_id=f"spark_{name}", job=f"com.acme.{name.title()}", **kwargs)
    """,
}
DAG = """
    from airflow import DAG
    from team.builders import spark_job
    from team.operators import SparkOperator, TeamPodOperator

    with DAG("jobs", default_args={"retries": 2, "image_pull_policy": "IfNotPresent"}) as dag:
        report = TeamPodOperator(task_id="report", image="report:1", cmds=["report"], labels={"x": "y"})
        enrich = spark_job("enrich")
        shards = SparkOperator.partial(task_id="shard", job="com.acme.Shard").expand(
            arguments=[["--part", "1"], ["--part", "2"]])
        report >> enrich >> shards
"""


def test_the_arguments_init_passes_on_are_the_parents(analyze):
    graph = only_graph(analyze(DAG, files=FILES))
    assert set(graph.nodes) == {"report", "spark_enrich", "shard"}
    assert edges(graph) == {("report", "spark_enrich"), ("spark_enrich", "shard")}
    enrich = task(graph, "spark_enrich")
    assert enrich.operator == "team.operators.SparkOperator"
    assert enrich.inherits.bases == ["team.operators.TeamPodOperator", POD]
    assert enrich.inherits.arguments == {
        # default_args fill the class's own parameter (image_pull_policy), as Airflow's BaseOperatorMeta does
        "image_pull_policy": "IfNotPresent", "namespace": "data-prod", "startup_timeout_seconds": 300,
        "image": "registry.example.com/spark:3.5", "cmds": ["spark-submit"], "labels": {"team": "data"},
        "arguments": ["--class", "com.acme.Enrich"], "retries": 2,
    }
    assert enrich.args == {"job": "com.acme.Enrich", "retries": 2, "image_pull_policy": "IfNotPresent"}
    report = task(graph, "report").inherits.arguments
    assert report["labels"] == {"x": "y"} and report["namespace"] == "data-prod"  # setdefault keeps the caller's


def test_mapped_repository_operator_expands_what_reaches_the_parent(analyze):
    graph = only_graph(analyze(DAG, files=FILES))
    shard = task(graph, "shard")
    assert shard.mapped.expand == {"arguments": [["--part", "1"], ["--part", "2"]]}
    assert shard.inherits.arguments["image"] == "registry.example.com/spark:3.5"


def test_each_task_takes_the_parents_rule_with_an_info_finding(analyze):
    graph = only_graph(analyze(DAG, files=FILES))
    mapped = map_graph(graph, Config())
    by_id = {kfp.task_id: kfp for kfp in mapped.tasks}
    enrich = by_id["spark_enrich"]
    assert (enrich.rule, enrich.image, enrich.command, enrich.args) == (
        "KubernetesPodOperator", "registry.example.com/spark:3.5", ["spark-submit"], ["--class", "com.acme.Enrich"])
    assert enrich.labels == {"team": "data"} and enrich.image_pull_policy == "IfNotPresent"
    inherited = [f for f in enrich.findings if f.code == "M280"]
    assert [f.severity.value for f in inherited] == ["info"]
    assert "SparkOperator derives from " + POD in inherited[0].message
    assert mapped.fates == {"report": "converted", "spark_enrich": "converted", "shard": "converted"}


def test_configuration_still_overrides_the_inherited_rule(analyze):
    graph = only_graph(analyze(DAG, files=FILES))
    config = Config(operators={"team.operators.TeamPodOperator": "fallback"})
    by_id = {kfp.task_id: kfp for kfp in map_graph(graph, config).tasks}
    assert by_id["report"].rule == "fallback" and by_id["spark_enrich"].rule == "fallback"  # an intermediate base
    kwargs = by_id["spark_enrich"].args[by_id["spark_enrich"].args.index("--kwargs") + 1]
    assert '"job": "com.acme.Enrich"' in kwargs  # the fallback builds the class itself, with the call's arguments
    assert [f.code for f in by_id["spark_enrich"].findings if f.code in ("M216", "M280")] == ["M216"]


def test_overriding_how_it_runs_is_a_warning_extending_it_is_not(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

        class LinkedPodOperator(KubernetesPodOperator):
            def get_or_create_pod(self, pod_request_obj, context):
                pod = super().get_or_create_pod(pod_request_obj, context)
                self.log.info("pod %s", pod)
                return pod

        class PatchedPodOperator(LinkedPodOperator):
            def execute(self, context):
                self.cmds = ["/entrypoint.sh"]
                result = super().execute(context)
                self.xcom_push(context, key="pod", value=self.pod.metadata.name)
                return result

        with DAG("runs"):
            LinkedPodOperator(task_id="linked", image="a:1")
            PatchedPodOperator(task_id="patched", image="a:1")
    """))
    [extends] = task(graph, "linked").inherits.extends
    [overrides] = task(graph, "patched").inherits.overrides
    assert (extends.split(" ")[0], extends.endswith("dag.py:6)")) == ("get_or_create_pod", True)
    assert (overrides.split(" ")[0], overrides.endswith("dag.py:12)")) == ("execute", True)
    assert task(graph, "patched").inherits.extends == ["get_or_create_pod" + extends[len("get_or_create_pod"):]]
    by_id = {kfp.task_id: kfp for kfp in map_graph(graph, Config()).tasks}
    assert (by_id["linked"].fate, by_id["patched"].fate) == ("converted", "review")
    [warning] = [f for f in by_id["patched"].findings if f.code == "M281"]
    assert "PatchedPodOperator overrides execute (" in warning.message
    assert "get_or_create_pod" in next(f.message for f in by_id["linked"].findings if f.code == "M280")


def test_explicit_parent_init_and_a_computed_task_id(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.providers.standard.operators.bash import BashOperator

        class TableCheck(BashOperator):
            def __init__(self, table, **kwargs):
                BashOperator.__init__(self, task_id=f"check_{table}", bash_command=f"check {table}", **kwargs)

        with DAG("checks"):
            TableCheck(table="orders") >> TableCheck(table="users")
    """))
    assert edges(graph) == {("check_orders", "check_users")}
    assert task(graph, "check_users").inherits.arguments == {"bash_command": "check users"}


def test_xcom_kept_by_init_for_itself_still_wires_the_data_edge(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.sdk import BaseOperator
        from airflow.providers.standard.operators.bash import BashOperator

        class SumOperator(BaseOperator):
            def __init__(self, values, **kwargs):
                super().__init__(**kwargs)
                self.values = values

        with DAG("sums"):
            numbers = BashOperator(task_id="numbers", bash_command="echo 1")
            SumOperator(task_id="total", values=numbers.output)
    """))
    assert edges(graph) == {("numbers", "total")}
    assert graph.edges["numbers", "total"]["kind"] == "data"
