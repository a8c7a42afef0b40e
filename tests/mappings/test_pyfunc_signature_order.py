"""A callable whose unknown argument gets a default before one fed by an XCom still compiles."""

from __future__ import annotations

import json
import textwrap

from af2kfp.bridge.cli import main

DAG = '''
import os
from airflow.sdk import DAG, task

@task
def extract() -> str:
    return "rows"

@task
def load(target: str, rows: str) -> None:
    print(target, rows)

with DAG("order_of_params", schedule=None):
    load(target=os.environ["TARGET"], rows=extract())
'''


def test_unknown_argument_before_xcom_input_compiles(tmp_path):
    dag = tmp_path / "dags" / "order_of_params.py"
    dag.parent.mkdir()
    dag.write_text(textwrap.dedent(DAG))
    out = tmp_path / "out"
    main(["convert", str(dag), "-o", str(out), "--fail-on", "none"])
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["compiled"] == 1, [f["message"] for f in report["findings"]]
    code = (out / "order_of_params" / "pipeline.py").read_text()
    assert "def load(rows: str, target: str = None)" in code
