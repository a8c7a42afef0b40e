"""Configuration files the DAGs read when Airflow parses them (YAML, JSON in the repository): the analyzer
reads them as data, so a configuration-driven repository gives the tasks Airflow's DagBag gives."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from af2kfp.bridge.airflow_truth import load_with_airflow
from af2kfp.converters.analysis import analyze_paths
from tests.analysis.conftest import codes_of, only_graph

CONFIG_YAML = """
pipelines:
  - id: load_orders
    command: load.sh orders
    after: []
  - id: load_users
    command: load.sh users
    after: [load_orders]
retries: 2
"""
TABLES_JSON = '{"tables": ["events", "sessions"]}'

HELPERS = '''
from pathlib import Path

import yaml


def read_config(path):
    path = path if isinstance(path, Path) else Path(path)
    with open(path) as handle:
        return yaml.safe_load(handle)


def find(nodes, node_id):
    for node in nodes:
        if node["id"] == node_id:
            return node
    raise KeyError(node_id)
'''

DAG = '''
import json
from pathlib import Path

import yaml
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from team.config import find, read_config

HERE = Path(__file__).parent
CONFIG = read_config(HERE / "config" / "pipelines.yaml")
TABLES = json.loads((HERE / "config" / "tables.json").read_text())["tables"]
with open(HERE / "config" / "pipelines.yaml") as handle:
    SAME = yaml.load(handle, Loader=yaml.SafeLoader)

with DAG("config_driven", schedule=None, default_args={"retries": CONFIG["retries"]}):
    tasks = {}
    for node in SAME["pipelines"]:
        command = find(CONFIG["pipelines"], node["id"])["command"]
        tasks[node["id"]] = BashOperator(task_id=node["id"], bash_command=command)
    for node in CONFIG["pipelines"]:
        for upstream in node["after"]:
            tasks[upstream] >> tasks[node["id"]]
    for table in TABLES:
        BashOperator(task_id=f"copy_{table}", bash_command=f"copy.sh {table}") >> tasks["load_orders"]
'''


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("configured")
    files = {"dags/config_driven.py": DAG, "dags/team/__init__.py": "", "dags/team/config.py": HELPERS,
             "dags/config/pipelines.yaml": CONFIG_YAML, "dags/config/tables.json": TABLES_JSON}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "dags"


@pytest.mark.airflow
def test_a_configuration_driven_dag_gives_dagbags_tasks(repository):
    truth = load_with_airflow([repository])
    assert truth["import_errors"] == {}
    built = {dag_id: dag for dags in truth["files"].values() for dag_id, dag in dags.items()}["config_driven"]
    graph = next(g for g in analyze_paths([repository]).graphs if g.graph["dag"].dag_id == "config_driven")
    assert sorted(graph.nodes) == sorted(built["tasks"]) == ["copy_events", "copy_sessions", "load_orders",
                                                             "load_users"]
    assert sorted(graph.edges) == sorted(tuple(e) for e in built["edges"])
    for task_id, data in graph.nodes(data=True):
        assert data["task"].args["bash_command"] == built["tasks"][task_id]["args"]["bash_command"]
        assert data["task"].args["retries"] == built["tasks"][task_id]["args"]["retries"] == 2
    assert graph.graph["findings"] == []


def test_files_outside_the_repository_or_beyond_plain_data_stay_unknown(analyze, tmp_path_factory):
    """A file outside the scanned folders is not read, nor YAML holding more than plain data (a date):
    the loop over what they give is a finding, as any unknown collection."""
    outside = tmp_path_factory.mktemp("elsewhere") / "tables.yaml"
    outside.write_text("- a\n- b\n")
    graph = only_graph(analyze(f'''
        import yaml
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG
        with DAG("unread", schedule=None):
            for table in yaml.safe_load(open("{outside}")):
                BashOperator(task_id=f"copy_{{table}}", bash_command="true")
            for day in yaml.safe_load(open(__file__.replace("dag.py", "days.yaml")))["days"]:
                BashOperator(task_id=f"day_{{day}}", bash_command="true")
    ''', files={"days.yaml": "days: [2024-01-01]\n"}))
    assert list(graph.nodes) == []
    assert codes_of(graph).count("A109") == 2
