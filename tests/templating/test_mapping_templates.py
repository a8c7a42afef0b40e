"""The template pass over mapped tasks: command, args, env and call arguments read pipeline parameters."""

from __future__ import annotations

import json
import os
import subprocess

from af2kfp.converters.config import Config
from af2kfp.converters.graph import PythonCallable
from af2kfp.converters.mappings import bash, docker, python
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.model import Input, SecretEnv, Template
from af2kfp.converters.environment import Connection, Environment
from af2kfp.converters.mappings.dataflow import template_refs
from af2kfp.converters.mappings.templates import prepare_task, translate_task
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.templating import ParamRef, PipelineParameter, PlaceholderRef, SecretRef, TemplateContext, translate_template
from af2kfp.converters.values import Deferred, TaskRef

BASH = "airflow.providers.standard.operators.bash.BashOperator"
DOCKER = "airflow.providers.docker.operators.docker.DockerOperator"
PARAMS = {"n": PipelineParameter(name="n", type="int", default=5)}
DS = Input(name="ds", task_id=RUN_CONTEXT_ID, key="ds")  # the run context's output


def _map(module, rule, task, producers=None):
    ctx = MapContext(task=prepare_task(task), dag_id="sales", config=Config(), params=PARAMS,
                     producers=producers or {})
    kfp = module.map_task(ctx, rule)
    before = len(ctx.findings)
    translate_task(ctx, kfp)
    return kfp, [f.code for f in ctx.findings[before:]]


