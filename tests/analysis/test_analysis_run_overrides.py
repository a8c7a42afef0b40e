"""A repository operator's own ``execute``: what it sets on ``self`` before calling the parent's is the task's
(evaluated, never run), and what it does besides (skip guards, work after the parent's execute) is a finding."""

from __future__ import annotations

from af2kfp.converters.config import Config
from af2kfp.converters.graph import task
from af2kfp.converters.mappings import map_graph
from tests.analysis.conftest import only_graph

HEAD = """
    from airflow import DAG
    from airflow.exceptions import AirflowFailException, AirflowSkipException
    from airflow.models import Variable
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s
"""


def mapped(analyze, body: str, config: Config | None = None, files: dict[str, str] | None = None):
    """The analyzed graph and its KFP tasks by id, for a snippet after HEAD."""
    graph = only_graph(analyze(HEAD + body, config=config, files=files))
    return graph, {kfp.task_id: kfp for kfp in map_graph(graph, config or Config()).tasks}


def codes(kfp) -> list[str]:
    return sorted(f.code for f in kfp.findings if f.code.startswith(("M28", "A12")))


def message(kfp, code: str) -> str:
    [found] = [f.message for f in kfp.findings if f.code == code]
    return found


SPARK = """
    class SparkOperator(KubernetesPodOperator):
        def __init__(self, spark_class, spark_config="", skip=False, **kwargs):
            super().__init__(image="spark:3.5", **kwargs)
            self.spark_class = spark_class
            self.spark_config = spark_config
            self.skip = skip

        def execute(self, context):
            if self.skip:
                raise AirflowSkipException()
            self.cmds = ["/opt/entrypoint.sh"]
            self.image_pull_policy = "Always"
            self.image_pull_secrets = [k8s.V1LocalObjectReference(name="registry")]
            self.env_vars = [
                k8s.V1EnvVar(name="SPARK_CLASS", value=self.spark_class),
                k8s.V1EnvVar(name="TOKEN", value_from=k8s.V1EnvVarSource(
                    secret_key_ref=k8s.V1SecretKeySelector(name="spark-token", key="token"))),
                k8s.V1EnvVar(name="SPARK_CLIENT_POD", value_from=k8s.V1EnvVarSource(
                    field_ref=k8s.V1ObjectFieldSelector(field_path="metadata.name"))),
            ]
            self.volumes = [k8s.V1Volume(name="defaults", config_map=k8s.V1ConfigMapVolumeSource(name="defaults"))]
            self.volume_mounts = [k8s.V1VolumeMount(name="defaults", mount_path="/opt/conf/defaults")]
            if self.spark_config:
                self.volumes.append(k8s.V1Volume(name=self.spark_config,
                                                 config_map=k8s.V1ConfigMapVolumeSource(name=self.spark_config)))
                self.volume_mounts.append(k8s.V1VolumeMount(name=self.spark_config,
                                                            mount_path=f"/opt/conf/{self.spark_config}"))
            self.arguments += ["--class", self.spark_class]
            logging.info("running %s", self.spark_class)
            super().execute(context)
            logging.info("done")
"""


