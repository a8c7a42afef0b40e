"""``dag.schedule_interval`` / ``dag.schedule`` read from the context: the DAG's schedule known at conversion.

A callable that logs or branches on its DAG's schedule (``context["dag"].schedule_interval``,
Airflow 2's name, or ``dag.schedule``) gets the text the DAG declared, as Airflow keeps it; a
schedule the converter cannot know (an unsupplied Variable) stays M210 on that line. The DAG
files are analyzed as written, and each component runs as its container would.
"""

from __future__ import annotations

import textwrap

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.mappings import map_graph

DAG = '''
from datetime import datetime
from airflow.models import Variable
from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator


def describe(**context):
    dag = context["dag"]
    print(f"{dag.dag_id} runs on {dag.schedule_interval}")
    return [dag.schedule_interval, dag.schedule]


with DAG("nightly", {schedule}, start_date=datetime(2024, 1, 1)):
    PythonOperator(task_id="describe", python_callable=describe)
'''


def _mapped(tmp_path, schedule: str):
    (tmp_path / "dag.py").write_text(textwrap.dedent(DAG.replace("{schedule}", schedule)))
    (graph,) = analyze_paths([tmp_path], config=Config()).graphs
    (task,) = map_graph(graph, Config()).tasks
    return task, [f for f in map_graph(graph, Config()).findings if f.task_id == "describe"]


def test_a_known_schedule_is_served(tmp_path, capsys):
    task, findings = _mapped(tmp_path, 'schedule_interval="0 6 * * 1"')
    assert "M210" not in [f.code for f in findings], [f.message for f in findings]
    namespace: dict = {}
    exec(task.python.code.replace("__AF2KFP_NAME__", "component"), namespace)  # noqa: S102 - our generated code
    assert namespace["component"]() == '["0 6 * * 1", "0 6 * * 1"]'
    assert "nightly runs on 0 6 * * 1" in capsys.readouterr().out


def test_a_preset_is_kept_as_written(tmp_path):
    task, findings = _mapped(tmp_path, 'schedule="@daily"')
    assert "M210" not in [f.code for f in findings]
    assert 'schedule_interval="@daily"' in task.python.code


def test_an_unknown_schedule_is_still_a_finding_on_its_line(tmp_path):
    _, findings = _mapped(tmp_path, 'schedule=Variable.get("nightly_cron")')
    found = {(f.line, f.message.split(" reads ")[1].split()[0]) for f in findings if f.code == "M210"}
    assert found == {(11, "dag.schedule_interval"), (11, "dag.schedule")}, found
