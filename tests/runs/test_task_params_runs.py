"""Task-level params run the same on both sides: Airflow's ``dag.test()`` and the converted pipeline.

A BashOperator renders ``{{ params.x }}`` from its own params (the script runs with the host's
bash, as :mod:`tests.runs.context_harness` runs containers), a PythonOperator reads them through
the context shim; a Variable among them is folded when supplied at conversion, else the run passes
its pipeline parameter. (The DAG's int ``limit`` is read by the Python tasks only: kfp.local
renders an int pipeline parameter inside a text as a float, ``100.0``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from af2kfp.converters.config import Config
from af2kfp.converters.environment import Environment
from tests.runs.context_harness import run_both
from tests.runs.test_context_runs import _dags, assert_same

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(900)]

HERE = Path(__file__).resolve().parent / "dags_params"
DAY = "2024-03-05T00:00:00+00:00"


@pytest.mark.parametrize("supplied", [True, False], ids=["variable-supplied", "variable-as-parameter"])
def test_task_params_render_the_same(tmp_path, supplied):
    config = Config(environment=Environment(variables={"loader_user": "svc-loader"})) if supplied else None
    arguments = {} if supplied else {"loader_user": "svc-loader"}  # no task reads the run's dates
    both = run_both(_dags(tmp_path, HERE / "facility_loads.py"), tmp_path / "out", logical_date=DAY, config=config,
                    airflow_env={"AIRFLOW_VAR_LOADER_USER": "svc-loader"}, kfp_arguments=arguments)
    assert_same(both, "facility_loads")
    kfp = both.kfp["facility_loads"].tasks
    assert kfp["fetch_parks"]["printed"] == [
        "fetch parks --db=staging --user=svc-loader --region=eu --mode=full"]
    assert kfp["check_libraries"]["printed"] == [
        "checking libraries in staging as svc-loader (limit 100, region eu)"]
    assert kfp["archive.copy"]["printed"] == ["copy into archive limit 7 raw {{ ds }}"]
    dag = next(d for d in both.report["dags"] if d["dag_id"] == "facility_loads")
    assert {t["fate"] for t in dag["airflow"]["tasks"]} == {"converted"}
    assert ("loader_user" in {p["name"] for p in dag["kfp"]["parameters"]}) is not supplied
