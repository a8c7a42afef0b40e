"""A BashOperator whose XCom (last stdout line) feeds a Python task: a real KFP output."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.graph import DagInfo, PythonCallable, add_edge, add_task, new_graph
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.mappings.bash import XCOM_WRAPPER
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.values import TaskRef

BASH = "airflow.providers.standard.operators.bash.BashOperator"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_wrapper_runs_the_command_and_writes_the_last_line(tmp_path):
    out = tmp_path / "outputs" / "xcom"
    script = XCOM_WRAPPER.format(command="echo first; echo 'last line'")
    done = subprocess.run(["bash", "-c", script, str(out)], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0
    assert done.stdout == "first\nlast line\n"
    assert out.read_text() == "last line"
    failed = subprocess.run(["bash", "-c", XCOM_WRAPPER.format(command="echo x; exit 3"), str(out)], timeout=10)
    assert failed.returncode == 3


def test_bash_output_wired_into_python_consumer():
    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    add_task(graph, example_task(BASH, "latest", bash_command="echo s3://bucket/x"))
    use = PythonCallable(name="use", source="def use(path):\n    print(path)\n", file="f.py", line=3)
    add_task(graph, example_task("airflow.sdk.task", "use", python=use, call_kwargs={"path": TaskRef(task_id="latest")}))
    add_edge(graph, "latest", "use", kind="data")
    mapped = map_graph(graph)
    assert [f.code for f in mapped.findings] == []
    emitted = render_pipeline(mapped)
    assert "def latest(xcom: dsl.OutputPath(str)):" in emitted.code
    assert "use(path=latest_task.output)" in emitted.code
    result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="d", file="f.py")
    assert result.findings == []
    spec = next(yaml.safe_load_all(result.yaml))
    consumer = spec["root"]["dag"]["tasks"]["use"]
    assert consumer["inputs"]["parameters"]["path"]["taskOutputParameter"] == {"outputParameterKey": "xcom", "producerTask": "latest"}