def test_what_execute_sets_before_calling_the_parent_is_the_pod(analyze):
    graph, by_id = mapped(analyze, "    import logging\n" + SPARK + """
    with DAG("spark"):
        SparkOperator(task_id="small", spark_class="com.acme.Small", arguments=["--day", "{{ ds }}"])
        SparkOperator(task_id="large", spark_class="com.acme.Large", spark_config="large")
    """)
    small, large = by_id["small"], by_id["large"]
    assert (small.image, small.command) == ("spark:3.5", ["/opt/entrypoint.sh"])
    assert small.args[0] == "--day" and small.args[2:] == ["--class", "com.acme.Small"]  # appended to the call's
    assert small.env == {"SPARK_CLASS": "com.acme.Small"}
    assert [(s.secret_name, s.key_to_env) for s in small.secret_env] == [("spark-token", {"token": "TOKEN"})]
    assert small.field_env == {"SPARK_CLIENT_POD": "metadata.name"}
    assert (small.image_pull_policy, small.image_pull_secrets) == ("Always", ["registry"])
    assert [(v.kind, v.name, v.mount_path) for v in small.volumes] == [("config_map", "defaults", "/opt/conf/defaults")]
    assert [(v.name, v.mount_path) for v in large.volumes] == [("defaults", "/opt/conf/defaults"),
                                                                ("large", "/opt/conf/large")]
    assert large.args == ["--class", "com.acme.Large"]
    assert "M281" not in codes(small)
    assert "its execute (" in message(small, "M280") and "is applied (arguments, cmds, " in message(small, "M280")
    # Airflow never sees these: its DagBag holds what __init__ passed on, and so does inherits.arguments
    assert "cmds" not in task(graph, "small").inherits.arguments
    assert task(graph, "small").inherits.at_run["cmds"] == ["/opt/entrypoint.sh"]


def test_return_super_execute_and_explicit_parent_call(analyze):
    _, by_id = mapped(analyze, """
    class Returning(KubernetesPodOperator):
        def execute(self, context):
            self.cmds = ["returning"]
            return super().execute(context)

    class Explicit(KubernetesPodOperator):
        def execute(self, context):
            self.cmds = ["explicit"]
            result = KubernetesPodOperator.execute(self, context)
            return result

    with DAG("calls"):
        Returning(task_id="returning", image="a:1")
        Explicit(task_id="explicit", image="a:1")
    """)
    assert by_id["returning"].command == ["returning"] and by_id["explicit"].command == ["explicit"]
    assert (by_id["returning"].fate, by_id["explicit"].fate) == ("converted", "converted")


def test_skip_guard_known_false_known_true_and_unknown(analyze):
    _, by_id = mapped(analyze, """
    DEV = Variable.get("dev_skip", None) == "yes"

    class Guarded(KubernetesPodOperator):
        def __init__(self, skip=False, **kwargs):
            super().__init__(**kwargs)
            self.skip = skip

        def execute(self, context):
            if self.skip:
                raise AirflowSkipException("skipped by flag")
            super().execute(context)

    class DevGuarded(Guarded):
        def execute(self, context):
            if DEV:
                raise AirflowSkipException()
            super().execute(context)

    with DAG("guards"):
        Guarded(task_id="runs", image="a:1")
        Guarded(task_id="always_skipped", image="a:1", skip=True)
        Guarded(task_id="rendered", image="a:1", skip="{{ params.skip }}")
        DevGuarded(task_id="dev", image="a:1")
    """)
    assert by_id["runs"].fate == "converted" and codes(by_id["runs"]) == ["M280"]
    always = message(by_id["always_skipped"], "M285")
    assert "raises AirflowSkipException at " in always and "(`self.skip` is true here): Airflow always skips" in always
    assert by_id["always_skipped"].fate == "review" and "M281" not in codes(by_id["always_skipped"])
    rendered = message(by_id["rendered"], "M284")
    assert "when `self.skip`, which is not known at conversion (`self.skip` is only known when the task runs)" in rendered
    dev = message(by_id["dev"], "M284")
    assert "DevGuarded.execute (" in dev and "when `DEV`" in dev and "Variable `dev_skip`" in dev
    assert "the KFP task always runs" in dev
    # the middle class's guard is walked too: `self.skip` is False for this task
    assert codes(by_id["dev"]) == ["M280", "M284"]


def test_known_variable_decides_the_guard(analyze):
    config = Config()
    config.environment.variables["dev_skip"] = "no"
    _, by_id = mapped(analyze, """
    class DevGuarded(KubernetesPodOperator):
        def execute(self, context):
            if Variable.get("dev_skip", None) == "yes":
                raise AirflowSkipException()
            super().execute(context)

    with DAG("guards"):
        DevGuarded(task_id="dev", image="a:1")
    """, config=config)
    assert by_id["dev"].fate == "converted"


