"""Module-level constants and ``ti.xcom_pull(task_ids=...)`` in a Python callable are converted.

Unit: the analyzer collects only literal, singly bound module constants the body reads;
the python rule copies them into the component and turns convertible ``xcom_pull``
calls into inputs. End to end: a DAG file is converted, compiled by the real KFP
compiler and run with ``kfp.local``; the callable writes what it saw to a file.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

from af2kfp.bridge.cli import main
from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.graph import DagInfo, PythonCallable, add_edge, add_task, graph_from_json, graph_to_json, new_graph, tasks
from af2kfp.converters.mappings import map_graph, map_task
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.mappings.model import Input

PYTHON = "airflow.providers.standard.operators.python.PythonOperator"

CONSTANTS_DAG = '''
import json
from datetime import datetime
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

MIN_AUC_GAIN = 0.002
LABELS: tuple = ("a", "b")
LIMITS = {
    "low": -1,
    "high": MIN_AUC_GAIN * 10,
}
DERIVED = LIMITS
UNUSED = 42
COMPUTED = len("abc")
TWICE = 1
TWICE = 2
CHANGED = 1
if datetime:
    INSIDE_IF = 3


def bump():
    global CHANGED
    CHANGED = 5


def as_text(value) -> str:
    return json.dumps(value, sort_keys=True)


def factorial(n: int = 3) -> int:
    return 1 if n <= 1 else n * factorial(n - 1)


def reads_computed():
    return COMPUTED


def cached(fn):
    return fn


@cached
def decorated():
    return 1


def check():
    local = 1
    unknown = (COMPUTED, TWICE, CHANGED, INSIDE_IF, reads_computed(), decorated())
    return MIN_AUC_GAIN, LABELS, DERIVED, as_text(LIMITS), factorial(), local


with DAG("constants", schedule=None, start_date=datetime(2024, 1, 1)):
    PythonOperator(task_id="check", python_callable=check)
'''


def _analyzed(tmp_path: Path, text: str, name: str = "dag.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    analysis = analyze_paths([path], config=Config())
    assert len(analysis.graphs) == 1, analysis.findings
    return analysis.graphs[0]


def test_analyzer_collects_literal_constants_the_body_reads(tmp_path):
    graph = _analyzed(tmp_path, CONSTANTS_DAG)
    (check,) = tasks(graph)
    assert check.python is not None
    assert check.python.constants == {
        "MIN_AUC_GAIN": "MIN_AUC_GAIN = 0.002",
        "LABELS": 'LABELS: tuple = ("a", "b")',
        "LIMITS": 'LIMITS = {\n    "low": -1,\n    "high": MIN_AUC_GAIN * 10,\n}',
        "DERIVED": "DERIVED = LIMITS",
        "COMPUTED": 'COMPUTED = len("abc")',
        "as_text": "def as_text(value) -> str:\n    return json.dumps(value, sort_keys=True)",
        "factorial": "def factorial(n: int = 3) -> int:\n    return 1 if n <= 1 else n * factorial(n - 1)",
        "reads_computed": "def reads_computed():\n    return COMPUTED",
    }
    assert graph_to_json(graph_from_json(graph_to_json(graph))) == graph_to_json(graph)


def test_constants_are_copied_and_other_module_names_stay_flagged(tmp_path):
    graph = _analyzed(tmp_path, CONSTANTS_DAG)
    (check,) = tasks(graph)
    kfp, ctx = map_task(check, dag_id="constants", config=Config())
    assert kfp is not None and kfp.python is not None
    code = kfp.python.code
    assert code.startswith("def __AF2KFP_NAME__() -> str:\n    import json\n\n    MIN_AUC_GAIN = 0.002\n")
    assert code.endswith(  # the tuple travels as JSON text; too long for one line, split as black splits it
        "    return json.dumps(\n        (MIN_AUC_GAIN, LABELS, DERIVED, as_text(LIMITS), factorial(), local)\n    )\n")
    order = ["MIN_AUC_GAIN = 0.002", "LIMITS = {", "DERIVED = LIMITS", "def as_text(", "def factorial(", "local = 1"]
    assert [code.index(text) for text in order] == sorted(code.index(text) for text in order)
    assert "UNUSED" not in code and "def decorated" not in code
    assert '    COMPUTED = len("abc")\n' in code and "    def reads_computed():\n" in code  # as a worker computes it
    (flag,) = [f for f in ctx.findings if f.code == "M212"]
    assert flag.message.endswith("uses names defined outside it: CHANGED, INSIDE_IF, TWICE, decorated")


def test_copied_definitions_behave_as_in_the_module(tmp_path):
    graph = _analyzed(tmp_path, CONSTANTS_DAG.replace(
        "    unknown = (COMPUTED, TWICE, CHANGED, INSIDE_IF, reads_computed(), decorated())\n", ""))
    (check,) = tasks(graph)
    kfp, ctx = map_task(check, dag_id="constants", config=Config())
    assert ctx.findings == []
    namespace: dict = {}
    exec(kfp.python.code.replace("__AF2KFP_NAME__", "component"), namespace)  # generated code, not the DAG's
    assert json.loads(namespace["component"]()) == [  # the returned tuple travels as JSON text
        0.002, ["a", "b"], {"low": -1, "high": 0.02}, '{"high": 0.02, "low": -1}', 6, 1]


def _callable(source: str, constants: dict[str, str] | None = None, imports: list[str] | None = None) -> PythonCallable:
    source = textwrap.dedent(source).lstrip()
    name = source.split("(")[0].split()[-1]
    return PythonCallable(name=name, source=source, file="f.py", line=1, constants=constants or {},
                          imports=imports or [])


def _map(source: str, producers: dict[str, str] | None = None, constants: dict[str, str] | None = None,
         imports: list[str] | None = None, **args):
    python = _callable(source, constants, imports)
    task = example_task(PYTHON, "use", python=python, python_callable=python.name, **args)
    kfp, ctx = map_task(task, dag_id="d", config=Config(), producers=producers or {})
    assert kfp is not None and kfp.python is not None
    return kfp, sorted(f.code for f in ctx.findings)


def test_constant_hidden_by_a_parameter_is_not_copied():
    kfp, found = _map("def use(limit):\n    return LIMIT + limit\n", constants={"LIMIT": "LIMIT = 3"},
                      op_kwargs={"limit": 1})
    assert "    LIMIT = 3\n" in kfp.python.code and found == []
    kfp, found = _map("def use(base):\n    return DOUBLE\n", constants={"base": "base = 1", "DOUBLE": "DOUBLE = base * 2"},
                      op_kwargs={"base": 1})
    assert "DOUBLE = " not in kfp.python.code and found == ["M212"]


def test_helper_is_copied_with_its_imports_unless_the_callable_rebinds_what_it_reads():
    dump = "def dump(value):\n    return json.dumps(value)"
    kfp, found = _map("def use():\n    return dump(1)\n", constants={"dump": dump}, imports=["import json", "import os"])
    assert found == []
    assert kfp.python.code == (
        "def __AF2KFP_NAME__() -> str:\n    import json\n\n    def dump(value):\n        return json.dumps(value)\n\n"
        "    return json.dumps(dump(1))\n")
    kfp, found = _map("def use():\n    json = None\n    return dump(json)\n", constants={"dump": dump},
                      imports=["import json"])
    assert "def dump" not in kfp.python.code and found == ["M212"]


@pytest.mark.parametrize("pull", [
    'ti.xcom_pull(task_ids="scores")',
    "ti.xcom_pull('scores')",
    'ti.xcom_pull(task_ids="scores", key="return_value")',
])
def test_xcom_pull_becomes_an_input(pull):
    kfp, found = _map(f"def use(ti=None):\n    s = {pull}\n    return s['a']\n", producers={"scores": "dict"})
    assert found == []
    assert kfp.arguments == {"scores_output": Input(name="scores_output", task_id="scores")}
    assert kfp.python.params == [("scores_output", "dict", None)]
    assert kfp.python.code == ("def __AF2KFP_NAME__(scores_output: dict) -> str:\n    import json\n\n"
                               "    s = scores_output\n    return json.dumps(s['a'])\n")


@pytest.mark.parametrize("source", [
    'def use(**context):\n    return context["ti"].xcom_pull(task_ids="scores")\n',
    'def use(**kwargs):\n    return kwargs["task_instance"].xcom_pull(task_ids="scores")\n',
    'def use(task_instance):\n    return task_instance.xcom_pull(task_ids="scores")\n',
])
def test_xcom_pull_through_the_context_dict_or_task_instance(source):
    kfp, found = _map(source, producers={"scores": "int"})
    assert found == []
    assert kfp.python.code.endswith("(scores_output: int) -> int:\n    return scores_output\n")


def test_task_instance_taken_from_the_context_dict_goes_with_its_last_use():
    kfp, found = _map('def use(**kwargs):\n    # the task instance\n    t = kwargs["ti"]\n'
                      '    rows = t.xcom_pull(task_ids="scores")\n    return rows\n', producers={"scores": "int"})
    assert found == []
    assert kfp.python.code == "def __AF2KFP_NAME__(scores_output: int) -> int:\n    # the task instance\n" \
        "    rows = scores_output\n    return rows\n"
    kfp, found = _map('def use(**kwargs):\n    ti = kwargs["ti"]\n    ti.xcom_push(key="k", value=1)\n'
                      '    return ti.xcom_pull(task_ids="scores")\n', producers={"scores": "int"})
    assert found == ["M210"]
    assert '    ti = kwargs["ti"]\n    ti.xcom_push(key="k", value=1)\n    return scores_output\n' in kfp.python.code


def test_context_still_read_after_the_pulls_comes_from_the_run_context():
    kfp, found = _map('def use(ds, ti):\n    n = ti.xcom_pull(task_ids="a")\n    m = ti.xcom_pull(task_ids="a")\n'
                      '    return ds + n + m\n', producers={"a": "str"})
    assert found == []
    assert kfp.python.params == [("a_output", "str", None), ("ds", "str", None)]
    assert "n = a_output\n    m = a_output\n" in kfp.python.code
    assert kfp.arguments == {"a_output": Input(name="a_output", task_id="a"),
                             "ds": Input(name="ds", task_id=RUN_CONTEXT_ID, key="ds")}


@pytest.mark.parametrize("pull", [
    'ti.xcom_pull(task_ids=["scores", "rows"])',
    'ti.xcom_pull(["scores", "rows"], None, "return_value")',
    'ti.xcom_pull(task_ids=("scores", "rows"), dag_id=None, include_prior_dates=False)',
])
def test_a_list_of_task_ids_reads_the_list_of_their_outputs(pull):
    kfp, found = _map(f"def use(ti=None):\n    return {pull}\n", producers={"scores": "dict", "rows": "int"})
    assert found == []
    assert kfp.python.code.endswith("    return json.dumps([scores_output, rows_output])\n")  # a list: JSON text
    assert set(kfp.arguments) == {"scores_output", "rows_output"}


@pytest.mark.parametrize(("pull", "codes"), [
    ('ti.xcom_pull(task_ids="other")', ["M210"]),  # no known producer
    ('ti.xcom_pull(task_ids=["scores", "other"])', ["M210"]),  # one of them has no known producer
    ('ti.xcom_pull(task_ids="scores", key="model")', ["M210"]),  # another key
    ('ti.xcom_pull(task_ids="scores", include_prior_dates=True)', ["M210"]),
    ('ti.xcom_pull(task_ids=TASK)', ["M210", "M212"]),
    ('dag_run.xcom_pull(task_ids="scores")', ["M210"]),  # not the task instance
])
def test_other_pulls_stay_flagged(pull, codes):
    receiver = pull.split(".")[0]
    kfp, found = _map(f"def use({receiver}=None):\n    return {pull}\n", producers={"scores": "dict"})
    assert found == codes
    assert pull in kfp.python.code and kfp.arguments == {}


def test_input_name_avoids_names_in_use():
    kfp, _ = _map('def use(ti):\n    g_x_output = 1\n    return ti.xcom_pull(task_ids="g.x"), g_x_output\n',
                  producers={"g.x": "str"})
    assert kfp.arguments == {"g_x_output_2": Input(name="g_x_output_2", task_id="g.x")}


def test_unread_context_parameter_is_dropped():
    kfp, found = _map("def use(ti=None, **context):\n    return 1\n")
    assert found == [] and kfp.python.params == []


def test_producer_read_only_through_xcom_pull_gets_an_output():
    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    produce = _callable("def produce():\n    return 'v'\n")
    add_task(graph, example_task(PYTHON, "produce", python=produce, python_callable="produce"))
    use = _callable('def use(**context):\n    t = context["ti"]\n    print(t.xcom_pull(task_ids="produce"))\n')
    add_task(graph, example_task(PYTHON, "use", python=use, python_callable="use"))
    add_edge(graph, "produce", "use")
    mapped = map_graph(graph)
    assert mapped.findings == []  # produce certainly returns a str
    emitted = render_pipeline(mapped)
    assert "def produce() -> str:" in emitted.code
    assert "use(produce_output=produce_task.output)" in emitted.code
    assert "use_task.after(" not in emitted.code  # the data dependency orders them
    result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="d", file="f.py")
    assert result.findings == []


def test_bash_task_pulled_in_a_callable_gets_its_xcom_output():
    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    add_task(graph, example_task("airflow.providers.standard.operators.bash.BashOperator", "latest",
                                 bash_command="echo s3://bucket/x"))
    use = _callable('def use(ti=None):\n    print(ti.xcom_pull(task_ids="latest"))\n')
    add_task(graph, example_task(PYTHON, "use", python=use, python_callable="use"))
    add_edge(graph, "latest", "use")
    mapped = map_graph(graph)
    assert [f.code for f in mapped.findings] == []
    emitted = render_pipeline(mapped)
    assert "def use(latest_output: str):" in emitted.code
    assert "use(latest_output=latest_task.output)" in emitted.code
    assert compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="d", file="f.py").findings == []


RUN_DAG = '''
from datetime import datetime
import json
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

MIN_AUC_GAIN = 0.002
RESULT_FILE = {result!r}


def compare_models(candidate_auc: float, production_auc: float) -> dict:
    return {{"candidate": candidate_auc, "production": production_auc}}


def gain(scores: dict) -> float:
    return scores["candidate"] - scores["production"]


def choose_path(ti=None) -> str:
    scores = ti.xcom_pull(task_ids="compare_models")
    path = "promote" if gain(scores) >= MIN_AUC_GAIN else "keep"
    with open(RESULT_FILE, "w") as out:
        json.dump({{"scores": scores, "gain": MIN_AUC_GAIN, "path": path}}, out)
    return path


with DAG(dag_id="pull_and_constant", schedule=None, start_date=datetime(2024, 1, 1)):
    compare = PythonOperator(task_id="compare_models", python_callable=compare_models,
                             op_kwargs={{"candidate_auc": 0.913, "production_auc": 0.907}})
    decide = PythonOperator(task_id="decide", python_callable=choose_path)
    compare >> decide
'''


def test_converted_pipeline_runs_with_the_constant_and_the_pulled_value(tmp_path):
    from kfp import local
    from kfp.local.config import LocalExecutionConfig

    result = tmp_path / "result.json"
    dag = tmp_path / "dags" / "pull_and_constant.py"
    dag.parent.mkdir()
    dag.write_text(RUN_DAG.format(result=str(result)))
    out = tmp_path / "out"
    main(["convert", str(dag), "-o", str(out), "--fail-on", "none"])
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["compiled"] == 1
    assert [f["code"] for f in report["findings"]] == []
    code = (out / "pull_and_constant" / "pipeline.py").read_text()
    assert "def decide(compare_models_output: str) -> str:" in code  # the dict travels as JSON text
    assert "    compare_models_output = json.loads(compare_models_output)\n" in code
    assert "    MIN_AUC_GAIN = 0.002\n" in code and "    def gain(scores: dict) -> float:\n" in code
    spec = importlib.util.spec_from_file_location("generated_pull_and_constant", out / "pull_and_constant" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the generated pipeline, not the DAG file
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    try:
        module.pull_and_constant()
    finally:
        LocalExecutionConfig.instance = None  # other tests may not expect a local runner
    assert json.loads(result.read_text()) == {
        "scores": {"candidate": 0.913, "production": 0.907}, "gain": 0.002, "path": "promote"}


EXAMPLE_DAGS = {
    "check": '''
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

MIN_AUC = 0.8


def check(auc: float) -> bool:
    return auc >= MIN_AUC


with DAG("example", schedule=None):
    PythonOperator(task_id="check", python_callable=check, op_kwargs={"auc": 0.9})
''',
    "day_report": '''
from airflow.operators.python import get_current_context
from airflow.sdk import DAG, task


@task
def day_report():
    ctx = get_current_context()
    day = ctx["ds"]
    ctx["ti"].xcom_push(key="day", value=day)
    return ctx["dag_run"].conf.get("region")


with DAG("example", schedule=None):
    day_report()
''',
    "report": '''
import csv
import io

from airflow.sdk import DAG, task


def as_csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


@task
def report(rows: list) -> str:
    return as_csv(rows)


with DAG("example", schedule=None):
    report([[1, 2]])
''',
}


@pytest.mark.parametrize("task_id", sorted(EXAMPLE_DAGS))
def test_examples_match_what_the_analyzer_finds(task_id, tmp_path):
    from af2kfp.converters.mappings import python

    (example,) = [e for e in python.EXAMPLES if e.task.task_id == task_id]
    (analyzed,) = tasks(_analyzed(tmp_path, EXAMPLE_DAGS[task_id]))
    theirs, _ = map_task(analyzed, dag_id="example", config=Config())
    mine, _ = map_task(example.task, dag_id="example", config=Config())
    assert (theirs.python.code, theirs.arguments) == (mine.python.code, mine.arguments)
