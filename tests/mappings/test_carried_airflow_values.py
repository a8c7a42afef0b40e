"""Helper modules that read Airflow at import time travel too (af2kfp.converters.analysis.carry, mappings.carried).

A team's ``settings`` module reads Variables when it is imported, is used as a module object
(``settings.env``), binds names in ``if``/``try`` blocks and defines Datasets and Params. The
component must hold what the callable reads of it and return what the callable returns in
Airflow: each component is executed here as kfp.local's executor runs it (the function alone,
in a fresh namespace, with its parameters). The Asset and Param stand-ins are compared with
Airflow's own classes.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.environment import Environment, load_variables
from af2kfp.converters.graph import tasks
from af2kfp.converters.mappings import map_task
from tests.mappings.test_carried import _repo, _run

SETTINGS = {
    "team/__init__.py": "",
    "team/settings.py": '''
        """Deployment settings, read from Airflow Variables when the DAGs are parsed."""
        try:
            from airflow.sdk import Variable
        except ImportError:
            from airflow.models import Variable
        from airflow.sdk import Asset
        from airflow.datasets import Dataset
        from airflow.models.param import Param

        ENV = Variable.get("deploy_env", default_var="dev")
        REGION = Variable.get("region")
        TOKEN = Variable.get("ops_api_token")
        if ENV == "prod":
            SEARCH_URL = "https://search.internal"
            REPLICAS = 3
        else:
            SEARCH_URL = f"https://search.{ENV}.internal"
            REPLICAS = 1
        try:
            import ujson as fastjson
        except ImportError:
            import json as fastjson
        BATCH = 100
        BATCH = BATCH * REPLICAS
        ORDERS = Dataset("GS://Acme-Raw/orders/?b=2&a=1#part")
        CUSTOMERS = Asset(name="customers", uri="bq://acme/marts/customers", extra={"owner": "crm"})
        LIMIT = Param(50, type="integer", minimum=1)
        QUERY = """
        select *
          from orders
        """
        ''',
    "team/links.py": '''
        from team import settings


        def search_link(path):
            return f"{settings.SEARCH_URL}/{path}?replicas={settings.REPLICAS}"
        ''',
}


def _mapped(folder: Path, variables: dict[str, str] | None = None) -> dict[str, tuple]:
    config = Config(environment=Environment(variables=variables or {}))
    (graph,) = analyze_paths([folder], config=config).graphs
    return {task.task_id: map_task(task, dag_id="d", config=config) for task in tasks(graph)}


@pytest.fixture
def folder(tmp_path):
    return _repo(tmp_path, SETTINGS, "from team import settings\nfrom team.links import search_link\n"
                                     "from airflow.models import Variable", '''
        @task
        def describe() -> dict:
            return {
                "env": settings.ENV,
                "region": settings.REGION,
                "link": search_link("orders"),
                "batch": settings.BATCH,
                "encoded": settings.fastjson.dumps([settings.REPLICAS]),
                "query": settings.QUERY,
                "owner": Variable.get("owner"),
            }

        @task
        def datasets() -> dict:
            return {"orders": settings.ORDERS.uri, "name": settings.ORDERS.name,
                    "customers": [settings.CUSTOMERS.uri, settings.CUSTOMERS.extra, settings.CUSTOMERS.group],
                    "limit": settings.LIMIT.resolve(), "default": settings.LIMIT.value,
                    "schema": settings.LIMIT.schema}

        @task
        def secret() -> str:
            return settings.TOKEN[:3]

        @task
        def watched() -> int:
            return len(settings.ORDERS.watchers)
        ''', "describe()\n    datasets()\n    secret()\n    watched()")


def test_module_object_with_variables_at_import_time_runs(folder):
    mapped = _mapped(folder, {"deploy_env": "qa", "owner": "data-team"})
    task, ctx = mapped["describe"]
    assert sorted(f.code for f in ctx.findings if f.code.startswith("M26")) == ["M266"], \
        [f.message for f in ctx.findings]
    code = task.python.code
    assert code.count("class Variable:") == 1  # one shim serves the callable and the copied module
    assert code.index("class Variable:") < code.index("def _settings_module():")
    imported = {(n.module or "") if isinstance(n, ast.ImportFrom) else a.name
                for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert not {m for m in imported if m.split(".")[0] in ("team", "airflow")}, imported
    assert [name for name, *_ in task.python.params] == ["region"]  # the Variable not supplied is a parameter
    assert {p.name for p in task.python.parameters} == {"region"}
    result = json.loads(_run(task.python, region="eu-west1"))
    assert result == {"env": "qa", "region": "eu-west1", "link": "https://search.qa.internal/orders?replicas=1",
                      "batch": 100, "encoded": "[1]", "query": "\nselect *\n  from orders\n", "owner": "data-team"}


def test_conditional_binding_follows_the_supplied_value(folder):
    task, _ = _mapped(folder, {"deploy_env": "prod", "region": "eu", "owner": "o"})["describe"]
    result = json.loads(_run(task.python))
    assert result["link"] == "https://search.internal/orders?replicas=3" and result["batch"] == 300


def test_a_secret_looking_variable_is_a_parameter_never_a_value(folder, tmp_path):
    exported = tmp_path / "variables.json"  # as `airflow variables export` writes it
    exported.write_text(json.dumps({"deploy_env": "qa", "ops_api_token": "xoxb-not-real"}))
    config = Config(environment=load_variables(exported))
    (graph,) = analyze_paths([folder], config=config).graphs
    (task,) = [map_task(t, dag_id="d", config=config)[0] for t in tasks(graph) if t.task_id == "secret"]
    assert "xoxb" not in task.python.code
    assert [name for name, *_ in task.python.params] == ["ops_api_token"]
    assert _run(task.python, ops_api_token="abcdef") == "abc"


def test_dataset_asset_and_param_stand_ins_read_as_airflow_s(folder):
    from airflow.sdk import Asset, Param  # the real classes: the stand-ins must give the same values

    task, ctx = _mapped(folder, {"deploy_env": "qa"})["datasets"]
    assert not [f for f in ctx.findings if f.severity.value != "info"], [f.message for f in ctx.findings]
    orders = Asset("GS://Acme-Raw/orders/?b=2&a=1#part")
    customers = Asset(name="customers", uri="bq://acme/marts/customers", extra={"owner": "crm"})
    limit = Param(50, type="integer", minimum=1)
    assert json.loads(_run(task.python)) == {
        "orders": orders.uri, "name": orders.name, "customers": [customers.uri, customers.extra, customers.group],
        "limit": limit.resolve(), "default": limit.value, "schema": limit.schema}


def test_uri_normalisation_matches_airflow():
    from airflow.sdk import Asset

    from af2kfp.converters.mappings.standins import stand_in

    namespace: dict = {}
    exec(stand_in("Asset", {"Asset"})[0], namespace)  # noqa: S102 - our stand-in
    for uri in ["s3://Bucket/Path/", "S3://b/p?z=1&a=2#f", "gs://x/", "file:///tmp/data/", "plain name",
                "postgres://user:pw@host:5432/db/schema/table", "x-custom://A/B/"]:
        ours, theirs = namespace["Asset"](uri), Asset(uri)
        assert (ours.uri, ours.name, ours.group, repr(ours)) == (theirs.uri, theirs.name, theirs.group, repr(theirs))


def test_what_a_stand_in_lacks_is_named(folder):
    _, ctx = _mapped(folder, {"deploy_env": "qa"})["watched"]
    (finding,) = [f for f in ctx.findings if f.code == "M269"]
    assert "`.watchers`" in finding.message
