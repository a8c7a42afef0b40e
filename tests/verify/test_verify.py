"""``af2kfp verify``: no difference on the samples and Airflow's bundled examples, crafted ones found,
opt-in required, and a clear message without Airflow."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from af2kfp.bridge.cli import main
from af2kfp.bridge.verify import compare
from af2kfp.converters.graph import DagInfo, add_edge, add_task, new_graph
from af2kfp.converters.mappings.example import example_task

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "dags"
AIRFLOW_DIR = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])
EXAMPLES = [AIRFLOW_DIR / "example_dags", AIRFLOW_DIR / "providers" / "standard" / "example_dags"]
BASH = "airflow.providers.standard.operators.bash.BashOperator"


@pytest.mark.airflow
@pytest.mark.slow
def test_no_difference_on_samples_and_bundled_examples(tmp_path, capsys):
    out = tmp_path / "verify.json"
    code = main(["verify", str(SAMPLES), *map(str, EXAMPLES), "--yes-run-dag-code", "-o", str(out)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert code == 0, printed
    assert report["differences"] == []
    s = report["summary"]
    assert s["dags_compared"] >= 120 and s["dags_identical"] == s["dags_compared"] and s["tasks_compared"] >= 500
    assert s["arguments_compared"] >= 100
    assert set(report["airflow_import_errors"]) == {str(SAMPLES / "broken_python2_syntax.py"),
                                                    str(SAMPLES / "legacy_reporting_110.py"),
                                                    str(SAMPLES / "subdag_sections.py")}  # Airflow 2 only
    assert "Airflow cannot import it, not compared" in printed


@pytest.mark.airflow
@pytest.mark.slow
def test_a_value_that_differs_at_load_time_is_a_difference(tmp_path, capsys, monkeypatch):
    """The analyzer takes os.environ.get's default; the scheduler's environment says otherwise."""
    monkeypatch.setenv("AF2KFP_VERIFY_IMAGE", "etl:2")
    dag = tmp_path / "env_image.py"
    dag.write_text(textwrap.dedent(
        """
        import os
        from airflow.providers.docker.operators.docker import DockerOperator
        from airflow.sdk import DAG

        with DAG("env_image", schedule=None):
            DockerOperator(task_id="load", image=os.environ.get("AF2KFP_VERIFY_IMAGE", "etl:1"), retries=2)
        """))
    out = tmp_path / "verify.json"
    assert main(["verify", str(dag), "--yes-run-dag-code", "-o", str(out)]) == 1
    assert "env_image.load: argument: image: analyzer 'etl:1', Airflow 'etl:2'" in capsys.readouterr().out
    report = json.loads(out.read_text())
    [difference] = report["differences"]
    assert (difference["kind"], difference["analysis"], difference["airflow"]) == ("argument", "etl:1", "etl:2")
    assert report["summary"]["arguments_compared"] == 2


def test_compare_reports_each_kind_of_difference(tmp_path):
    file = str((tmp_path / "d.py").resolve())
    graph = new_graph(DagInfo(dag_id="d", file=file, line=1))
    for task_id in ("a", "b", "mine"):
        add_task(graph, example_task(BASH if task_id != "b" else "acme.Op", task_id, image="x:1"))
    add_edge(graph, "a", "mine")
    only_ours = new_graph(DagInfo(dag_id="ours", file=file, line=9))
    truth = {"files": {file: {"d": {
        "tasks": {"a": {"operator": "airflow.providers.standard.operators.bash.BashOperator", "task_type": "BashOperator",
                        "args": {"image": "x:2"}},
                  "b": {"operator": "acme.Other", "task_type": "Other", "args": {}},
                  "theirs": {"operator": "x.Y", "task_type": "Y", "args": {}}},
        "edges": [["a", "b"]]},
        "airflow_only": {"tasks": {}, "edges": []}}}, "import_errors": {}}
    result = compare(truth, [graph, only_ours])
    kinds = [(d.kind, d.dag_id, d.task_id) for d in result.differences]
    assert kinds == [
        ("dag_only_in_airflow", "airflow_only", None),
        ("task_only_in_airflow", "d", "theirs"), ("task_only_in_analysis", "d", "mine"),
        ("edge_only_in_airflow", "d", "b"), ("edge_only_in_analysis", "d", "mine"),
        ("operator", "d", "b"), ("argument", "d", "a"),
        ("dag_only_in_analysis", "ours", None),
    ]
    assert result.dags_compared == 1 and result.dags_identical == 0


def test_without_opt_in_it_says_what_it_would_do_and_exits_2(capsys):
    assert main(["verify", str(SAMPLES)]) == 2
    err = capsys.readouterr().err
    assert "runs its top-level code" in err and "--yes-run-dag-code" in err


def test_missing_path_is_bad_input(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "nope.py"), "--yes-run-dag-code"]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_without_airflow_a_clear_message_and_exit_2(tmp_path):
    shim = tmp_path / "shim" / "airflow"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text('raise ModuleNotFoundError("No module named \'airflow\'", name="airflow")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "shim"), str(REPO)])}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from af2kfp.bridge.cli import main; sys.exit(main(sys.argv[1:]))",
         "verify", str(SAMPLES / "docker_sales_etl.py"), "--yes-run-dag-code"],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "Airflow is not installed in this Python environment" in done.stderr
    assert "Traceback" not in done.stderr


def test_verify_is_a_cli_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "verify" in capsys.readouterr().out
