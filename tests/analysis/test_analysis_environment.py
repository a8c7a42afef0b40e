"""What Airflow knows when it parses a DAG: Variables, Connections and environment variables.

Supplied at conversion (``Config.environment``) they fold into constants everywhere the analyzer
evaluates; not supplied, they stay Deferred values that keep the Jinja template rendering them,
and a condition on one never silently takes one side.
"""

from __future__ import annotations

from af2kfp.converters.config import Config
from af2kfp.converters.environment import Connection, Environment
from af2kfp.converters.graph import task
from af2kfp.converters.values import Deferred
from tests.analysis.conftest import codes_of, edges, only_graph

ENVIRONMENT = Environment(
    variables={"env": "prod", "image_tag": "2.4.1", "shards": "3", "pull": "Always",
               "warehouse": '{"project": "acme", "dataset": "marts", "sizes": [1, 2]}'},
    connections={"sftp": Connection(conn_id="sftp", conn_type="sftp", host="files.example.com", port=2222,
                                    login="acme", extra={"known_hosts": "files.example.com ssh-ed25519 AAAA"})},
    env={"TEAM": "growth"},
)
SUPPLIED = Config(environment=ENVIRONMENT)

DAG = """
    import os
    from airflow import DAG
    from airflow.models import Variable
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    ENV = Variable.get("env")
    IMAGE = f"registry.example.com/etl:{Variable.get('image_tag')}"
    WAREHOUSE = Variable.get("warehouse", deserialize_json=True)

    with DAG(f"etl_{ENV}") as dag:
        for shard in range(int(Variable.get("shards"))):
            KubernetesPodOperator(
                task_id=f"load_{ENV}_{shard}",
                image=IMAGE,
                image_pull_policy=Variable.get("pull"),
                arguments=["--project", WAREHOUSE["project"], "--team", os.environ["TEAM"],
                           "--size", str(WAREHOUSE["sizes"][-1]), "--region", os.getenv("REGION", "eu")],
            )
"""


def test_supplied_values_fold_into_ids_images_pull_policies_and_loop_bounds(analyze):
    graph = only_graph(analyze(DAG, config=SUPPLIED))
    assert graph.graph["dag"].dag_id == "etl_prod"
    assert set(graph.nodes) == {"load_prod_0", "load_prod_1", "load_prod_2"}
    args = task(graph, "load_prod_2").args
    assert args["image"] == "registry.example.com/etl:2.4.1"
    assert args["image_pull_policy"] == "Always"
    assert args["arguments"] == ["--project", "acme", "--team", "growth", "--size", "2", "--region", "eu"]
    assert codes_of(graph) == []


def test_unsupplied_values_need_what_kfp_needs_at_compile_time_and_say_which(analyze):
    graph = only_graph(analyze(DAG))
    messages = [(f.code, f.message) for f in graph.graph["findings"]]
    assert [code for code, _ in messages] == ["A121", "A121"]
    assert "dag_id of this DAG depends on Airflow Variable `env` (--variables FILE)" in messages[0][1]
    assert "loop over `range(int(Variable.get(\"shards\")))` depends on Airflow Variable `shards`" in messages[1][1]


def test_unsupplied_variables_keep_the_template_that_renders_them(analyze):
    graph = only_graph(analyze("""
        import os
        from airflow import DAG
        from airflow.models import Variable
        from airflow.operators.bash import BashOperator

        bucket = Variable.get("bucket")
        cfg = Variable.get("cfg", deserialize_json=True)
        with DAG("paths"):
            BashOperator(task_id="t", bash_command="echo", env={
                "F": f"gs://{bucket}/raw",
                "P": "gs://" + bucket + "/" + cfg["prefix"],
                "M": "%s/%s" % (bucket, "x"),
                "J": "-".join([bucket, "y"]),
                "O": os.path.join("/data", Variable.get("sub", "default")),
                "D": Variable.get("day", default_var="mon"),
                "U": bucket.upper(),
                "N": Variable.get("n", default_var=None),
                "E": os.environ["HOME_DIR"],
            })
    """))
    env = task(graph, "t").args["env"]
    templates = {name: value.template for name, value in env.items()}
    assert templates == {
        "F": "gs://{{ var.value.bucket }}/raw",
        "P": "gs://{{ var.value.bucket }}/{{ var.json.cfg.prefix }}",
        "M": "{{ var.value.bucket }}/x",
        "J": "{{ var.value.bucket }}-y",
        "O": "/data/{{ var.value.get('sub', 'default') }}",
        "D": "{{ var.value.get('day', 'mon') }}",
        "U": None,  # upper-casing the run-time value has no template
        "N": None,  # a default of None renders differently from the value it stands for
        "E": None,
    }
    assert env["U"].needs == ("Variable bucket",) and env["E"].needs == ("env HOME_DIR",)
    assert all(isinstance(value, Deferred) for value in env.values())


