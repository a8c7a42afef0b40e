"""KfpRunPipelineOperator in real dag.test() runs, sync and deferrable, against the local KFP server."""

from __future__ import annotations

import datetime

import pytest

from tests.provider.dagrun import run_dag, task_instance, xcom

pytestmark = [pytest.mark.airflow, pytest.mark.usefixtures("airflow_db")]

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])


def _dag(dag_id: str, package, **op_kwargs):
    from airflow.sdk import DAG

    from airflow_plugins.operators.kfp import KfpRunPipelineOperator

    with DAG(dag_id, schedule=None, start_date=START, params={"lr": "0.1"}) as dag:
        KfpRunPipelineOperator(
            task_id="run",
            pipeline_package=str(package),
            parameters={"ds": "{{ ds }}", "run_id": "{{ run_id }}"},
            experiment_name="provider-tests",
            poll_interval=0.2,
            **op_kwargs,
        )
    return dag


def _runs(kfp) -> list:
    from bridge.kfp import KfpClient

    with KfpClient(host=kfp.url) as client:
        return list(client.list_runs(namespace=None, page_size=200).items)


@MODES
def test_success_pushes_xcom_and_returns_summary(kfp, pipeline_package, deferrable):
    dag_id = f"kfp_success_{deferrable}"
    dr = run_dag(_dag(dag_id, pipeline_package, deferrable=deferrable))
    assert dr.state == "success"
    summary = xcom(dr, "run")
    assert summary["state"] == "SUCCEEDED"
    run_id = xcom(dr, "run", "run_id")
    assert summary["run_id"] == run_id
    assert xcom(dr, "run", "run_url") == f"http://kfp-ui.test/#/runs/details/{run_id}"
    assert summary["run_url"] == xcom(dr, "run", "run_url")
    assert xcom(dr, "run", "experiment_id") == summary["experiment_id"]
    assert xcom(dr, "run", "_link_KfpRunLink") == xcom(dr, "run", "run_url")
    [run] = [r for r in _runs(kfp) if r.run_id == run_id]
    params = run.raw["runtime_config"]["parameters"]
    assert params["ds"] == dr.logical_date.strftime("%Y-%m-%d")
    assert params["run_id"] == dr.run_id
