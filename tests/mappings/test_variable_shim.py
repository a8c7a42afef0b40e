"""``Variable.get`` inside a Python callable is served by the component (af2kfp.converters.mappings.variable_shim).

Known Variables (``--variables``) are literals, others pipeline parameters (defaults from
``default_var``); a secret-looking Variable is never written, even when the file holds it.
The component's function is executed here alone, as the KFP executor runs it, and must
return what the callable returns in Airflow with those Variables.
"""

from __future__ import annotations

import json
import textwrap

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.environment import load_variables
from af2kfp.converters.graph import tasks
from af2kfp.converters.mappings import map_task

DAG = '''
from datetime import datetime
from airflow.sdk import DAG, Variable, task
from airflow.models import Variable as LegacyVariable


@task
def target(table: str) -> str:
    bucket = Variable.get("raw_bucket")
    limit = int(LegacyVariable.get("row_limit", default_var="100"))
    dataset = Variable.get("warehouse", deserialize_json=True)["dataset"]
    return f"gs://{bucket}/{dataset}/{table}?limit={limit}&auth={len(Variable.get('api_token'))}"


@task
def inner():
    from airflow.models import Variable

    return Variable.get("raw_bucket")


@task
def dynamic(name: str):
    Variable.set("seen", name)
    return Variable.get(name)


with DAG("variables", schedule=None, start_date=datetime(2024, 1, 1)):
    target("orders")
    inner()
    dynamic("raw_bucket")
'''


def _run(function, **arguments):
    namespace: dict = {}
    exec(function.code.replace("__AF2KFP_NAME__", "component"), namespace)  # noqa: S102 - our generated code
    return namespace["component"](**arguments)


def test_variables_are_served_from_the_conversion_or_pipeline_parameters(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "variables.py").write_text(textwrap.dedent(DAG))
    (tmp_path / "vars.json").write_text(json.dumps(
        {"raw_bucket": "acme-raw", "warehouse": {"dataset": "marts"}, "api_token": "not-a-real-token-1f2e"}))
    config = Config(environment=load_variables(tmp_path / "vars.json"))
    (graph,) = analyze_paths([tmp_path / "dags"], config=config).graphs
    mapped = {task.task_id: map_task(task, dag_id="variables", config=config) for task in tasks(graph)}

    target, ctx = mapped["target"]
    code = target.python.code
    assert "airflow" not in code and "not-a-real-token" not in code
    assert '"raw_bucket": "acme-raw"' in code and '"api_token": api_token' in code
    parameters = {p.name: p for p in target.parameters if p.kind == "variable"}
    assert sorted(parameters) == ["api_token", "row_limit"] and parameters["row_limit"].default == "100"
    assert not parameters["api_token"].has_default  # the secret-looking one: the run must supply it
    assert [f.code for f in ctx.findings if f.severity != "info"] == [] and target.fate == "converted"
    assert target.arguments["api_token"].name == "api_token"
    assert _run(target.python, table="orders", api_token="xyz", row_limit="7") == "gs://acme-raw/marts/orders?limit=7&auth=3"

    inner, ctx = mapped["inner"]
    assert "import Variable" not in inner.python.code and inner.fate == "converted"
    assert json.loads(_run(inner.python)) == "acme-raw"  # no annotation: the value travels as JSON

    dynamic, ctx = mapped["dynamic"]
    found = sorted((f.code, f.line, f.message) for f in ctx.findings if f.code == "M268")
    assert [(code, line) for code, line, _ in found] == [("M268", 24), ("M268", 25)]
    assert "`Variable.set`" in found[0][2] and "the key is not a literal" in found[1][2]
    assert "class Variable" not in dynamic.python.code and dynamic.fate == "review"
