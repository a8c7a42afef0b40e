"""Emitted pipeline.py against the real kfp compiler: structure, platform config, safety."""

from __future__ import annotations

import black
import pytest
import yaml
from kfp import components

from af2kfp.converters.emit import compile_pipeline, render_pipeline, yaml_tasks
from af2kfp.converters.emit.safety import check_module
from af2kfp.converters.graph import DagInfo, PythonCallable, add_edge, add_task, new_graph
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.values import Call, Duration, TaskRef

KPO = "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"
DOCKER = "airflow.providers.docker.operators.docker.DockerOperator"
BASH = "airflow.providers.standard.operators.bash.BashOperator"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
MARKER = "/tmp/af2kfp-must-not-exist"

MALICIOUS = PythonCallable(
    name="evil",
    source=(
        f"@some_decorator(open({MARKER!r}, 'w'))\n"
        f"def evil(path: open({MARKER!r}, 'w') = open({MARKER!r}, 'w')) -> open({MARKER!r}, 'w'):\n"
        f'    open("{MARKER}", "w").write("pwned")\n'
        "    return str(path)\n"
    ),
    file="dags/evil.py",
    line=3,
    imports=["import os", f"open({MARKER!r}, 'w')"],
)
PRODUCE = PythonCallable(name="produce", source='def produce() -> dict:\n    return {"n": 1}\n', file="dags/etl.py", line=9)
CONSUME = PythonCallable(name="consume", source="def consume(rows):\n    print(rows)\n", file="dags/etl.py", line=12)


def _task(op, task_id, line, **kwargs):
    task = example_task(op, task_id, **kwargs)
    task.file, task.line = "dags/etl.py", line
    return task


@pytest.fixture(scope="module")
def graph():
    g = new_graph(DagInfo(dag_id="etl.daily", file="dags/etl.py", line=1, description="Daily ETL"))
    add_task(g, _task(EMPTY, "start", 2))
    add_task(g, _task(DOCKER, "ingest.extract", 3, image="etl:1", command="python extract.py --day 1",
                      environment={"STAGE": "prod"}))
    add_task(g, _task(KPO, "ingest.train", 4, image="trainer:2", cmds=["python"], arguments=["-m", "train"],
                      env_vars=[Call(func="kubernetes.client.V1EnvVar", kwargs={"name": "MODE", "value": "full"})],
                      secrets=[Call(func="airflow.providers.cncf.kubernetes.secret.Secret",
                                    kwargs={"deploy_type": "volume", "deploy_target": "/etc/creds", "secret": "creds"})],
                      container_resources=Call(func="k8s.V1ResourceRequirements",
                                               kwargs={"limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": 1}}),
                      volumes=[Call(func="k8s.V1Volume", kwargs={"name": "cfg", "config_map": Call(
                          func="k8s.V1ConfigMapVolumeSource", kwargs={"name": "train-cfg"})}),
                               Call(func="k8s.V1Volume", kwargs={"name": "tmp", "empty_dir": Call(
                                   func="k8s.V1EmptyDirVolumeSource", kwargs={})})],
                      volume_mounts=[Call(func="k8s.V1VolumeMount", kwargs={"name": "cfg", "mount_path": "/cfg"}),
                                     Call(func="k8s.V1VolumeMount", kwargs={"name": "tmp", "mount_path": "/tmp"})],
                      retries=1, retry_delay=Duration(seconds=30), execution_timeout=Duration(seconds=600)))
    add_task(g, _task("airflow.sdk.task", "produce", 9, python=PRODUCE))
    add_task(g, _task("airflow.sdk.task", "consume", 12, python=CONSUME, call_kwargs={"rows": TaskRef(task_id="produce")}))
    add_task(g, _task("airflow.sdk.task", "evil", 14, python=MALICIOUS))
    add_task(g, _task(BASH, "report", 16, bash_command="echo done"))
    add_task(g, _task("acme.Unknown", "mystery", 18))
    for up, down in [("start", "ingest.extract"), ("start", "ingest.train"), ("ingest.extract", "produce"),
                     ("ingest.train", "produce"), ("consume", "report"), ("evil", "report"), ("report", "mystery")]:
        add_edge(g, up, down)
    add_edge(g, "produce", "consume", kind="data")
    return g