def test_bash_command_reads_parameters_and_placeholders():
    task = example_task(BASH, "report", bash_command="echo {{ ds }} {{ params.n }} {{ run_id }} {{ task.task_id }}")
    kfp, codes = _map(bash, "BashOperator", task)
    assert codes == []
    assert kfp.args == [Template(name="template_1", parts=(
        "echo ", DS, " ", ParamRef("n"), " ", PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"), " report"))]
    assert [p.name for p in kfp.parameters] == ["n"] and kfp.run_context == {"ds": "ds"}


def test_connection_is_a_secret_env_never_a_value():
    task = example_task(BASH, "load", bash_command="PGPASSWORD={{ conn.pg.password }} psql -h {{ conn.pg.host }}",
                        env={"TOKEN": "{{ conn.api.password }}", "TZ": "UTC"})
    kfp, codes = _map(bash, "BashOperator", task)
    assert kfp.args == ["PGPASSWORD=${AF2KFP_CONN_PG_PASSWORD} psql -h ${AF2KFP_CONN_PG_HOST}"]
    assert kfp.secret_env == [
        SecretEnv(secret_name="airflow-conn-pg", key_to_env={"password": "AF2KFP_CONN_PG_PASSWORD",
                                                              "host": "AF2KFP_CONN_PG_HOST"}),
        SecretEnv(secret_name="airflow-conn-api", key_to_env={"password": "TOKEN"}),
    ]
    assert kfp.env == {"TZ": "UTC"} and codes == ["M207", "M207"]
    assert "conn." not in json.dumps([kfp.args, kfp.env])


def test_secret_outside_a_shell_uses_kubernetes_expansion_with_a_finding():
    task = example_task(DOCKER, "t", image="a:1", command=["login", "--password={{ conn.reg.password }}"])
    kfp, codes = _map(docker, "DockerOperator", task)
    assert kfp.args == ["login", "--password=$(AF2KFP_CONN_REG_PASSWORD)"]
    assert codes == ["M207", "M244"]


def test_docker_shell_script_item_gets_shell_variables():
    task = example_task(DOCKER, "t", image="a:1", command=["sh", "-c", "curl -u {{ conn.h.login }} x"])
    kfp, codes = _map(docker, "DockerOperator", task)
    assert kfp.args == ["sh", "-c", "curl -u ${AF2KFP_CONN_H_LOGIN} x"] and codes == ["M207"]


def test_run_template_in_env_is_kept_with_a_finding():
    task = example_task(DOCKER, "t", image="a:1", environment={"DAY": "{{ ds }}"})
    kfp, codes = _map(docker, "DockerOperator", task)
    assert kfp.env == {"DAY": "{{ ds }}"} and codes == ["M245"]


def test_run_template_in_env_of_a_shell_script_is_exported_from_an_argument():
    task = example_task(BASH, "t", bash_command="echo \"$DAY $N $FIXED\" {{ ds }}",
                        env={"DAY": "{{ ds }}", "N": "{{ params.n }}", "FIXED": "1"})
    kfp, codes = _map(bash, "BashOperator", task)
    assert codes == [] and kfp.env == {"FIXED": "1"}
    script, shell, day, n = kfp.args
    assert kfp.command == ["bash", "-c"] and shell == "bash"
    assert script.parts[0] == 'export DAY="$1"\nexport N="$2"\n'
    assert day == DS and n.parts == (ParamRef(name="n"),)
    # What the container runs once KFP rendered the arguments (a quote in a value stays one word):
    values = {"ds": "2024-05-01", "n": "it's 5"}
    rendered = ["".join(p if isinstance(p, str) else values[p.name] for p in t.parts) if isinstance(t, Template)
                else values[t.name] if isinstance(t, Input) else t for t in kfp.args]
    out = subprocess.run([*kfp.command, *rendered], env={"FIXED": "1", "PATH": os.environ["PATH"]},
                         capture_output=True, text=True, check=True).stdout
    assert out == "2024-05-01 it's 5 1 2024-05-01\n"


def test_unknown_macro_in_command_is_kept_with_a_finding():
    task = example_task(DOCKER, "t", image="a:1", command="run --date {{ ds }} --try {{ ti.try_number }}")
    kfp, codes = _map(docker, "DockerOperator", task)
    assert kfp.args == ["run", "--date", DS, "--try", "{{ ti.try_number }}"]
    assert codes == ["M240"]


def test_xcom_pull_inside_text_is_the_producer_output():
    task = example_task(BASH, "t", bash_command="load {{ ti.xcom_pull(task_ids='extract') }} --day {{ ds }}")
    kfp, codes = _map(bash, "BashOperator", task, producers={"extract": "str"})
    assert kfp.args[0].parts == ("load ", Input(name="xcom_extract", task_id="extract"), " --day ", DS)
    assert template_refs({"bash_command": task.args["bash_command"]}) == [("extract", "return_value")]
    kfp, codes = _map(bash, "BashOperator", task)  # no KFP output to read
    assert codes == ["M213"] and kfp.args[0].parts[0] == "load <xcom extract.return_value> --day "


def test_whole_xcom_pull_is_an_xcom_and_variable_get_a_parameter():
    task = example_task(python.PYTHON, "t", python_callable="f", op_kwargs={
        "rows": "{{ ti.xcom_pull(task_ids='extract') }}", "bucket": Deferred(source='Variable.get("bucket")', template="{{ var.value.bucket }}", needs=("Variable bucket",)),
        "day": "{{ ds }}", "nested": ["{{ ds }}"]},
        python=PythonCallable(name="f", source="def f(rows, bucket, day, nested):\n    pass\n", file="f.py", line=1))
    prepared = prepare_task(task)
    assert prepared.args["op_kwargs"]["rows"] == TaskRef(task_id="extract")
    assert prepared.args["op_kwargs"]["bucket"] == "{{ var.value.bucket }}"
    kfp, codes = _map(python, "PythonOperator", task, producers={"extract": "dict"})
    assert kfp.arguments["rows"] == Input(name="rows", task_id="extract")
    assert kfp.arguments["bucket"] == Template(name="bucket", parts=(ParamRef("bucket"),))
    assert kfp.arguments["day"] == DS
    assert codes == ["M204"]  # the template inside the list
    assert {p.name: p.airflow for p in kfp.parameters} == {"bucket": "{{ var.value.bucket }}"}


def test_variable_get_with_default():
    task = example_task(BASH, "t", bash_command="x", env={"A": Deferred(
        source="Variable.get('a', default_var='z')", template="{{ var.value.get('a', 'z') }}", needs=("Variable a",))})
    assert prepare_task(task).args["env"] == {"A": "{{ var.value.get('a', 'z') }}"}
    other = example_task(BASH, "t", bash_command="x", env={"A": Deferred(source="os.environ['A']", needs=("env A",))})
    assert prepare_task(other) is other


def test_pod_arguments_and_env_vars():
    from af2kfp.converters.mappings import kubernetes

    task = example_task("airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator", "train",
                        image="trainer:1", cmds=["python", "train.py"],
                        arguments=["--date", "{{ ds }}", "--run", "{{ dag_run.run_id }}"],
                        env_vars={"DB_PASSWORD": "{{ conn.db.password }}", "MODE": "full"})
    kfp, codes = _map(kubernetes, "KubernetesPodOperator", task)
    assert kfp.command == ["python", "train.py"]
    assert kfp.args == ["--date", DS, "--run",
                        Template(name="template_1", parts=(PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"),))]
    assert kfp.env == {"MODE": "full"} and codes == ["M207"]
    assert kfp.secret_env == [SecretEnv(secret_name="airflow-conn-db", key_to_env={"password": "DB_PASSWORD"})]


SUPPLIED = Environment(variables={"bucket": "acme-lake", "cfg": '{"region": "eu-west1", "tiers": ["a"]}'},
                       connections={"db": Connection(conn_id="db", host="db.internal", port=5432, schema="dw")})


def test_supplied_variables_and_connection_fields_are_text_and_passwords_stay_secrets():
    context = TemplateContext(dag_id="d", task_id="t", environment=SUPPLIED)
    text = ("{{ var.value.bucket }} {{ var.json.cfg.region }} {{ var.json.cfg.tiers }} {{ conn.db.host }}:"
            "{{ conn.db.port }}/{{ conn.db.schema }} {{ var.value.get('bucket', 'x') }} {{ conn.db.password }}")
    result = translate_template(text, context)
    assert result.parts[0] == "acme-lake eu-west1 ['a'] db.internal:5432/dw acme-lake "
    assert result.parts[1] == SecretRef("db", "password") and result.parameters_used == ()
    unknown = translate_template("{{ var.value.other }} {{ conn.db.login }}", context)
    assert [type(p).__name__ for p in unknown.parts] == ["ParamRef", "str", "SecretRef"]


def test_variable_in_an_env_value_kept_verbatim_adds_no_unused_parameter():
    from af2kfp.converters.mappings import kubernetes

    task = example_task("airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator", "t",
                        image="app:1", env_vars={"BUCKET": "gs://{{ var.value.bucket }}"})
    kfp, codes = _map(kubernetes, "KubernetesPodOperator", task)
    assert codes == ["M245"] and kfp.parameters == [] and kfp.env == {"BUCKET": "gs://{{ var.value.bucket }}"}
    ctx = MapContext(task=prepare_task(task), dag_id="d", config=Config(environment=SUPPLIED))
    kfp = kubernetes.map_task(ctx, "KubernetesPodOperator")
    translate_task(ctx, kfp)
    assert kfp.env == {"BUCKET": "gs://acme-lake"} and ctx.findings == []


def test_supplied_values_fold_into_arguments_kfp_needs_when_compiling():
    from af2kfp.converters.mappings import kubernetes

    task = example_task("airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator", "t",
                        image="repo/app:{{ var.value.get('bucket', 'x') }}", labels={"db": "{{ conn.db.host }}"},
                        arguments=["{{ ds }}", "{{ var.value.bucket }}"])
    ctx = MapContext(task=prepare_task(task, SUPPLIED), dag_id="d", config=Config(environment=SUPPLIED))
    kfp = kubernetes.map_task(ctx, "KubernetesPodOperator")
    translate_task(ctx, kfp)
    assert (kfp.image, kfp.labels) == ("repo/app:acme-lake", {"db": "db.internal"})
    assert kfp.args == [Input(name="ds", task_id=RUN_CONTEXT_ID, key="ds"), "acme-lake"]  # the date: the run context
    assert [f.code for f in ctx.findings] == []
    unsupplied = MapContext(task=prepare_task(task), dag_id="d", config=Config())
    kubernetes.map_task(unsupplied, "KubernetesPodOperator")
    assert sorted(f.code for f in unsupplied.findings) == ["M282", "M282"]
