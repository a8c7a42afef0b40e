"""KfpRunSensor and KfpUploadPipelineOperator in real dag.test() runs against the local KFP server."""

from __future__ import annotations

import datetime
import time

import pytest

from af2kfp.bridge.kfp import KfpClient, RunSpec
from tests.provider.dagrun import extra_link, run_dag, task_instance, xcom

pytestmark = [pytest.mark.airflow, pytest.mark.usefixtures("airflow_db")]

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
FAILURES: list[str] = []


def _record_failure(context) -> None:
    FAILURES.append(str(context["exception"]))


def _submit(kfp, package, fate: str) -> str:
    with KfpClient(host=kfp.url) as client:
        spec = RunSpec(
            display_name=f"sensor-{time.time()}",
            package=package,
            experiment_name="sensor-tests",
            parameters={"ds": "x", "af2kfp_fate": fate},
        )
        return client.submit_run(spec).run_id


def _sensor_dag(dag_id: str, run_id: str, deferrable: bool, **sensor_kwargs):
    from tests.provider.airflow_versions import DAG

    from af2kfp.airflow_plugins.sensors.kfp import KfpRunSensor

    FAILURES.clear()
    with DAG(dag_id, schedule=None, start_date=START, params={"kfp_run": run_id}) as dag:
        KfpRunSensor(
            task_id="wait",
            run_id="{{ params.kfp_run }}",
            deferrable=deferrable,
            poke_interval=0.2,
            timeout=30,
            on_failure_callback=_record_failure,
            **sensor_kwargs,
        )
    return dag


@MODES
def test_sensor_succeeds_when_the_run_succeeds(kfp, pipeline_package, deferrable):
    run_id = _submit(kfp, pipeline_package, "succeed:0.6")
    dr = run_dag(_sensor_dag(f"kfp_sensor_ok_{deferrable}", run_id, deferrable))
    assert dr.state == "success", FAILURES
    assert xcom(dr, "wait", "run_id") == run_id
    assert extra_link(dr, "wait") == f"http://kfp-ui.test/#/runs/details/{run_id}"
    with KfpClient(host=kfp.url) as client:
        assert client.get_run(run_id).state.value == "SUCCEEDED"


@MODES
def test_sensor_fails_with_the_kfp_error(kfp, pipeline_package, deferrable):
    run_id = _submit(kfp, pipeline_package, "fail:extract:no such table")
    dr = run_dag(_sensor_dag(f"kfp_sensor_fail_{deferrable}", run_id, deferrable))
    assert dr.state == "failed"
    [message] = FAILURES
    assert "ended FAILED" in message and "task 'extract' failed" in message and "no such table" in message


@MODES
def test_sensor_fails_on_a_state_nobody_expects(kfp, pipeline_package, deferrable):
    run_id = _submit(kfp, pipeline_package, "stuck:PAUSED")
    dag = _sensor_dag(f"kfp_sensor_paused_{deferrable}", run_id, deferrable, unexpected_state_timeout=1.0)
    dr = run_dag(dag)
    assert dr.state == "failed"
    [message] = FAILURES
    assert f"KFP run {run_id} has been in state 'PAUSED'" in message


def _upload_dag(dag_id: str, package, version_name: str | None):
    from tests.provider.airflow_versions import DAG

    from af2kfp.airflow_plugins.operators.kfp import KfpUploadPipelineOperator

    with DAG(dag_id, schedule=None, start_date=START) as dag:
        KfpUploadPipelineOperator(
            task_id="upload",
            pipeline_package=str(package),
            pipeline_name="uploaded-by-airflow",
            version_name=version_name,
        )
    return dag