@pytest.fixture(scope="module")
def emitted(graph):
    mapped = map_graph(graph)
    return mapped, render_pipeline(mapped)


@pytest.fixture(scope="module")
def compiled(emitted, tmp_path_factory):
    _, pipeline = emitted
    result = compile_pipeline(pipeline.code, pipeline.names.pipeline, dag_id="etl.daily", file="dags/etl.py")
    assert result.findings == []
    path = tmp_path_factory.mktemp("yaml") / "pipeline.yaml"
    path.write_text(result.yaml)
    return result.yaml, path


def test_code_is_idiomatic_and_black_stable(emitted):
    _, pipeline = emitted
    code = pipeline.code
    assert black.format_str(code, mode=black.Mode()) == code
    assert "from kfp import compiler, dsl" in code and "from kfp import kubernetes" in code
    assert '@dsl.pipeline(name="etl-daily", description="Daily ETL")' in code
    assert "# Airflow: dags/etl.py:3 ingest.extract (DockerOperator)" in code
    assert 'set_display_name("ingest.extract")' in code
    assert code.count(".set_caching_options(False)") == 7
    assert 'if __name__ == "__main__":' in code and 'with_name("pipeline.yaml")' in code
    assert check_module(code) == []


def test_compiled_yaml_loads_and_dependencies_match_the_folded_graph(emitted, compiled):
    mapped, _ = emitted
    text, path = compiled
    assert components.load_component_from_file(str(path)) is not None
    display, edges = yaml_tasks(text)
    assert set(display) == {t.task_id for t in mapped.tasks}
    expected = sorted((display[u], display[v]) for u, v in mapped.edges)
    assert edges == expected
    assert ("ingest.extract", "produce") in mapped.edges and ("start", "ingest.extract") not in mapped.edges


def test_images_commands_args_env_survive(compiled):
    text, _ = compiled
    spec = next(yaml.safe_load_all(text))
    executors = spec["deploymentSpec"]["executors"]
    containers = {name: body["container"] for name, body in executors.items()}
    extract = next(c for c in containers.values() if c["image"] == "etl:1")
    assert extract["args"] == ["python", "extract.py", "--day", "1"] and "command" not in extract
    assert extract["env"] == [{"name": "STAGE", "value": "prod"}]
    train = next(c for c in containers.values() if c["image"] == "trainer:2")
    assert train["command"] == ["python"] and train["args"] == ["-m", "train"]
    assert train["resources"]["accelerator"]["resourceType"] == "nvidia.com/gpu"
    assert train["resources"]["resourceCpuLimit"] == "2"
    bash = next(c for c in containers.values() if c["image"] == "bash:5.2" and c["command"] == ["bash", "-c"])
    assert bash["args"] == ["echo done"]