def test_a_variable_read_without_default_is_never_none(analyze):
    analysis = analyze("""
        from airflow import DAG
        from airflow.models import Variable
        from airflow.operators.bash import BashOperator

        tag = Variable.get("tag")
        if tag is None:
            tag = "latest"
        maybe = Variable.get("maybe", default_var=None)
        if maybe is None:
            maybe = "fallback"
        with DAG("tags"):
            BashOperator(task_id="t", bash_command=f"deploy {tag}")
    """)
    graph = only_graph(analysis)
    assert task(graph, "t").args["bash_command"].template == "deploy {{ var.value.tag }}"
    assert codes_of(graph) == []
    [condition] = [f for f in analysis.findings if f.code == "A110"]  # Airflow fails the import instead of None
    assert (condition.line, "Variable `maybe`" in condition.message) == (10, True)


FULL_REFRESH = """
    from airflow import DAG
    from airflow.models import Variable
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    def dbt(model):
        args = ["run", "--select", model]
        if Variable.get("full_refresh") == "true":
            args.append("--full-refresh")
        return KubernetesPodOperator(task_id=f"dbt_{model}", image="dbt:1.8", cmds=["dbt"], arguments=args)

    with DAG("dbt_daily"):
        dbt("orders") >> dbt("customers")
"""


def test_a_condition_on_an_unsupplied_variable_says_on_every_task_which_side_was_kept(analyze):
    graph = only_graph(analyze(FULL_REFRESH))
    assert task(graph, "dbt_orders").args["arguments"] == ["run", "--select", "orders", "--full-refresh"]
    decided = [f for f in graph.graph["findings"] if f.code == "A120"]
    assert sorted(f.task_id for f in decided) == ["dbt_customers", "dbt_orders"]
    assert all(f.severity.value == "warning" for f in decided)
    message = decided[0].message
    assert "argument `arguments` depends on the condition `Variable.get(\"full_refresh\") == \"true\"`" in message
    assert "Airflow Variable `full_refresh` (--variables FILE)" in message
    assert "the branch where it holds was kept" in message
    [condition] = [f for f in graph.graph["findings"] if f.code == "A110"]
    assert "it reads Airflow Variable `full_refresh`" in condition.message and condition.task_id is None


def test_the_same_condition_supplied_is_decided_without_a_finding(analyze):
    off = Config(environment=Environment(variables={"full_refresh": "false"}))
    graph = only_graph(analyze(FULL_REFRESH, config=off))
    assert task(graph, "dbt_orders").args["arguments"] == ["run", "--select", "orders"]
    assert codes_of(graph) == []


