"""Which providers the fallback's image has, and the fate that follows: converted in the official
image when it has the class's provider, review with the package to add when it does not."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from af2kfp.converters.config import Config, load_config
from af2kfp.converters.errors import InputError
from af2kfp.converters.mappings import map_task
from af2kfp.converters.mappings.airflow_image import (PREINSTALLED, STOCK_PROVIDERS, image_providers, provider_of,
                                               stock_version)
from af2kfp.converters.mappings.example import example_task

SLACK = "airflow.providers.slack.operators.slack.SlackAPIPostOperator"
DATABRICKS = "airflow.providers.databricks.operators.databricks.DatabricksRunNowOperator"
BASH_SENSOR = "airflow.providers.standard.sensors.bash.BashSensor"


def _map(operator, config=None, **args):
    kfp, _ = map_task(example_task(operator, "t", **args), dag_id="d", config=config or Config())
    return kfp


def _codes(kfp):
    return sorted(f.code for f in kfp.findings)


@pytest.mark.parametrize(("operator", "provider"), [
    ("airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator", "cncf-kubernetes"),
    ("airflow.providers.microsoft.azure.operators.adx.AzureDataExplorerQueryOperator", "microsoft-azure"),
    ("airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator", "common-sql"),
    ("airflow.providers.google.cloud.operators.bigquery.BigQueryInsertJobOperator", "google"),
    ("airflow.operators.bash.BashOperator", "core"),
    ("acme.ops.TeamOperator", None),
])
def test_provider_of_a_class(operator, provider):
    assert provider_of(operator) == provider


def test_which_providers_an_image_has():
    stock = image_providers("apache/airflow:3.3.2", None)
    assert {"google", "amazon", "postgres", "slack", "cncf-kubernetes", "standard", "core"} <= stock
    assert "databricks" not in stock and "sqlite" not in stock
    assert image_providers("docker.io/apache/airflow:3.3.2-python3.12", None) == stock
    assert image_providers("apache/airflow:slim-3.3.2", None) == PREINSTALLED["3.3.2"] | {"core"}
    assert stock_version("apache/airflow:slim-3.3.2-python3.11") == ("3.3.2", True)
    assert image_providers("apache/airflow:2.0.0", None) is None  # a version af2kfp has no list for
    assert image_providers("registry.example.com/airflow:1", None) is None
    assert image_providers("registry.example.com/airflow:1", ("databricks",)) >= {"databricks", "standard", "core"}
    assert image_providers("registry.example.com/airflow:1", "all") == "all"


def test_the_official_list_matches_installed_airflows_metadata():
    """The table is pinned to an Airflow version: the one installed here tells whether it drifted."""
    version = importlib.metadata.version("apache-airflow-core")
    if version not in STOCK_PROVIDERS:
        pytest.fail(f"apache-airflow-core {version} is installed; add its providers to converters/mappings/airflow_image.py")

    def providers(requirements):
        return {m.group(1) for r in requirements if (m := re.match(r"apache-airflow-providers-([a-z-]+)", r))}

    core = [r for r in importlib.metadata.requires("apache-airflow-core") or [] if "extra ==" not in r]
    assert providers(core) == PREINSTALLED[version]
    offered = providers(importlib.metadata.requires("apache-airflow") or [])  # every extra's provider
    assert STOCK_PROVIDERS[version] <= offered


def test_a_provider_of_the_official_image_is_converted_with_an_info_finding():
    kfp = _map(SLACK, slack_conn_id="slack", channel="#ops", text="done")
    assert kfp.rule == "fallback" and kfp.fate == "converted"
    assert _codes(kfp) == ["M207", "M225"]
    m225 = next(f for f in kfp.findings if f.code == "M225")
    assert m225.severity.value == "info" and "(with apache-airflow-providers-slack)" in m225.message


def test_a_provider_the_image_lacks_is_review_naming_the_package_and_how_to_add_it():
    kfp = _map(DATABRICKS, databricks_conn_id="dbx", job_id=42)
    assert kfp.kind == "container" and kfp.fate == "review" and _codes(kfp) == ["M207", "M225", "M256"]
    message = next(f.message for f in kfp.findings if f.code == "M256")
    assert "needs apache-airflow-providers-databricks, which apache/airflow:3.3.2 does not have" in message
    assert "FROM apache/airflow:3.3.2 with `pip install apache-airflow-providers-databricks`" in message
    assert "airflow_image_providers" in message
    slim = _map(SLACK, Config(airflow_image="apache/airflow:slim-3.3.2"), slack_conn_id="s", channel="#c", text="x")
    assert slim.fate == "review" and "apache-airflow-providers-slack" in next(f.message for f in slim.findings if f.code == "M256")
    assert _map(BASH_SENSOR, Config(airflow_image="apache/airflow:slim-3.3.2"), bash_command="true").fate == "converted"


def test_a_custom_image_says_what_it_has():
    custom = "registry.example.com/airflow-ops:3.3.2"
    unknown = _map(DATABRICKS, Config(airflow_image=custom), databricks_conn_id="dbx", job_id=42)
    assert unknown.fate == "review"
    assert "af2kfp does not know which providers registry.example.com/airflow-ops:3.3.2 has" in next(
        f.message for f in unknown.findings if f.code == "M256")
    listed = Config(airflow_image=custom, airflow_image_providers=("databricks",))
    assert _map(DATABRICKS, listed, databricks_conn_id="dbx", job_id=42).fate == "converted"
    assert _map(SLACK, listed, slack_conn_id="s", channel="#c", text="x").fate == "review"  # not listed
    everything = Config(airflow_image=custom, airflow_image_providers="all")
    assert _map(SLACK, everything, slack_conn_id="s", channel="#c", text="x").fate == "converted"


def test_airflow_image_providers_config(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.af2kfp]\nairflow_image = "r/a:1"\n'
                    'airflow_image_providers = ["apache-airflow-providers-cncf-kubernetes", "microsoft.azure", "Postgres"]\n')
    assert load_config(path).airflow_image_providers == ("cncf-kubernetes", "microsoft-azure", "postgres")
    path.write_text('[tool.af2kfp]\nairflow_image_providers = "all"\n')
    assert load_config(path).airflow_image_providers == "all"
    path.write_text('[tool.af2kfp]\nairflow_image_providers = "postgres"\n')
    with pytest.raises(InputError, match=r"airflow_image_providers = 'postgres'; expected \"all\" or a list"):
        load_config(path)


SQL = "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator"


def _with_connection(conn_type):
    from af2kfp.converters.environment import Connection, Environment

    return Config(environment=Environment(connections={"dw": Connection(conn_id="dw", conn_type=conn_type)}))


def test_a_common_sql_class_whose_connection_type_is_unknown_is_for_review():
    """Its hook comes from the connection's type: without the type, the image may lack its provider."""
    kfp = _map(SQL, conn_id="dw", sql="select 1")
    assert kfp.fate == "review" and "M256" in _codes(kfp)
    message = next(f.message for f in kfp.findings if f.code == "M256")
    assert "connection 'dw'" in message and "--connections" in message and "postgres" in message


def test_a_common_sql_class_is_converted_when_the_image_serves_its_connections_type():
    kfp = _map(SQL, _with_connection("postgres"), conn_id="dw", sql="select 1")
    assert kfp.fate == "converted" and "M256" not in _codes(kfp)
    assert "connection 'dw' is postgres, whose provider the image has" in next(
        f.message for f in kfp.findings if f.code == "M225")
    sqlite = _map(SQL, _with_connection("sqlite"), conn_id="dw", sql="select 1")
    assert sqlite.fate == "review"
    assert "needs apache-airflow-providers-sqlite, which apache/airflow:3.3.2 does not have" in next(
        f.message for f in sqlite.findings if f.code == "M256")