def test_an_unknown_condition_keeps_the_side_where_it_holds_with_a120(analyze):
    graph, by_id = mapped(analyze, """
    ENV = Variable.get("environment")

    class Certified(KubernetesPodOperator):
        def execute(self, context):
            self.volumes = []
            self.volume_mounts = []
            if ENV == "prod":
                self.volumes.append(k8s.V1Volume(name="ca", config_map=k8s.V1ConfigMapVolumeSource(name="ca")))
                self.volume_mounts.append(k8s.V1VolumeMount(name="ca", mount_path="/opt/ca"))
            super().execute(context)

    with DAG("certs"):
        Certified(task_id="certified", image="a:1")
    """)
    certified = by_id["certified"]
    assert [(v.name, v.mount_path) for v in certified.volumes] == [("ca", "/opt/ca")]
    decided = [f.message for f in graph.graph["findings"] if f.code == "A120" and f.task_id == "certified"]
    assert any("argument `volumes` depends on the condition `ENV == \"prod\"`" in m for m in decided)
    assert certified.fate == "review"


def test_work_after_the_parents_execute_is_named_with_its_lines(analyze):
    _, by_id = mapped(analyze, """
    import kubernetes

    class DriverOperator(KubernetesPodOperator):
        def execute(self, context):
            self.cmds = ["/opt/submit.sh"]
            super().execute(context)
            client = kubernetes.client.CoreV1Api()
            driver = client.read_namespaced_pod(f"{self.pod.metadata.name}-driver", self.namespace)
            client.delete_namespaced_pod(f"{self.pod.metadata.name}-driver", self.namespace)
            if driver.status.phase != "Succeeded":
                raise AirflowFailException("driver failed")

    with DAG("drivers"):
        DriverOperator(task_id="submit", image="spark:1")
    """)
    submit = by_id["submit"]
    assert submit.command == ["/opt/submit.sh"] and submit.fate == "review"
    warning = message(submit, "M281")
    assert warning.startswith("DriverOperator overrides execute (") and "dag.py:11)" in warning
    assert "what it sets before calling the parent's execute is applied (cmds)" in warning
    assert ("after the parent's execute returns, it calls `kubernetes.client.CoreV1Api`, `client.read_namespaced_pod`, "
            "`client.delete_namespaced_pod` and raises AirflowFailException under a condition") in warning
    assert "dag.py:14-18), which the KFP task does not do" in warning


def test_no_call_of_the_parent_replaces_what_runs(analyze):
    _, by_id = mapped(analyze, """
    import requests

    class Poster(KubernetesPodOperator):
        def execute(self, context):
            self.cmds = ["never"]
            requests.post("https://hooks.example.com", json={"task": self.task_id})

    with DAG("posts"):
        Poster(task_id="post", image="a:1")
    """)
    post = by_id["post"]
    assert post.command == []  # what it sets is not applied: the parent never runs with it
    warning = message(post, "M281")
    assert "before calling the parent's execute it calls `requests.post` (" in warning
    assert "it never calls the parent's execute: it replaces what the parent runs, and the KFP task" in warning


def test_two_levels_the_middle_class_overrides_too(analyze):
    _, by_id = mapped(analyze, """
    class Base(KubernetesPodOperator):
        def __init__(self, registry_secret=None, **kwargs):
            super().__init__(**kwargs)
            self.registry_secret = registry_secret

        def execute(self, context):
            if self.registry_secret:
                self.image_pull_secrets = [k8s.V1LocalObjectReference(name=self.registry_secret)]
            super().execute(context)

    class Job(Base):
        def __init__(self, job, **kwargs):
            super().__init__(registry_secret="registry", **kwargs)
            self.job = job

        def execute(self, context):
            self.arguments = ["run", self.job]
            self.env_vars.append(k8s.V1EnvVar(name="JOB", value=self.job))
            return super().execute(context)

    with DAG("jobs"):
        Job(task_id="load", job="load", image="jobs:2", env_vars={"MODE": "full"})
    """)
    load = by_id["load"]
    assert load.args == ["run", "load"] and load.image_pull_secrets == ["registry"]
    assert load.env == {"MODE": "full", "JOB": "load"}  # KubernetesPodOperator turned the dict into a list first
    assert load.fate == "converted"


