"""The template pass over mapped tasks: command, args, env and call arguments read pipeline parameters."""

from __future__ import annotations

import json
import os
import subprocess

from converters.config import Config
from converters.graph import PythonCallable
from converters.mappings import bash, docker, python
from converters.mappings.context import MapContext
from converters.mappings.example import example_task
from converters.mappings.model import Input, SecretEnv, Template
from converters.mappings.dataflow import template_refs
from converters.mappings.templates import prepare_task, translate_task
from converters.templating import ParamRef, PipelineParameter, PlaceholderRef
from converters.values import Symbolic, TaskRef

BASH = "airflow.providers.standard.operators.bash.BashOperator"
DOCKER = "airflow.providers.docker.operators.docker.DockerOperator"
PARAMS = {"n": PipelineParameter(name="n", type="int", default=5)}


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
        "echo ", ParamRef("ds"), " ", ParamRef("n"), " ", PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"), " report"))]
    assert [p.name for p in kfp.parameters] == ["ds", "n"]


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
    assert day.parts == (ParamRef(name="ds"),) and n.parts == (ParamRef(name="n"),)
    # What the container runs once KFP rendered the arguments (a quote in a value stays one word):
    rendered = ["".join(p if isinstance(p, str) else {"ds": "2024-05-01", "n": "it's 5"}[p.name] for p in t.parts)
                if isinstance(t, Template) else t for t in kfp.args]
    out = subprocess.run([*kfp.command, *rendered], env={"FIXED": "1", "PATH": os.environ["PATH"]},
                         capture_output=True, text=True, check=True).stdout
    assert out == "2024-05-01 it's 5 1 2024-05-01\n"


def test_unknown_macro_in_command_is_kept_with_a_finding():
    task = example_task(DOCKER, "t", image="a:1", command="run --date {{ ds }} --try {{ ti.try_number }}")
    kfp, codes = _map(docker, "DockerOperator", task)
    assert kfp.args == ["run", "--date", Template(name="template_1", parts=(ParamRef("ds"),)), "--try",
                        "{{ ti.try_number }}"]
    assert codes == ["M240"]


def test_xcom_pull_inside_text_is_the_producer_output():
    task = example_task(BASH, "t", bash_command="load {{ ti.xcom_pull(task_ids='extract') }} --day {{ ds }}")
    kfp, codes = _map(bash, "BashOperator", task, producers={"extract": "str"})
    assert kfp.args[0].parts == ("load ", Input(name="xcom_extract", task_id="extract"), " --day ", ParamRef("ds"))
    assert template_refs({"bash_command": task.args["bash_command"]}) == [("extract", "return_value")]
    kfp, codes = _map(bash, "BashOperator", task)  # no KFP output to read
    assert codes == ["M213"] and kfp.args[0].parts[0] == "load <xcom extract.return_value> --day "


def test_whole_xcom_pull_is_an_xcom_and_variable_get_a_parameter():
    task = example_task(python.PYTHON, "t", python_callable="f", op_kwargs={
        "rows": "{{ ti.xcom_pull(task_ids='extract') }}", "bucket": Symbolic(source='Variable.get("bucket")'),
        "day": "{{ ds }}", "nested": ["{{ ds }}"]},
        python=PythonCallable(name="f", source="def f(rows, bucket, day, nested):\n    pass\n", file="f.py", line=1))
    prepared = prepare_task(task)
    assert prepared.args["op_kwargs"]["rows"] == TaskRef(task_id="extract")
    assert prepared.args["op_kwargs"]["bucket"] == "{{ var.value.bucket }}"
    kfp, codes = _map(python, "PythonOperator", task, producers={"extract": "dict"})
    assert kfp.arguments["rows"] == Input(name="rows", task_id="extract")
    assert kfp.arguments["bucket"] == Template(name="bucket", parts=(ParamRef("bucket"),))
    assert kfp.arguments["day"] == Template(name="day", parts=(ParamRef("ds"),))
    assert codes == ["M204"]  # the template inside the list
    assert {p.name: p.airflow for p in kfp.parameters} == {"bucket": "{{ var.value.bucket }}", "ds": "{{ ds }}"}


def test_variable_get_with_default():
    task = example_task(BASH, "t", bash_command="x", env={"A": Symbolic(source="Variable.get('a', default_var='z')")})
    assert prepare_task(task).args["env"] == {"A": "{{ var.value.get('a', 'z') }}"}
    other = example_task(BASH, "t", bash_command="x", env={"A": Symbolic(source="os.environ['A']")})
    assert prepare_task(other) is other


def test_pod_arguments_and_env_vars():
    from converters.mappings import kubernetes

    task = example_task("airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator", "train",
                        image="trainer:1", cmds=["python", "train.py"],
                        arguments=["--date", "{{ ds }}", "--run", "{{ dag_run.run_id }}"],
                        env_vars={"DB_PASSWORD": "{{ conn.db.password }}", "MODE": "full"})
    kfp, codes = _map(kubernetes, "KubernetesPodOperator", task)
    assert kfp.command == ["python", "train.py"]
    assert kfp.args == ["--date", Template(name="template_1", parts=(ParamRef("ds"),)), "--run",
                        Template(name="template_2", parts=(PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"),))]
    assert kfp.env == {"MODE": "full"} and codes == ["M207"]
    assert kfp.secret_env == [SecretEnv(secret_name="airflow-conn-db", key_to_env={"password": "DB_PASSWORD"})]
