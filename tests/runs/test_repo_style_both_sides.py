"""samples/repo_style's orders_snapshot, both sides run: the team's helper package travels with the tasks.

The DAG reads the deployment's settings module as an object (``settings.DEPLOYMENT_ENV``: Variables read
when the module is imported, one absent from the export so its default applies, and an Asset built from
them) and calls a freshness guard that raises AirflowSkipException from the helper module. Airflow runs
the sample with the repository root on ``sys.path`` and the exported Variables as ``AIRFLOW_VAR_*``; the
converted pipeline runs under kfp.local with neither (the components carry the helper code and the
Variables' values). Both must run the same tasks with the same states, values and printed lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from af2kfp.bridge.verify import airflow_environment
from af2kfp.converters.config import Config
from af2kfp.converters.environment import load_variables
from tests.runs.harness import run_dags

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "repo_style"
DAG_ID = "orders_snapshot"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    config = Config(root=str(SAMPLE), environment=load_variables(SAMPLE / "airflow_variables.json"))
    airflow_env = {**airflow_environment(config), "PYTHONPATH": f"{SAMPLE}:{SAMPLE / 'plugins'}"}
    return run_dags(SAMPLE / "dags", tmp_path_factory.mktemp("runs"), dag_ids=[DAG_ID], config=config,
                    airflow_env=airflow_env, timeout=1200)


def test_both_sides_agree(runs):
    assert runs.airflow[DAG_ID].state == "success"
    assert runs.differences(DAG_ID) == []


def test_every_task_converted_and_carries_the_helpers(runs):
    fates = {t["task_id"]: t["fate"] for d in runs.report["dags"] if d["dag_id"] == DAG_ID
             for t in d["airflow"]["tasks"]}
    assert set(fates.values()) == {"converted"}, fates
    codes = {f["code"] for f in runs.report["findings"] if f.get("dag_id") == DAG_ID}
    assert "M264" not in codes and {"M266", "M294"} <= codes
    tree = ast.parse((Path(runs.folders[DAG_ID]) / "pipeline.py").read_text())
    imported = {n.module if isinstance(n, ast.ImportFrom) else a.name for n in ast.walk(tree)
                if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert not {m for m in imported if m.split(".")[0] in ("include", "airflow")}, imported


def test_the_helpers_skip_is_the_tasks_skip_on_both_sides(runs):
    for side in (runs.airflow, runs.kfp):
        tasks = side[DAG_ID].tasks
        assert tasks["new_orders_lyon"][0].state == "skipped"
        assert tasks["write_berlin"][0].value == {"target": "gs://acme-lake-prod/snapshots/orders/env=prod",
                                                  "rows": 1, "name": "gs://acme-lake-prod/snapshots/orders/"}
        assert "writing 1 row(s) to gs://acme-lake-prod/snapshots/orders/env=prod, kept 30 days" in \
            tasks["write_berlin"][0].printed
        assert tasks["audit"][0].value == {"berlin": 1, "lyon": None}
    assert not any(r.state == "success" for r in runs.kfp[DAG_ID].tasks.get("write_lyon", ()))
    assert not any(r.state == "success" for r in runs.airflow[DAG_ID].tasks.get("write_lyon", ()))