def test_handlers_around_the_parents_execute(analyze):
    _, by_id = mapped(analyze, """
    from airflow.exceptions import AirflowException

    class Tolerant(KubernetesPodOperator):
        def __init__(self, skip_fail=None, **kwargs):
            super().__init__(**kwargs)
            self.skip_fail = skip_fail

        def execute(self, context):
            try:
                super().execute(context)
            except AirflowException:
                if self.skip_fail:
                    raise AirflowSkipException()
                raise AirflowFailException("request failed")

    with DAG("requests"):
        Tolerant(task_id="fails_anyway", image="curl:8")
        Tolerant(task_id="skips_on_failure", image="curl:8", skip_fail=True)
    """)
    assert by_id["fails_anyway"].fate == "converted"
    warning = message(by_id["skips_on_failure"], "M281")
    assert "when the parent's execute raises AirflowException, it raises AirflowSkipException or" in warning


def test_calls_before_the_parent_and_context_reads_are_named(analyze):
    _, by_id = mapped(analyze, """
    class FromXCom(KubernetesPodOperator):
        def execute(self, context):
            batch = context["ti"].xcom_pull(task_ids="detect")
            self.arguments = ["--batch", batch]
            super().execute(context)

    with DAG("xcoms"):
        FromXCom(task_id="reads", image="a:1")
    """)
    warning = message(by_id["reads"], "M281")
    assert "before calling the parent's execute it calls `context[\"ti\"].xcom_pull` (" in warning


def test_build_pod_request_obj_that_changes_the_pod_keeps_a_precise_m281(analyze):
    _, by_id = mapped(analyze, """
    class Labelled(KubernetesPodOperator):
        def build_pod_request_obj(self, context=None):
            self.labels["team"] = "data"
            pod = super().build_pod_request_obj(context)
            pod.spec.containers[0].working_dir = "/work"
            return pod

    class Simple(KubernetesPodOperator):
        def build_pod_request_obj(self, context=None):
            self.labels["team"] = "data"
            return super().build_pod_request_obj(context)

    with DAG("pods"):
        Labelled(task_id="labelled", image="a:1")
        Simple(task_id="simple", image="a:1")
    """)
    assert by_id["simple"].labels == {"team": "data"} and by_id["simple"].fate == "converted"
    labelled = by_id["labelled"]
    assert labelled.labels == {"team": "data"}
    assert "after the parent's build_pod_request_obj returns, it sets `pod.spec.containers[0].working_dir`" in message(
        labelled, "M281")


def test_pre_execute_is_walked_before_execute(analyze):
    _, by_id = mapped(analyze, """
    class Prepared(KubernetesPodOperator):
        def pre_execute(self, context):
            super().pre_execute(context)
            self.cmds = ["prepared"]
            self.log.info("prepared")

        def execute(self, context):
            self.arguments = self.cmds + ["--then"]
            return super().execute(context)

    with DAG("prepared"):
        Prepared(task_id="prepared", image="a:1")
    """)
    prepared = by_id["prepared"]
    assert (prepared.command, prepared.args, prepared.fate) == (["prepared"], ["prepared", "--then"], "converted")


def test_fallback_configuration_runs_the_class_itself_without_these_findings(analyze):
    config = Config(operators={"dag.Guarded": "fallback"})
    _, by_id = mapped(analyze, """
    class Guarded(KubernetesPodOperator):
        def execute(self, context):
            if Variable.get("dev_skip", None) == "yes":
                raise AirflowSkipException()
            self.cmds = ["x"]
            super().execute(context)

    with DAG("guards"):
        Guarded(task_id="dev", image="a:1")
    """, config=config)
    assert by_id["dev"].rule == "fallback"
    assert not [f for f in by_id["dev"].findings if f.code in ("M281", "M284", "M285")]