def test_upload_creates_a_pipeline_then_versions(kfp, pipeline_package):
    first = xcom(run_dag(_upload_dag("kfp_upload_1", pipeline_package, None)), "upload")
    second_run = run_dag(_upload_dag("kfp_upload_2", pipeline_package, "v2"))
    second = xcom(second_run, "upload")
    again = xcom(run_dag(_upload_dag("kfp_upload_3", pipeline_package, "v2")), "upload")
    assert first["pipeline_name"] == second["pipeline_name"] == "uploaded-by-airflow"
    assert second["pipeline_id"] == first["pipeline_id"]
    assert second["version_name"] == "v2" and second["pipeline_version_id"] != first["pipeline_version_id"]
    assert again == second  # a retry finds its version instead of uploading a twin
    with KfpClient(host=kfp.url) as client:
        versions = client.list_pipeline_versions(first["pipeline_id"], page_size=50).items
    assert sorted(v.display_name for v in versions).count("v2") == 1


def test_uploaded_pipeline_runs_by_name(kfp, pipeline_package):
    from tests.provider.airflow_versions import DAG

    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator, KfpUploadPipelineOperator

    with DAG("kfp_upload_then_run", schedule=None, start_date=START) as dag:
        upload = KfpUploadPipelineOperator(
            task_id="upload",
            pipeline_package=str(pipeline_package),
            pipeline_name="run-me-by-name",
            version_name="{{ ds_nodash }}",
        )
        run = KfpRunPipelineOperator(
            task_id="run",
            pipeline_name="run-me-by-name",
            pipeline_version_name="{{ ds_nodash }}",
            parameters={"ds": "{{ ds }}"},
            poll_interval=0.2,
            deferrable=True,
        )
        upload >> run
    dr = run_dag(dag)
    assert dr.state == "success"
    with KfpClient(host=kfp.url) as client:
        run = client.get_run(xcom(dr, "run", "run_id"))
    assert (
        run.raw["pipeline_version_reference"]["pipeline_version_id"]
        == xcom(dr, "upload")["pipeline_version_id"]
    )


@MODES
def test_sensor_times_out_as_sensors_do(kfp, pipeline_package, deferrable):
    from tests.provider.airflow_versions import DAG

    from af2kfp.airflow_plugins.sensors.kfp import KfpRunSensor

    run_id = _submit(kfp, pipeline_package, "hang")
    FAILURES.clear()
    with DAG(f"kfp_sensor_timeout_{deferrable}", schedule=None, start_date=START) as dag:
        KfpRunSensor(
            task_id="wait",
            run_id=run_id,
            deferrable=deferrable,
            poke_interval=0.2,
            timeout=0.6,
            soft_fail=True,
            on_failure_callback=_record_failure,
        )
    dr = run_dag(dag)
    assert task_instance(dr, "wait").state == "skipped", FAILURES
    with KfpClient(host=kfp.url) as client:
        assert client.get_run(run_id).state.value == "RUNNING"  # a sensor never stops what it watches
        client.terminate_run(run_id)


def test_poking_goes_on_through_an_api_outage(kfp, pipeline_package, monkeypatch):
    import json

    from tests.provider.airflow_versions import DAG

    from af2kfp.airflow_plugins.sensors.kfp import KfpRunSensor

    monkeypatch.setenv(
        "AIRFLOW_CONN_KFP_ONE_TRY",
        json.dumps({"conn_type": "kubeflow_pipelines", "host": kfp.url, "extra": {"retries": 1}}),
    )
    run_id = _submit(kfp, pipeline_package, "succeed:0.5")
    kfp.fault("status", count=3, status=503, path=f"/apis/v2beta1/runs/{run_id}", method="GET")
    FAILURES.clear()
    with DAG("kfp_sensor_outage", schedule=None, start_date=START) as dag:
        KfpRunSensor(
            task_id="wait",
            run_id=run_id,
            kfp_conn_id="kfp_one_try",
            poke_interval=0.1,
            timeout=30,
            on_failure_callback=_record_failure,
        )
    dr = run_dag(dag)
    assert dr.state == "success", FAILURES
    assert kfp.faults() == []


def test_an_unknown_run_id_fails_the_sensor_naming_it(kfp):
    dr = run_dag(_sensor_dag("kfp_sensor_unknown", "no-such-run", deferrable=False))
    assert dr.state == "failed"
    [message] = FAILURES
    assert message.startswith("wait: reading KFP run no-such-run failed: ") and "HTTP 404" in message
