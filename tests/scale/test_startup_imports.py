"""Fast start: ``af2kfp --help``, ``--version``, a command's ``--help`` and an early error import
neither kfp, networkx, Jinja nor LibCST (checked in a fresh interpreter's ``sys.modules``), and
kfp is imported only when something is compiled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("kfp", "networkx", "jinja2", "libcst", "google.protobuf", "airflow")

CHILD = """
import contextlib, io, json, sys
from af2kfp.bridge.cli import main
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"kfp", "networkx", "jinja2", "libcst", "airflow"}
               or m.startswith("google.protobuf"))
print(json.dumps({"code": code, "heavy": heavy[:5], "out": out.getvalue(), "err": err.getvalue()}))
"""


def _run(*argv: str, cwd: Path | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, check=True, cwd=cwd)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["convert", "--help"], ["check", "--help"],
                                  ["report", "--help"], ["convert"]], ids=" ".join)
def test_no_heavy_import(argv):
    result = _run(*argv)
    assert result["heavy"] == [], result
    if argv == ["--version"]:
        assert result["code"] == 0 and result["out"].startswith("af2kfp ")


@pytest.mark.parametrize("command", ["convert", "check", "report"])
def test_missing_path_fails_before_the_converter_loads(command, tmp_path):
    argv = [command, str(tmp_path / "nope.py")] + (["-o", str(tmp_path / "out")] if command != "check" else [])
    if command == "report":
        argv[-1] = str(tmp_path / "r.html")
    result = _run(*argv)
    assert result["code"] == 2 and "nope.py: no such file or folder" in result["err"]
    assert result["heavy"] == [], result


def test_kfp_only_when_compiling(tmp_path):
    """Analysis, mapping and emitting load no kfp: a DAG with no task compiles nothing."""
    dag = tmp_path / "empty_dag.py"
    dag.write_text("from datetime import datetime\nfrom airflow.sdk import DAG\n\n"
                   "with DAG(dag_id='nothing', schedule=None, start_date=datetime(2024, 1, 1)):\n    pass\n",
                   encoding="utf-8")
    result = _run("convert", str(dag), "-o", str(tmp_path / "out"), "-j", "1", "--fail-on", "none")
    assert result["code"] == 0, result
    assert not any(m.startswith("kfp") for m in result["heavy"]), result


def test_check_imports_no_kfp(tmp_path):
    """``af2kfp check`` of a DAG file analyzes, maps and emits, and never imports kfp (nor compiles)."""
    dag = tmp_path / "small_dag.py"
    dag.write_text("from datetime import datetime\nfrom airflow.sdk import DAG\n"
                   "from airflow.providers.standard.operators.bash import BashOperator\n\n"
                   "with DAG(dag_id='small', schedule=None, start_date=datetime(2024, 1, 1)):\n"
                   "    BashOperator(task_id='hello', bash_command='echo hi')\n", encoding="utf-8")
    result = _run("check", str(dag), "-j", "2")
    assert result["code"] == 0 and "1 DAGs, 0 error" in result["out"], result
    assert not any(m.startswith(("kfp", "google.protobuf")) for m in result["heavy"]), result


COMPILE_ONLY = {"E301", "E311", "E314"}  # what only compiling finds (check --compile, convert)


def test_check_finds_what_convert_finds(tmp_path):
    """Without compiling, check reports convert's findings in convert's order (the samples hold each kind:
    analyzer, mapping, schedule, duplicate dag_id), except what only compiling finds."""
    from af2kfp.converters.check import check_paths
    from af2kfp.converters.config import load_config
    from af2kfp.converters.convert import convert_paths

    samples = Path(__file__).resolve().parents[2] / "samples"
    config = load_config(samples / "pyproject.toml")
    converted = convert_paths([samples / "dags"], tmp_path / "out", config=config, jobs=1)
    checked = check_paths([samples / "dags"], config)
    assert checked["summary"]["dags"] == converted["summary"]["dags"]
    expected = [f for f in converted["findings"] if f["code"] not in COMPILE_ONLY]
    assert checked["findings"] == expected
    assert len(expected) > 20


def test_compiling_imports_no_kfp_client():
    """Compiling loads kfp.dsl and kfp.compiler, not kfp's API client nor the Kubernetes library under it
    (~0.6 s of CPU in every compiling process); ``kfp.Client``, ``kfp.dsl``, ``kfp.components`` still work."""
    code = """
import json, sys
from af2kfp.converters.emit.compile import compile_pipeline
source = '''from kfp import dsl

@dsl.container_component
def hello():
    return dsl.ContainerSpec(image="bash:5.2", command=["bash", "-c"], args=["echo hi"])

@dsl.pipeline(name="tiny")
def tiny():
    hello()
'''
result = compile_pipeline(source, "tiny", dag_id="tiny", file="tiny.py")
loaded = sorted(m for m in sys.modules if m.startswith(("kubernetes", "kfp.client")))
import kfp
names = [kfp.Client.__name__, kfp.dsl.__name__, kfp.components.__name__]
print(json.dumps({"yaml": result.yaml is not None, "findings": [f.code for f in result.findings],
                  "loaded": loaded[:3], "names": names}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["yaml"] and not result["findings"], result
    assert result["loaded"] == [], result
    assert result["names"] == ["Client", "kfp.dsl", "kfp.components"]