def test_kubernetes_platform_config_present(compiled):
    text, _ = compiled
    platform = list(yaml.safe_load_all(text))[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    train = next(body for body in platform.values() if "secretAsVolume" in body)
    assert train["secretAsVolume"][0]["secretName"] == "creds"
    assert train["configMapAsVolume"][0]["configMapName"] == "train-cfg"
    assert train["emptyDirMounts"][0]["mountPath"] == "/tmp"
    assert train["activeDeadlineSeconds"] == "600"


def test_user_code_is_not_run_at_compile_time(emitted, compiled):
    import os

    _, pipeline = emitted
    assert not os.path.exists(MARKER)
    assert "some_decorator" not in pipeline.code
    assert "def evil() -> str:" in pipeline.code or "def evil(path: str" in pipeline.code


def test_safety_check_rejects_injected_module_code():
    code = "from kfp import dsl\nimport os\nos.system('x')\n@dsl.pipeline(name='p')\ndef p(x: str = open('f')):\n    open('f')\n"
    problems = check_module(code)
    assert any("Import at module level" in p for p in problems)
    assert any("Expr at module level" in p for p in problems)
    assert any("default" in p for p in problems)
    assert any("unknown name open" in p for p in problems)
    result = compile_pipeline(code, "p", dag_id="p", file="f.py")
    assert result.yaml is None and result.findings[0].code == "E302"


def test_compile_failure_is_a_finding_not_a_crash():
    code = (
        "from kfp import dsl\n\n\n@dsl.component(base_image='python:3.11')\ndef a() -> dict:\n    return {}\n\n\n"
        "@dsl.component(base_image='python:3.11')\ndef b(x: int):\n    pass\n\n\n"
        "@dsl.pipeline(name='p')\ndef p():\n    t = a()\n    b(x=t.output)\n"
    )
    result = compile_pipeline(code, "p", dag_id="p", file="f.py", line=3)
    assert result.yaml is None
    assert result.findings[0].code == "E301" and result.findings[0].line == 3


@pytest.mark.parametrize("dag_id", ["str", 'd"); import os  #\nx'])
def test_hostile_ids_and_strings_stay_data(dag_id):
    g = new_graph(DagInfo(dag_id=dag_id, file="dags/a\nimport os.py", line=1, description='"""\nimport os'))
    ids = ['t"); os.system("x', "g.t\nimport os", "class", "1st", "<script>alert(1)</script>", "ünï.cödé", "str", "Path"]
    for i, task_id in enumerate(ids):
        add_task(g, example_task(BASH, task_id, bash_command=f'echo "{task_id}" $HOME \\\n'))
    add_edge(g, ids[0], ids[1])
    mapped = map_graph(g)
    emitted = render_pipeline(mapped)
    assert check_module(emitted.code) == []
    assert black.format_str(emitted.code, mode=black.Mode()) == emitted.code
    assert "\nimport os" not in emitted.code
    result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id=dag_id, file="a.py")
    assert result.findings == []
    display, edges = yaml_tasks(result.yaml)
    assert (display, edges) == (result.display, result.edges)
    assert set(display) == set(ids)
    assert edges == [(display[ids[0]], display[ids[1]])]
    assert len(set(display.values())) == len(ids)


def test_back_to_back_modules_of_the_same_size_compile_their_own_source():
    """Generated modules share one file per process: kfp must read each one's own source."""
    texts = []
    for word in ("alpha", "bravo"):
        fn = PythonCallable(name="say", source=f'def say() -> str:\n    return "{word}"\n', file="d.py", line=1)
        g = new_graph(DagInfo(dag_id="same", file="d.py", line=1))
        add_task(g, _task("airflow.sdk.task", "say", 2, python=fn))
        emitted = render_pipeline(map_graph(g))
        result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="same", file="d.py")
        assert result.findings == []
        texts.append(result.yaml)
    assert len(texts[0]) == len(texts[1])
    assert "alpha" in texts[0] and "bravo" not in texts[0]
    assert "bravo" in texts[1] and "alpha" not in texts[1]


def test_long_imports_moved_into_a_component_are_split_as_black_splits_them():
    names = ", ".join(f"name_number_{i}" for i in range(12))
    fn = PythonCallable(name="use", source="def use():\n    print(name_number_0)\n", file="d.py", line=1,
                        imports=[f"from some.long.module.path import {names}"])
    g = new_graph(DagInfo(dag_id="imports", file="d.py", line=1))
    add_task(g, _task("airflow.sdk.task", "use", 2, python=fn))
    code = render_pipeline(map_graph(g)).code
    assert "    from some.long.module.path import (\n        name_number_0,\n" in code
    assert "        name_number_11,\n    )\n\n    print(name_number_0)\n" in code
    assert black.format_str(code, mode=black.Mode()) == code
