"""Secret-looking environment values: read from a Kubernetes Secret, never written (M246)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from af2kfp.bridge.cli import main
from af2kfp.converters.config import Config
from af2kfp.converters.graph import PythonCallable
from af2kfp.converters.mappings import map_task
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.model import SecretEnv
from af2kfp.converters.mappings.values import env_secret_name, is_secret_name
from af2kfp.converters.values import Call, Symbolic, TaskRef

DOCKER = "airflow.providers.docker.operators.docker.DockerOperator"
KPO = "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"
BASH = "airflow.providers.standard.operators.bash.BashOperator"
V1ENVVAR = "kubernetes.client.models.V1EnvVar"
SECRET = "zq-plain-4410"  # a value that must appear in no output


@pytest.mark.parametrize("name", [
    "LOADER_API_KEY", "DB_PASSWORD", "DB_PASS", "MYSQL_PWD", "SERVICE_TOKEN", "GITHUB_TOKEN", "CLIENT_SECRET",
    "AWS_SECRET_ACCESS_KEY", "PRIVATE_KEY", "SSH_KEY", "CREDENTIALS", "GCP_CREDENTIALS", "APIKEY", "apiKey",
    "SECRET", "AIRFLOW_CONN_WAREHOUSE", "SMTP_PASSPHRASE", "STORAGE_ACCOUNT_KEY",
])
def test_secret_looking_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "TOKENIZER_NAME", "KEY_PREFIX", "S3_KEY", "PARTITION_KEY", "MAX_TOKENS", "SECRET_NAME", "TOKEN_URL",
    "PASSWORD_FILE", "AWS_ACCESS_KEY_ID", "PASS_THROUGH", "BYPASS_CACHE", "STAGE", "LOG_LEVEL", "TOKEN_TTL",
    "KEYCLOAK_REALM", "PASSWORD_MIN_LENGTH", "",
])
def test_names_that_are_not_secrets(name):
    assert not is_secret_name(name)


def test_secret_name_is_a_valid_kubernetes_name():
    assert env_secret_name("Sales_ETL.daily") == "sales-etl-daily-env"
    name = env_secret_name("x" * 400)
    assert len(name) <= 253 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
    assert env_secret_name("__") == "af2kfp-env"


def _map(operator, python=None, **args):
    kfp, _ = map_task(example_task(operator, "t", python=python, **args), dag_id="sales_etl", config=Config())
    assert kfp is not None
    return kfp


def _assert_from_secret(kfp, name):
    assert name not in kfp.env
    assert SecretEnv(secret_name="sales-etl-env", key_to_env={name: name}) in kfp.secret_env
    [finding] = [f for f in kfp.findings if f.code == "M246"]
    assert finding.severity.value == "warning"
    assert name in finding.message and "sales-etl-env" in finding.message
    assert f"kubectl create secret generic sales-etl-env --from-literal={name}=" in finding.suggestion
    assert SECRET not in finding.message + finding.suggestion
    assert kfp.fate == "review"


_PY = PythonCallable(name="f", source="def f():\n    return 1\n", file="example.py", line=2)


@pytest.mark.parametrize(("operator", "python", "args"), [
    (DOCKER, None, {"image": "a:1", "environment": {"LOADER_API_KEY": SECRET, "STAGE": "prod"}}),
    (KPO, None, {"image": "a:1", "env_vars": {"LOADER_API_KEY": SECRET, "STAGE": "prod"}}),
    (KPO, None, {"image": "a:1", "env_vars": [Call(func=V1ENVVAR, kwargs={"name": "LOADER_API_KEY", "value": SECRET}),
                                              Call(func=V1ENVVAR, args=("STAGE", "prod"))]}),
    (BASH, None, {"bash_command": "true", "env": {"LOADER_API_KEY": SECRET, "STAGE": "prod"}}),
    ("airflow.sdk.task.docker", _PY, {"image": "py:3", "environment": {"LOADER_API_KEY": SECRET, "STAGE": "prod"}}),
    ("airflow.sdk.task.kubernetes", _PY, {"image": "py:3", "env_vars": {"LOADER_API_KEY": SECRET, "STAGE": "prod"}}),
], ids=["docker", "pod-dict", "pod-V1EnvVar", "bash", "task.docker", "task.kubernetes"])
def test_every_env_argument_moves_the_literal_to_the_secret(operator, python, args):
    kfp = _map(operator, python=python, **args)
    _assert_from_secret(kfp, "LOADER_API_KEY")
    assert kfp.env == {"STAGE": "prod"}


def test_numbers_are_literals_too_and_names_share_one_secret():
    kfp = _map(DOCKER, image="a:1", environment={"DB_PASSWORD": 1234, "API_TOKEN": "t"})
    assert kfp.env == {}
    assert kfp.secret_env == [SecretEnv(secret_name="sales-etl-env",
                                        key_to_env={"DB_PASSWORD": "DB_PASSWORD", "API_TOKEN": "API_TOKEN"})]
    assert sorted(f.code for f in kfp.findings) == ["M246", "M246"]


def test_private_environment_keeps_its_own_secret():
    kfp = _map(DOCKER, image="a:1", environment={"DB_PASSWORD": SECRET}, private_environment={"B": "x"})
    assert {s.secret_name for s in kfp.secret_env} == {"sales-etl-env", "sales-etl-t-env"}


def test_templates_xcoms_and_unknown_values_keep_the_plain_path():
    kfp = _map(BASH, bash_command="true", env={
        "DB_PASSWORD": "{{ var.value.db_password }}",  # a pipeline parameter / M245, as before
        "API_TOKEN": Symbolic(source="os.environ['API_TOKEN']"),  # unknown statically: M205, as before
        "SERVICE_TOKEN": TaskRef(task_id="fetch"),  # an XCom under a secret name: its own Secret (M290)
        "EMPTY_PASSWORD": "",  # nothing to protect
    })
    assert "M246" not in [f.code for f in kfp.findings]
    assert [(s.secret_name, s.key_to_env) for s in kfp.secret_env] == [
        ("sales-etl-fetch", {"SERVICE_TOKEN": "SERVICE_TOKEN"})]
    assert kfp.env["API_TOKEN"] == "os.environ['API_TOKEN']"
    assert kfp.env["EMPTY_PASSWORD"] == ""
    assert "SERVICE_TOKEN" not in kfp.env
    assert {"M205", "M290"} <= {f.code for f in kfp.findings}


def test_connection_templates_still_become_connection_secrets():
    kfp = _map(DOCKER, image="a:1", environment={"API_TOKEN": "{{ conn.finance_api.password }}"})
    assert "M246" not in [f.code for f in kfp.findings]
    assert [s.key_to_env for s in kfp.secret_env] == [{"password": "API_TOKEN"}]


DAG = textwrap.dedent(f'''
    from airflow import DAG
    from airflow.providers.docker.operators.docker import DockerOperator
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from kubernetes.client import models as k8s

    with DAG("secret_env_demo", schedule=None):
        load = DockerOperator(task_id="load", image="etl:1.0",
                              environment={{"LOADER_API_KEY": "{SECRET}-docker", "STAGE": "prod",
                                           "API_TOKEN": "{{{{ var.value.api_token }}}}"}})
        train = KubernetesPodOperator(task_id="train", image="t:1",
                                      env_vars=[k8s.V1EnvVar(name="WANDB_API_KEY", value="{SECRET}-pod")])
        score = KubernetesPodOperator(task_id="score", image="t:1", env_vars={{"DB_PASSWORD": "{SECRET}-dict"}})
        dump = BashOperator(task_id="dump", bash_command="echo hi", env={{"SERVICE_TOKEN": "{SECRET}-bash"}})
        load >> train >> score >> dump
''')


def test_convert_writes_the_value_nowhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("dags").mkdir()
    Path("dags/secret_env_demo.py").write_text(DAG)
    assert main(["convert", "dags", "-o", "out"]) == 0
    assert main(["report", "out/report.json", "-o", "out/report.sarif"]) == 0
    outputs = sorted(p for p in Path("out").rglob("*") if p.is_file())
    names = {p.relative_to("out").as_posix() for p in outputs}
    assert {"report.json", "report.html", "report.md", "report.sarif", "secret_env_demo/pipeline.py",
            "secret_env_demo/pipeline.yaml"} <= names
    for path in outputs:
        assert SECRET not in path.read_text(encoding="utf-8"), path
    code = Path("out/secret_env_demo/pipeline.py").read_text()
    for name in ("LOADER_API_KEY", "WANDB_API_KEY", "DB_PASSWORD", "SERVICE_TOKEN"):
        assert f'secret_key_to_env={{"{name}": "{name}"}}' in code
        assert f'set_env_variable(name="{name}"' not in code
    assert 'set_env_variable(name="STAGE", value="prod")' in code
    spec = list(yaml.safe_load_all(Path("out/secret_env_demo/pipeline.yaml").read_text()))
    platform = spec[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    env_secrets = [s for e in platform.values() for s in e.get("secretAsEnv", [])]
    assert {s["secretName"] for s in env_secrets} == {"secret-env-demo-env"}
    assert "M246" in Path("out/report.md").read_text()
    graph = json.loads(Path("out/report.json").read_text())["dags"][0]["graph"]
    load = next(t for t in graph["tasks"] if t["task_id"] == "load")
    assert load["args"]["environment"]["API_TOKEN"] == "{{ var.value.api_token }}"  # a template is no secret
    assert load["args"]["environment"]["LOADER_API_KEY"] == {"$symbolic": "<redacted by af2kfp>"}
    assert "V1EnvVar(name=\"WANDB_API_KEY\", value=\"&lt;redacted by af2kfp&gt;\")" in Path("out/report.html").read_text()