def test_a_secret_set_in_execute_or_passed_on_by_init_is_written_nowhere(tmp_path, monkeypatch):
    from pathlib import Path
    import textwrap

    from af2kfp.bridge.cli import main

    secret = "sk-live-4f1c9e"
    monkeypatch.chdir(tmp_path)
    Path("dags").mkdir()
    Path("dags/secrets.py").write_text(textwrap.dedent(HEAD + f"""
    class Authenticated(KubernetesPodOperator):
        def __init__(self, **kwargs):
            super().__init__(env_vars={{"SERVICE_TOKEN": "{secret}-init"}}, **kwargs)

        def execute(self, context):
            self.env_vars.append(k8s.V1EnvVar(name="API_KEY", value="{secret}-execute"))
            super().execute(context)

    with DAG("secrets", schedule=None):
        Authenticated(task_id="call", image="a:1")
    """))
    assert main(["convert", "dags", "-o", "out"]) == 0
    outputs = sorted(p for p in Path("out").rglob("*") if p.is_file())
    assert outputs
    for path in outputs:
        assert secret not in path.read_text(encoding="utf-8"), path
    code = Path("out/secrets/pipeline.py").read_text()
    assert 'secret_key_to_env={"SERVICE_TOKEN": "SERVICE_TOKEN", "API_KEY": "API_KEY"}' in code


def test_jinja_written_in_execute_is_not_rendered_by_airflow(analyze):
    _, by_id = mapped(analyze, """
    class Dated(KubernetesPodOperator):
        template_fields = (*KubernetesPodOperator.template_fields, "day")

        def __init__(self, day="{{ ds }}", **kwargs):
            super().__init__(**kwargs)
            self.day = day

        def execute(self, context):
            self.arguments = ["--day", self.day]  # rendered before execute: the same in KFP
            super().execute(context)

    class Literal(KubernetesPodOperator):
        def execute(self, context):
            self.arguments = ["--day", "{{ ds }}"]  # Airflow passes the braces as they are
            super().execute(context)

    with DAG("dates"):
        Dated(task_id="dated", image="a:1")
        Literal(task_id="literal", image="a:1")
    """)
    assert by_id["dated"].fate == "converted"
    assert "it writes Jinja (" in message(by_id["literal"], "M281")
    assert "dag.py:21) that Airflow passes as it is" in message(by_id["literal"], "M281")


def test_an_analyzer_failure_in_the_walk_is_said_on_the_task(analyze, monkeypatch):
    from af2kfp.converters.analysis.overrides import RunOverrides

    def broken(self, walk, method):
        raise RuntimeError("boom")

    monkeypatch.setattr(RunOverrides, "_walk_method", broken)
    _, by_id = mapped(analyze, """
    class Set(KubernetesPodOperator):
        def execute(self, context):
            self.cmds = ["x"]
            super().execute(context)

    with DAG("broken"):
        Set(task_id="set", image="a:1")
    """)
    assert by_id["set"].command == [] and by_id["set"].fate == "review"
    assert "the analyzer failed to evaluate it (RuntimeError: boom)" in message(by_id["set"], "M281")


def test_a_raise_deeper_in_an_unknown_branch_is_a_guard_not_an_always(analyze):
    _, by_id = mapped(analyze, """
    MODE = Variable.get("mode")

    class Checked(KubernetesPodOperator):
        def __init__(self, strict=True, **kwargs):
            super().__init__(**kwargs)
            self.strict = strict

        def execute(self, context):
            if MODE == "maintenance":
                self.cmds = ["noop"]
                if self.strict:
                    raise AirflowFailException("maintenance")
            self.arguments = ["--mode", "normal"]
            super().execute(context)

    with DAG("checked"):
        Checked(task_id="checked", image="a:1")
    """)
    checked = by_id["checked"]
    assert "M285" not in codes(checked)
    assert 'raises AirflowFailException when `MODE == "maintenance"`' in message(checked, "M284")
    assert (checked.command, checked.args) == ([], ["--mode", "normal"])  # the side that goes on