def test_unknown_condition_keeps_tasks_of_both_branches_and_plain_values_of_one(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.models import Variable
        from airflow.operators.bash import BashOperator

        with DAG("sides"):
            start = BashOperator(task_id="start", bash_command="x")
            if Variable.get("mode") == "fast":
                step = BashOperator(task_id="fast", bash_command="x")
                retries = 0
                region = "eu"
            else:
                step = BashOperator(task_id="slow", bash_command="x")
                retries = 3
                region = "eu"
            start >> step
            BashOperator(task_id="report", bash_command=f"report {region}", retries=retries)
    """))
    assert set(graph.nodes) == {"start", "fast", "slow", "report"}
    assert edges(graph) == {("start", "fast"), ("start", "slow")}
    report = task(graph, "report")
    assert report.args == {"bash_command": "report eu", "retries": 0}
    decided = [(f.task_id, f.message.split("`")[1]) for f in graph.graph["findings"] if f.code == "A120"]
    assert decided == [("report", "retries")]  # region is "eu" on both sides: known


def test_a_branch_that_returns_is_followed_and_its_value_marked(analyze):
    graph = only_graph(analyze("""
        from airflow import DAG
        from airflow.models import Variable
        from airflow.operators.bash import BashOperator

        def queue_name():
            if Variable.get("tier") == "gold":
                return "priority"
            return "standard"

        with DAG("ret"):
            BashOperator(task_id="t", bash_command=f"submit --queue {queue_name()}")
    """))
    assert task(graph, "t").args["bash_command"] == "submit --queue priority"
    [decided] = [f for f in graph.graph["findings"] if f.code == "A120"]
    assert "`bash_command`" in decided.message and "Variable `tier`" in decided.message


def test_connection_fields_read_at_parse_time_fold_and_passwords_never_do(analyze):
    code = """
        from airflow import DAG
        from airflow.hooks.base import BaseHook
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

        with DAG("sftp"):
            conn = BaseHook.get_connection("sftp")
            KubernetesPodOperator(task_id="push", image="push:1", env_vars={
                "HOST": conn.host, "PORT": str(conn.port), "USER": conn.login,
                "KNOWN_HOSTS": conn.extra_dejson["known_hosts"], "PASSWORD": conn.password})
    """
    env = task(only_graph(analyze(code, config=SUPPLIED)), "push").args["env_vars"]
    assert {k: v for k, v in env.items() if k != "PASSWORD"} == {
        "HOST": "files.example.com", "PORT": "2222", "USER": "acme",
        "KNOWN_HOSTS": "files.example.com ssh-ed25519 AAAA"}
    assert env["PASSWORD"].template == "{{ conn.sftp.password }}"  # read from a Secret by the mapping
    unsupplied = task(only_graph(analyze(code)), "push").args["env_vars"]
    assert unsupplied["HOST"].template == "{{ conn.sftp.host }}"
    assert unsupplied["KNOWN_HOSTS"].template == "{{ conn.sftp.extra_dejson.known_hosts }}"
    assert unsupplied["PORT"].needs == ("Connection sftp",)


def test_a_task_id_an_unknown_condition_decided_is_reported(analyze):
    graph = only_graph(analyze("""
        import os
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        if os.environ["STAGE"] == "prod":
            name = "publish"
        else:
            name = "publish_dry_run"
        with DAG("ids"):
            BashOperator(task_id=name, bash_command="x")
    """))
    assert set(graph.nodes) == {"publish"} and type(task(graph, "publish").task_id) is str
    [decided] = [f for f in graph.graph["findings"] if f.code == "A120"]
    assert "argument `task_id`" in decided.message and "environment variable `STAGE`" in decided.message


def test_a_task_group_named_from_an_unsupplied_value_is_a_finding_and_the_whole_report_is_written(tmp_path):
    """A group_id built from an environment variable nobody supplied once reached report.json as a
    Deferred value and crashed the run; it is a finding and the group keeps a readable name."""
    import json
    import textwrap

    from af2kfp.converters.convert import convert_paths

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "uploads.py").write_text(textwrap.dedent("""
        import os
        import pendulum
        from airflow import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.utils.task_group import TaskGroup

        SCHEMA = os.environ["WAREHOUSE_SCHEMA"]

        with DAG("uploads", start_date=pendulum.datetime(2024, 1, 1), schedule=None):
            for table in ("orders", "users"):
                with TaskGroup(f"upload_{SCHEMA}_{table}"):
                    BashOperator(task_id="copy", bash_command=f"echo {table}")
    """))
    report = convert_paths([dags], tmp_path / "out")
    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert written["summary"] == report["summary"]
    (dag,) = written["dags"]
    groups = {tuple(t["group"]) for t in dag["airflow"]["tasks"]}
    assert all(isinstance(g, str) for group in groups for g in group) and len(groups) == 1
    messages = [f["message"] for f in written["findings"] if f["dag_id"] == "uploads"]
    assert any("group_id of this TaskGroup" in m and "WAREHOUSE_SCHEMA" in m for m in messages), messages
    assert (tmp_path / "out" / "report.html").exists()
