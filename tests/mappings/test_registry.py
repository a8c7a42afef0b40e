"""Rule lookup: built-in names, legacy aliases, user operators from config."""

from __future__ import annotations

import pytest

from af2kfp.converters.config import Config
from af2kfp.converters.errors import InputError
from af2kfp.converters.graph import DagInfo, add_edge, add_task, new_graph
from af2kfp.converters.mappings import check_config, map_graph, map_task, resolve
from af2kfp.converters.mappings.example import example_task


def test_aliases_resolve_to_the_same_rule():
    assert resolve("airflow.operators.dummy_operator.DummyOperator", Config())[0] == "EmptyOperator"
    assert resolve("airflow.operators.bash_operator.BashOperator", Config())[0] == "BashOperator"
    assert resolve("some.Other", Config())[0] == "unsupported"


def test_user_operator_maps_through_config_with_an_info_finding():
    config = Config(operators={"acme.ops.TeamPodOperator": "KubernetesPodOperator"})
    task = example_task("acme.ops.TeamPodOperator", "t", image="a:1", cmds=["run"])
    kfp, _ = map_task(task, dag_id="d", config=config)
    assert kfp.image == "a:1" and kfp.command == ["run"] and kfp.rule == "KubernetesPodOperator"
    assert [f.code for f in kfp.findings] == ["M216"]
    assert kfp.fate == "converted"


def test_unknown_rule_in_config_is_an_input_error():
    with pytest.raises(InputError, match="NoSuchRule"):
        check_config(Config(operators={"a.B": "NoSuchRule"}, source="pyproject.toml"))


def test_empty_operator_folds_predecessors_times_successors():
    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    for task_id, op in [("a", "BashOperator"), ("b", "BashOperator"), ("join", "EmptyOperator"),
                        ("c", "BashOperator"), ("d", "BashOperator")]:
        qual = f"airflow.providers.standard.operators.{'bash' if op == 'BashOperator' else 'empty'}.{op}"
        add_task(graph, example_task(qual, task_id, bash_command="true") if op == "BashOperator" else example_task(qual, task_id))
    for up, down in [("a", "join"), ("b", "join"), ("join", "c"), ("join", "d")]:
        add_edge(graph, up, down)
    mapped = map_graph(graph)
    assert mapped.edges == [("a", "c"), ("a", "d"), ("b", "c"), ("b", "d")]
    assert mapped.fates == {"a": "converted", "b": "converted", "join": "folded", "c": "converted", "d": "converted"}


def test_private_environment_values_never_reach_the_output():
    from af2kfp.converters.emit import render_pipeline

    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    add_task(graph, example_task("airflow.providers.docker.operators.docker.DockerOperator", "t", image="a:1",
                                 private_environment={"TOKEN": "s3cr3t-value"}))
    mapped = map_graph(graph)
    code = render_pipeline(mapped).code
    assert "s3cr3t-value" not in code
    assert "s3cr3t-value" not in repr(mapped.findings)
    assert 'secret_key_to_env={"TOKEN": "TOKEN"}' in code


def test_parameter_takes_what_its_producer_outputs_whatever_its_annotation():
    from af2kfp.converters.graph import PythonCallable
    from af2kfp.converters.values import TaskRef

    # Airflow never converts an XCom to the annotation: the body gets the producer's value as is.
    use = PythonCallable(name="use", source="def use(n: float):\n    return n\n", file="f.py", line=1)
    task = example_task("airflow.sdk.task", "use", python=use, call_kwargs={"n": TaskRef(task_id="make")})
    kfp, _ = map_task(task, dag_id="d", config=Config(), producers={"make": "int"})
    assert kfp.python.code.startswith("def __AF2KFP_NAME__(n: int) -> int:\n")
    assert kfp.findings == []
    kfp, _ = map_task(task, dag_id="d", config=Config(), producers={"make": "json"})
    assert kfp.python.code.startswith("def __AF2KFP_NAME__(n: str) -> str:\n    import json\n")
    assert "    n = json.loads(n)\n" in kfp.python.code and "    return json.dumps(n)\n" in kfp.python.code
    assert kfp.findings == []


def test_analyzer_warning_on_a_task_makes_it_review():
    from af2kfp.converters.findings import Finding, Severity

    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    add_task(graph, example_task("airflow.providers.standard.operators.bash.BashOperator", "t", bash_command="true"))
    graph.graph["findings"].append(Finding(code="A199", severity=Severity.WARNING, message="m", suggestion="s",
                                           file="f.py", line=2, dag_id="d", task_id="t"))
    assert map_graph(graph).fates == {"t": "review"}