def test_a_helpers_unknown_condition_is_tagged_and_its_unknown_loop_is_named(analyze):
    graph, by_id = mapped(analyze, """
    def job_arguments(name, region=None, shards=()):
        arguments = ["--job", name]
        if region:
            arguments.extend(["--region", region])
        for shard in shards:
            arguments += ["--shard", shard]
        return arguments

    class Job(KubernetesPodOperator):
        template_fields = KubernetesPodOperator.template_fields + ("region",)

        def __init__(self, job, region=None, shards=(), **kwargs):
            super().__init__(image="jobs:2", **kwargs)
            self.job, self.region, self.shards = job, region, shards

        def execute(self, context):
            self.arguments = job_arguments(self.job, region=self.region, shards=self.shards)
            super().execute(context)

    with DAG("jobs"):
        Job(task_id="regional", job="load", region="{{ params.region }}")
        Job(task_id="sharded", job="load", shards=Variable.get("shards"))
    """)
    regional, sharded = by_id["regional"], by_id["sharded"]
    # `self.region` is a template field: Airflow renders it before execute, so the helper's `if region:` is not
    # known at conversion (an empty rendering would leave --region out). It is decided as an `if` of execute
    # itself would be: the side where it holds, with A120 on the task; nothing the analyzer could not evaluate.
    assert regional.args[:3] == ["--job", "load", "--region"]
    assert "M281" not in codes(regional)
    decided = [f.message for f in graph.graph["findings"] if f.code == "A120" and f.task_id == "regional"]
    assert any("argument `arguments` depends on the condition `region`" in m for m in decided)
    # A loop over a value not known would drop what it appends: named, with its code and line, not skipped.
    warning = message(sharded, "M281")
    assert "before calling the parent's execute it reaches what the analyzer reports as A1" in warning
    assert "loop over `shards`" in warning and "dag.py:" in warning
    assert "which the analyzer cannot evaluate and the KFP task does not run" in warning


def test_execute_reads_template_fields_rendered_and_other_attributes_as_written(analyze):
    graph, by_id = mapped(analyze, """
    class Refresh(KubernetesPodOperator):
        template_fields = (*KubernetesPodOperator.template_fields, "mode")

        def __init__(self, mode="{{ params.mode }}", note="{{ params.note }}", **kwargs):
            super().__init__(image="dbt:1", **kwargs)
            self.mode, self.note = mode, note

        def execute(self, context):
            self.arguments = ["run"]
            if self.mode.lower() == "full":
                self.arguments.append("--full-refresh")
            if self.note:
                self.arguments += ["--note", self.note]
            super().execute(context)

    with DAG("refresh", params={"mode": "incremental", "note": ""}):
        Refresh(task_id="refresh")
    """)
    refresh = by_id["refresh"]
    # `mode` is rendered before execute: its comparison is not known at conversion (the side where it holds, A120);
    # `note` is not a template field: Airflow reads '{{ params.note }}' as written (true) and passes that text on,
    # which the KFP task would render: said, with what to change.
    assert refresh.args[:2] == ["run", "--full-refresh"] and refresh.args[2] == "--note"
    decided = [f.message for f in graph.graph["findings"] if f.code == "A120" and f.task_id == "refresh"]
    assert any("argument `arguments` depends on the condition `self.mode.lower() == \"full\"`" in m for m in decided)
    warning = message(refresh, "M281")
    assert "`self.note` is not among its template_fields, so Airflow passes `{{ params.note }}`" in warning
    assert "mode" not in warning.split("template_fields")[0]
