"""A shell command reading the DAGs folder gets M267 (the KFP task's image has no DAGs folder)."""

from __future__ import annotations

import textwrap

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.graph import tasks
from af2kfp.converters.mappings import map_task
from af2kfp.converters.mappings.dags_folder import dags_folder_reads

DAG = '''
import os
from datetime import datetime
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

HERE = os.path.dirname(os.path.abspath(__file__))

@task.bash
def listed():
    return "ls /opt/airflow/dags/sql"

with DAG("folder_reads", schedule=None, start_date=datetime(2024, 1, 1)):
    BashOperator(task_id="here", bash_command=f"python {HERE}/scripts/load.py --day {{{{ ds }}}}")
    BashOperator(task_id="joined", bash_command="python " + os.path.join(os.path.dirname(__file__), "tools", "x.py"))
    BashOperator(task_id="templated", bash_command="python {{ dag.folder }}/scripts/run.py")
    BashOperator(task_id="home", bash_command="python ~/airflow/dags/tools/x.py")
    BashOperator(task_id="conf", bash_command="ls {{ conf.get('core', 'dags_folder') }}")
    BashOperator(task_id="plain", bash_command="echo dags && ls /opt/airflow/dagster/x")
    listed()
'''


@pytest.mark.parametrize("relative", [False, True], ids=["absolute path", "relative path"])
def test_each_way_of_reading_the_dags_folder_is_named(tmp_path, monkeypatch, relative):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "reads.py").write_text(textwrap.dedent(DAG))
    monkeypatch.chdir(tmp_path)
    (graph,) = analyze_paths(["dags" if relative else tmp_path / "dags"], config=Config()).graphs
    found = {}
    for task in tasks(graph):
        kfp, ctx = map_task(task, dag_id="folder_reads", config=Config())
        found[task.task_id] = ([f.message for f in ctx.findings if f.code == "M267"], kfp.fate)
    folder = "dags" if relative else (tmp_path / "dags").as_posix()
    assert found["here"][0] == [f"bash_command reads `{folder}/scripts/load.py` from the DAGs folder, which is not in "
                                "the task's image (bash:5.2)"]
    assert "`" + folder + "/tools/x.py`" in found["joined"][0][0]
    assert "`{{ dag.folder }}`" in found["templated"][0][0]
    assert "`~/airflow/dags`" in found["home"][0][0]
    assert "dags_folder" in found["conf"][0][0]
    assert "`/opt/airflow/dags`" in found["listed"][0][0]
    assert found["plain"] == ([], "converted")
    assert {fate for messages, fate in found.values() if messages} == {"review"}


@pytest.mark.parametrize("command", ["echo /opt/airflow/dagster", "cp -r /opt/airflow/dags-config/repo /tmp", "cp dags.tar /tmp", "echo my_dags/x"])
def test_other_paths_are_not_the_dags_folder(command):
    assert dags_folder_reads(command, "dags/x.py") is None