def test_cycle_edge_dropped_with_a_finding_and_pipeline_still_compiles():
    from af2kfp.converters.emit import compile_pipeline, render_pipeline

    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    for i, task_id in enumerate(["a", "b"]):
        task = example_task("airflow.providers.standard.operators.bash.BashOperator", task_id, bash_command="true")
        task.line = i + 2
        add_task(graph, task)
    add_edge(graph, "a", "b")
    add_edge(graph, "b", "a")
    mapped = map_graph(graph)
    assert mapped.edges == [("a", "b")]
    assert [f.code for f in mapped.findings] == ["M224"]
    assert mapped.fates == {"a": "review", "b": "converted"}
    emitted = render_pipeline(mapped)
    assert compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="d", file="f.py").findings == []


def test_untranslatable_jinja_in_taskflow_call_arguments_is_flagged():
    from af2kfp.converters.graph import PythonCallable

    fn = PythonCallable(name="f", source="def f(day):\n    print(day)\n", file="f.py", line=1)
    task = example_task("airflow.sdk.task", "f", python=fn, call_kwargs={"day": "{{ ti.try_number }}"})
    kfp, _ = map_task(task, dag_id="d", config=Config())
    assert [f.code for f in kfp.findings] == ["M240"] and "`day`" in kfp.findings[0].message


def test_lambda_callable_becomes_a_component_and_messages_stay_one_line():
    from af2kfp.converters.graph import PythonCallable
    from af2kfp.converters.values import Symbolic

    fn = PythonCallable(name="<lambda>", source="lambda x=1: print('hi', x)", file="f.py", line=1)
    task = example_task("airflow.providers.standard.operators.python.PythonOperator", "t", python=fn,
                        python_callable=Symbolic(source="<lambda>"), op_kwargs={"x": Symbolic(source="compute(\n  1)")})
    kfp, _ = map_task(task, dag_id="d", config=Config())
    assert kfp.kind == "python"
    assert "def __AF2KFP_NAME__(x: int = 1):\n    return print(\"hi\", x)" in kfp.python.code.replace("'", '"')
    assert all("\n" not in f.message for f in kfp.findings)


def test_async_callable_runs_with_asyncio_run(tmp_path):
    import subprocess
    import sys

    from af2kfp.converters.graph import PythonCallable

    source = 'async def nap(seconds: float, tag="x") -> str:\n    """Sleep."""\n    await asyncio.sleep(seconds)\n    return f"{tag}:{seconds}"\n'
    fn = PythonCallable(name="nap", source=source, file="f.py", line=1, imports=["import asyncio"])
    task = example_task("airflow.sdk.task", "nap", python=fn, call_kwargs={"seconds": 0.01})
    kfp, _ = map_task(task, dag_id="d", config=Config())
    assert kfp.kind == "python" and kfp.findings == []
    code = kfp.python.code.replace("__AF2KFP_NAME__", "nap_component")
    assert code.startswith("def nap_component(seconds: float, tag: str = 'x') -> str:\n    \"\"\"Sleep.\"\"\"\n    import asyncio\n\n    async def nap(")
    script = tmp_path / "run.py"
    script.write_text(code + "\nprint(nap_component(0.01))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "x:0.01", done.stderr


def test_external_python_maps_with_its_interpreter_flagged():
    from af2kfp.converters.graph import PythonCallable

    fn = PythonCallable(name="f", source="def f():\n    return 1\n", file="f.py", line=1)
    task = example_task("airflow.providers.standard.operators.python.ExternalPythonOperator", "t", python=fn,
                        python_callable="f")
    task.args["python"] = "/opt/venv/bin/python"  # the operator's interpreter path
    kfp, _ = map_task(task, dag_id="d", config=Config())
    assert kfp.kind == "python" and [f.code for f in kfp.findings] == ["M202"]


def test_extra_kwargs_go_into_the_kwargs_dict_and_non_plain_values_are_flagged():
    from af2kfp.converters.graph import PythonCallable
    from af2kfp.converters.values import Duration, TaskRef

    fn = PythonCallable(name="f", source="def f(a, **kwargs):\n    print(a, kwargs)\n", file="f.py", line=1)
    task = example_task("airflow.providers.standard.operators.python.PythonOperator", "t", python=fn,
                        python_callable="f", op_kwargs={"a": {"when": Duration(seconds=5)}, "b": 2, "c": [1, "x"]})
    kfp, _ = map_task(task, dag_id="d", config=Config())
    assert kfp.arguments["kwargs"] == {"b": 2, "c": [1, "x"]}  # and the context, printed whole: M210 lists it
    assert 'kwargs = {\n        **kwargs,\n        "ds": ds,' in kfp.python.code
    assert sorted(f.code for f in kfp.findings) == ["M205", "M210"]
    bad = example_task("airflow.providers.standard.operators.python.PythonOperator", "u", python=fn,
                       python_callable="f", op_kwargs={"a": 1, "b": TaskRef(task_id="x")})
    kfp, _ = map_task(bad, dag_id="d", config=Config())
    assert kfp.arguments["a"] == 1 and "kwargs" not in kfp.arguments
    assert sorted(f.code for f in kfp.findings) == ["M205", "M210"]
