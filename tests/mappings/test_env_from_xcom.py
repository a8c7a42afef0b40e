"""Environment fed from another task's XCom (item 6 of issue 9): a Kubernetes Secret for secret values,
a ``sh -c`` wrapper exporting a task input for others, a finding for what neither can carry; never dropped.

End to end: the DAG is converted and compiled by the real kfp compiler; the wrapper's command line is
taken from the compiled pipeline.yaml and run by ``sh`` as the container would run it."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
import yaml

from af2kfp.converters.convert import convert_paths
from af2kfp.converters.mappings.env_xcom import returned_keys, subscripted_xcom
from af2kfp.converters.mappings.values import is_secret_env
from af2kfp.converters.values import TaskRef

DAG = """
    from airflow.sdk import DAG, task
    from airflow.providers.docker.operators.docker import DockerOperator
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    with DAG("env_from_xcom", schedule=None):
        @task
        def load_secrets() -> dict:
            return {"DB_URL": "postgres://u:p@db/x", "API_TOKEN": "t0k"}

        @task
        def pick_partition() -> str:
            return "2024-01-01"

        @task
        def settings() -> dict:
            return {"MODE": "full"}

        secrets = load_secrets()
        part = pick_partition()
        DockerOperator(task_id="load", image="etl:1", command=["python", "load.py"], environment=secrets)
        DockerOperator(
            task_id="export", image="etl:1", entrypoint=["python"], command=["export.py"],
            environment={"DB_URL": "{{ ti.xcom_pull('load_secrets')['DB_URL'] }}", "PARTITION": part,
                         "GOOGLE_APPLICATION_CREDENTIALS": "/var/secrets/google/key.json"},
        )
        KubernetesPodOperator(task_id="report", name="report", image="busybox:1.36", cmds=["env"],
                              env_vars={"PARTITION": "{{ ti.xcom_pull(task_ids='pick_partition') }}", "MODE": "full"})
        KubernetesPodOperator(task_id="no_cmd", name="no_cmd", image="busybox:1.36", arguments=["x"],
                              env_vars={"PARTITION": part})
        KubernetesPodOperator(task_id="plain_dict", name="plain_dict", image="busybox:1.36", cmds=["env"],
                              env_vars=settings())
"""


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("envx")
    (root / "dags").mkdir()
    (root / "dags" / "env_from_xcom.py").write_text(textwrap.dedent(DAG), encoding="utf-8")
    report = convert_paths([root / "dags"], root / "out")
    return root / "out", report


def _findings(report, task_id):
    return sorted(f["code"] for f in report["findings"] if f["task_id"] == task_id and f["code"] != "M203")


def _kfp_task(report, task_id):
    return next(t for t in report["dags"][0]["kfp"]["tasks"] if t["display_name"] == task_id)


def test_every_variable_has_a_way_or_a_finding(converted):
    _, report = converted
    assert report["summary"]["compiled"] == 1
    assert _findings(report, "load") == ["M290"]
    assert _findings(report, "export") == ["M290", "M291", "M293"]
    assert _findings(report, "report") == ["M291"]
    assert _findings(report, "no_cmd") == ["M292"]
    assert _findings(report, "plain_dict") == ["M292"]
    fates = {t["task_id"]: t["fate"] for t in report["dags"][0]["airflow"]["tasks"]}
    assert fates["report"] == "converted" and fates["load"] == fates["no_cmd"] == "review"


def test_secret_values_come_from_a_secret_with_the_known_keys(converted):
    out, report = converted
    assert _kfp_task(report, "load")["secrets"] == ["env-from-xcom-load-secrets"]
    code = (out / "env_from_xcom" / "pipeline.py").read_text()
    assert 'secret_key_to_env={"DB_URL": "DB_URL", "API_TOKEN": "API_TOKEN"}' in code
    assert 'secret_key_to_env={"DB_URL": "DB_URL"}' in code
    finding = next(f for f in report["findings"] if f["code"] == "M290" and f["task_id"] == "load")
    assert finding["suggestion"].startswith("kubectl create secret generic env-from-xcom-load-secrets ")
    assert "--from-literal=DB_URL=" in finding["suggestion"] and "--from-literal=API_TOKEN=" in finding["suggestion"]


def test_credential_file_path_stays_an_environment_variable(converted):
    _, report = converted
    assert _kfp_task(report, "export")["env"] == {"GOOGLE_APPLICATION_CREDENTIALS": "/var/secrets/google/key.json"}
    assert is_secret_env("GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/google/key.json") is False
    assert is_secret_env("DB_PASSWORD", "hunter2") is True


def test_the_wrapper_exports_the_input_before_the_command(converted):
    out, _ = converted
    spec = next(yaml.safe_load_all((out / "env_from_xcom" / "pipeline.yaml").read_text()))
    container = spec["deploymentSpec"]["executors"]["exec-report"]["container"]
    line = [item.replace("{{$.inputs.parameters['input_1']}}", "2024-01-01 and more")
            for item in container["command"] + container["args"]]
    done = subprocess.run(line, capture_output=True, text=True, timeout=30, check=True, env={"PATH": "/usr/bin:/bin"})
    assert "PARTITION=2024-01-01 and more" in done.stdout.splitlines()
    assert spec["root"]["dag"]["tasks"]["report"]["inputs"]["parameters"]["input_1"]["taskOutputParameter"] == {
        "outputParameterKey": "Output", "producerTask": "pick-partition"}


@pytest.mark.parametrize("text,ref", [
    ("{{ ti.xcom_pull('load')['DB_URL'] }}", TaskRef(task_id="load", key="DB_URL")),
    ('{{ task_instance.xcom_pull(task_ids="load").get("K") }}', TaskRef(task_id="load", key="K")),
    ("{{ ti.xcom_pull('load') }}", None),
    ("x {{ ti.xcom_pull('load')['K'] }}", None),
])
def test_subscripted_xcom_templates(text, ref):
    assert subscripted_xcom(text) == ref


def test_returned_keys_only_when_every_return_is_a_literal_dict():
    assert returned_keys("def f():\n    if x:\n        return {'A': 1}\n    return {'B': 2}\n") == ("A", "B")
    assert returned_keys("def f():\n    return build()\n") is None
    assert returned_keys("def f():\n    return {k: 1 for k in 'ab'}\n") is None
