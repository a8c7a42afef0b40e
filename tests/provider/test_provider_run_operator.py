"""KfpRunPipelineOperator in real dag.test() runs, sync and deferrable, against the local KFP server."""

from __future__ import annotations

import datetime
import os
import signal
import threading
import time

import pytest

from af2kfp.bridge.kfp import KfpClient
from tests.provider.dagrun import extra_link, run_dag, task_instance, xcom

pytestmark = [pytest.mark.airflow, pytest.mark.usefixtures("airflow_db")]

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
FAILURES: list[str] = []


def _record_failure(context) -> None:
    FAILURES.append(str(context["exception"]))


def _dag(dag_id: str, package, *, operator=None, task_kwargs=None, **op_kwargs):
    from tests.provider.airflow_versions import DAG

    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator

    FAILURES.clear()
    parameters = {"ds": "{{ ds }}", "run_id": "{{ run_id }}", **op_kwargs.pop("parameters", {})}
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        (operator or KfpRunPipelineOperator)(
            task_id="run",
            pipeline_package=str(package),
            parameters=parameters,
            experiment_name="provider-tests",
            poll_interval=0.2,
            on_failure_callback=_record_failure,
            on_retry_callback=_record_failure,
            **(task_kwargs or {}),
            **op_kwargs,
        )
    return dag


def _runs(kfp, name: str | None = None) -> list:
    with KfpClient(host=kfp.url) as client:
        runs = list(client.list_runs(page_size=200).items)
    return [r for r in runs if name is None or r.display_name == name]


@MODES
def test_success_pushes_xcom_and_returns_summary(kfp, pipeline_package, deferrable):
    dr = run_dag(_dag(f"kfp_success_{deferrable}", pipeline_package, deferrable=deferrable))
    assert dr.state == "success"
    summary = xcom(dr, "run")
    assert summary["state"] == "SUCCEEDED"
    run_id = xcom(dr, "run", "run_id")
    assert summary["run_id"] == run_id
    assert xcom(dr, "run", "run_url") == f"http://kfp-ui.test/#/runs/details/{run_id}"
    assert summary["run_url"] == xcom(dr, "run", "run_url")
    assert xcom(dr, "run", "experiment_id") == summary["experiment_id"]
    # the extra link, as Airflow 3 stores it for the UI when the task ends
    assert extra_link(dr, "run") == xcom(dr, "run", "run_url")
    [run] = [r for r in _runs(kfp) if r.run_id == run_id]
    params = run.raw["runtime_config"]["parameters"]
    assert params == {"ds": dr.logical_date.strftime("%Y-%m-%d"), "run_id": dr.run_id}
    assert run.display_name.startswith(f"af2kfp-kfp_success_{deferrable}-run-manual")


def test_run_settings_reach_kfp(kfp, pipeline_package):
    dag = _dag(
        "kfp_settings",
        pipeline_package,
        pipeline_root="gs://bucket/{{ dag.dag_id }}",
        service_account="pipeline-runner",
        enable_caching=False,
        run_name="nightly-{{ ds_nodash }}",
    )
    dr = run_dag(dag)
    assert dr.state == "success", FAILURES
    with KfpClient(host=kfp.url) as client:
        run = client.get_run(xcom(dr, "run", "run_id"))
    assert run.display_name == "nightly-" + dr.logical_date.strftime("%Y%m%d")
    assert run.raw["runtime_config"]["pipeline_root"] == "gs://bucket/kfp_settings"
    assert run.raw["service_account"] == "pipeline-runner"
    tasks = run.raw["pipeline_spec"]["root"]["dag"]["tasks"]
    assert {name: task["cachingOptions"].get("enableCache", False) for name, task in tasks.items()} == {
        "extract": False,
        "train": False,
    }


@MODES
def test_failure_fails_the_task_with_the_kfp_error(kfp, pipeline_package, deferrable):
    dag = _dag(
        f"kfp_fail_{deferrable}",
        pipeline_package,
        deferrable=deferrable,
        parameters={"af2kfp_fate": "fail:train:OOMKilled while training"},
    )
    dr = run_dag(dag)
    assert dr.state == "failed"
    [message] = FAILURES
    assert "ended FAILED" in message
    assert "task 'train' failed (pod provider-test-" in message
    assert "OOMKilled while training" in message
    assert xcom(dr, "run", "run_url").startswith("http://kfp-ui.test/#/runs/details/")


@MODES
def test_canceled_run_fails_the_task(kfp, pipeline_package, deferrable):
    dr = run_dag(
        _dag(
            f"kfp_cancel_{deferrable}",
            pipeline_package,
            deferrable=deferrable,
            parameters={"af2kfp_fate": "cancel:0.2"},
        )
    )
    assert dr.state == "failed"
    [message] = FAILURES
    assert "ended CANCELED" in message and "run was canceled" in message


@MODES
def test_timeout_fails_the_task_and_leaves_the_run_going(kfp, pipeline_package, deferrable):
    dr = run_dag(
        _dag(
            f"kfp_timeout_{deferrable}",
            pipeline_package,
            deferrable=deferrable,
            timeout=0.6,
            parameters={"af2kfp_fate": "hang"},
        )
    )
    assert dr.state == "failed"
    [message] = FAILURES
    assert "did not finish" in message and "left going" in message
    [run] = [r for r in _runs(kfp) if r.run_id == xcom(dr, "run", "run_id")]
    assert run.state.value == "RUNNING"


@MODES
def test_transient_503s_and_dropped_connections_are_survived(kfp, pipeline_package, deferrable):
    kfp.fault("drop", count=1, path="/apis/v2beta1/runs", method="POST")
    kfp.fault("status", count=2, status=503, path="/apis/v2beta1/runs/*", method="GET")
    kfp.fault("drop", count=1, path="/apis/v2beta1/runs/*", method="GET")
    kfp.fault("status", count=1, status=503, path="/apis/v2beta1/experiments", method="GET")
    dr = run_dag(_dag(f"kfp_faults_{deferrable}", pipeline_package, deferrable=deferrable))
    assert dr.state == "success", FAILURES
    assert kfp.faults() == []  # every injected fault was met
    assert len(_runs(kfp, xcom(dr, "run")["display_name"])) == 1  # the dropped create made no twin


def _crashing_operator(*, state_store: bool = True):
    """The operator, losing its worker right after submitting on try 1 (and, with
    ``state_store=False``, as on Airflow < 3.3: no task state store)."""
    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator

    class CrashOnceOperator(KfpRunPipelineOperator):
        def execute(self, context):
            if not state_store:
                context = dict(context)
                context.pop("task_state_store", None)
            return super().execute(context)

        def _announce(self, context, run):
            super()._announce(context, run)
            if context["ti"].try_number == 1:
                raise RuntimeError("worker lost right after submitting")

    return CrashOnceOperator


@MODES
@pytest.mark.parametrize("state_store", [True, False], ids=["state-store", "by-name"])
def test_retry_reattaches_to_the_running_run(kfp, pipeline_package, deferrable, state_store):
    """Try 1 dies after submitting; try 2 waits on that same run instead of starting another."""
    dag = _dag(
        f"kfp_retry_{deferrable}_{state_store}",
        pipeline_package,
        deferrable=deferrable,
        operator=_crashing_operator(state_store=state_store),
        task_kwargs={"retries": 1, "retry_delay": datetime.timedelta(0)},
        parameters={"af2kfp_fate": "succeed:1.0"},
    )
    dr = run_dag(dag)
    assert dr.state == "success", FAILURES
    assert FAILURES == ["worker lost right after submitting"]
    assert task_instance(dr, "run").try_number == 2
    summary = xcom(dr, "run")
    assert summary["state"] == "SUCCEEDED"
    assert [r.run_id for r in _runs(kfp, summary["display_name"])] == [summary["run_id"]]


def test_retry_after_success_does_not_rerun(kfp, pipeline_package):
    """A run that already succeeded is not submitted again (e.g. the task failed after it)."""
    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator

    class FailAfterSuccess(KfpRunPipelineOperator):
        def execute(self, context):
            result = super().execute(context)
            if context["ti"].try_number == 1:
                raise RuntimeError("post-processing failed")
            return result

    dag = _dag(
        "kfp_retry_after_success",
        pipeline_package,
        operator=FailAfterSuccess,
        task_kwargs={"retries": 1, "retry_delay": datetime.timedelta(0)},
    )
    dr = run_dag(dag)
    assert dr.state == "success", FAILURES
    summary = xcom(dr, "run")
    assert len(_runs(kfp, summary["display_name"])) == 1


@pytest.mark.parametrize("rerun_failed", [False, True])
def test_retry_after_a_failed_run_starts_a_new_one_only_if_asked(kfp, pipeline_package, rerun_failed):
    kfp.script_next("fail:train:first attempt broke", count=1)
    dag = _dag(
        f"kfp_rerun_{rerun_failed}",
        pipeline_package,
        rerun_failed=rerun_failed,
        task_kwargs={"retries": 1, "retry_delay": datetime.timedelta(0)},
    )
    dr = run_dag(dag)
    assert task_instance(dr, "run").try_number == 2
    if rerun_failed:
        assert dr.state == "success", FAILURES
        runs = _runs(kfp, xcom(dr, "run")["display_name"])
        assert sorted(r.state.value for r in runs) == ["FAILED", "SUCCEEDED"]
    else:
        assert dr.state == "failed"
        assert len(FAILURES) == 2 and all("first attempt broke" in m for m in FAILURES)
        run_id = xcom(dr, "run", "run_id")
        [run] = [r for r in _runs(kfp) if r.run_id == run_id]
        assert len(_runs(kfp, run.display_name)) == 1


def test_no_wait_returns_after_submission(kfp, pipeline_package):
    dr = run_dag(
        _dag("kfp_nowait", pipeline_package, wait_for_termination=False, parameters={"af2kfp_fate": "hang"})
    )
    assert dr.state == "success"
    assert xcom(dr, "run")["state"] in ("PENDING", "RUNNING")
    _terminate(kfp, xcom(dr, "run", "run_id"))


def _terminate(kfp, run_id: str) -> None:
    with KfpClient(host=kfp.url) as client:
        client.terminate_run(run_id)


def _wait_state(kfp, run_id: str, state: str, seconds: float = 5.0) -> str:
    deadline = time.monotonic() + seconds
    with KfpClient(host=kfp.url) as client:
        while True:
            current = client.get_run(run_id).state.value
            if current == state or time.monotonic() > deadline:
                return current
            time.sleep(0.1)


def _run_killed(dag):
    """The failed DagRun of a killed task; None on Airflow 2, where dag.test() lets the kill
    (AirflowTaskTimeout, AirflowTaskTerminated: BaseExceptions there) escape after on_kill."""
    from tests.provider.airflow_versions import AIRFLOW_3

    if AIRFLOW_3:
        dr = run_dag(dag)
        assert dr.state == "failed"
        return dr
    from airflow.exceptions import AirflowTaskTerminated, AirflowTaskTimeout

    with pytest.raises((AirflowTaskTimeout, AirflowTaskTerminated)):
        run_dag(dag)
    return None


def _run_id_of(kfp, dr, dag_id: str) -> str:
    if dr is not None:
        return xcom(dr, "run", "run_id")
    [run] = [r for r in _runs(kfp) if r.display_name.startswith(f"af2kfp-{dag_id}-run-")]
    return run.run_id


@pytest.mark.parametrize("cancel_on_kill", [True, False])
def test_execution_timeout_kills_the_task_and_its_run(kfp, pipeline_package, cancel_on_kill):
    """Airflow calls on_kill when execution_timeout fires in the worker."""
    dag = _dag(
        f"kfp_kill_{cancel_on_kill}",
        pipeline_package,
        cancel_on_kill=cancel_on_kill,
        task_kwargs={"execution_timeout": datetime.timedelta(seconds=2)},
        parameters={"af2kfp_fate": "hang"},
    )
    dr = _run_killed(dag)
    run_id = _run_id_of(kfp, dr, f"kfp_kill_{cancel_on_kill}")
    if cancel_on_kill:
        assert _wait_state(kfp, run_id, "CANCELED") == "CANCELED"
    else:
        assert _wait_state(kfp, run_id, "CANCELED", seconds=0.5) == "RUNNING"
        _terminate(kfp, run_id)


def test_sigterm_kills_the_task_and_its_run(kfp, pipeline_package):
    """The Task SDK's SIGTERM handler calls on_kill while execute() is still waiting."""
    dag = _dag("kfp_sigterm", pipeline_package, parameters={"af2kfp_fate": "hang"})

    def kill_once_running() -> None:
        """SIGTERM only once the run exists: execute() and its signal handler are in place."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any("kfp_sigterm" in r.display_name and r.state.value == "RUNNING" for r in _runs(kfp)):
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.1)

    previous = signal.getsignal(signal.SIGTERM)
    killer = threading.Thread(target=kill_once_running, daemon=True)
    killer.start()
    try:
        dr = _run_killed(dag)
    finally:
        killer.join(timeout=30)
        signal.signal(signal.SIGTERM, previous)
    if dr is not None:  # Airflow 3: the task failed with the run's end
        [message] = FAILURES
        assert "ended CANCELED: run was terminated" in message
    assert _wait_state(kfp, _run_id_of(kfp, dr, "kfp_sigterm"), "CANCELED") == "CANCELED"


def test_mapped_tasks_get_one_run_each_from_a_convert_folder(kfp, pipeline_package):
    """``pipeline_package`` may be the folder ``af2kfp convert`` wrote; each mapped task
    instance gets its own deterministic run name (the map index is part of it)."""
    from tests.provider.airflow_versions import DAG

    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator

    with DAG("kfp_mapped", schedule=None, start_date=START) as dag:
        KfpRunPipelineOperator.partial(
            task_id="run",
            pipeline_package=str(pipeline_package.parent),
            experiment_name="provider-tests",
            poll_interval=0.2,
            deferrable=True,
        ).expand(parameters=[{"ds": "a"}, {"ds": "b"}])
    dr = run_dag(dag)
    assert dr.state == "success"
    names = sorted(r.display_name for r in _runs(kfp) if "kfp_mapped" in r.display_name)
    assert len(names) == 2 and names[0] != names[1]
    assert sorted(n.rsplit("-", 1)[0][-2:] for n in names) == ["-0", "-1"]  # ...-<map index>-<hash>


@pytest.mark.parametrize(("setting", "expected"), [("True", True), ("False", False)])
def test_deferrable_defaults_to_the_airflow_setting(monkeypatch, setting, expected):
    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator
    from af2kfp.airflow_plugins.sensors.kfp import KfpRunSensor

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", setting)
    assert KfpRunPipelineOperator(task_id="t", pipeline_name="p").deferrable is expected
    assert KfpRunSensor(task_id="s", run_id="r").deferrable is expected
    assert (
        KfpRunPipelineOperator(task_id="t", pipeline_name="p", deferrable=not expected).deferrable
        is not expected
    )


@pytest.mark.parametrize("sources", [{}, {"pipeline_package": "p.yaml", "pipeline_name": "p"}])
def test_one_pipeline_source_is_required_when_the_dag_is_parsed(sources):
    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator

    with pytest.raises(ValueError, match="t: give exactly one pipeline source"):
        KfpRunPipelineOperator(task_id="t", **sources)


def test_an_unknown_parameter_fails_before_anything_is_submitted(kfp, pipeline_package):
    dr = run_dag(_dag("kfp_bad_param", pipeline_package, parameters={"learning_rate": "0.1"}))
    assert dr.state == "failed"
    [message] = FAILURES
    assert "unknown pipeline parameter(s) learning_rate" in message
    assert str(pipeline_package) in message and "the pipeline takes: af2kfp_fate, ds, run_id" in message
    assert not [r for r in _runs(kfp) if "kfp_bad_param" in r.display_name]


def test_the_operator_survives_dag_serialisation_with_its_link(pipeline_package):
    from tests.provider.airflow_versions import serialization_round_trip

    dag = _dag("kfp_serialised", pipeline_package, deferrable=True)
    restored = serialization_round_trip(dag).get_task("run")
    assert [link.name for link in restored.operator_extra_links] == ["KFP run"]
    assert "parameters" in restored.template_fields and "pipeline_package" in restored.template_fields


def test_a_given_run_name_never_reattaches_another_dag_run(kfp, pipeline_package):
    """run_name="nightly" repeats every DAG run: the second DAG run must submit its own KFP run,
    not return the first one's old result (its own run fails here, so reuse would show)."""
    dag = _dag("kfp_fixed_name", pipeline_package, run_name="nightly")
    first = run_dag(dag)
    assert first.state == "success", FAILURES
    kfp.script_name("nightly", "fail:train:the second night broke", count=1)
    second = run_dag(dag)
    assert second.run_id != first.run_id
    assert second.state == "failed" and any("the second night broke" in m for m in FAILURES), FAILURES
    runs = _runs(kfp, "nightly")
    assert sorted(r.state.value for r in runs) == ["FAILED", "SUCCEEDED"]
    assert xcom(second, "run", "run_id") != xcom(first, "run", "run_id")


@pytest.mark.parametrize("state_store", [True, False], ids=["state-store", "no-state-store"])
def test_a_retry_with_a_given_run_name_reattaches_only_through_the_state_store(
    kfp, pipeline_package, state_store
):
    """With the task state store (Airflow 3.3+) the retry finds its run; without it, a given
    name is not looked up, so the retry submits a new run (the documented trade-off)."""
    from tests.provider.airflow_versions import has_task_state_store

    if state_store and not has_task_state_store():
        pytest.skip("this Airflow has no task state store")
    dag = _dag(
        f"kfp_named_retry_{state_store}",
        pipeline_package,
        run_name=f"named-{state_store}-{{{{ ds_nodash }}}}",
        operator=_crashing_operator(state_store=state_store),
        task_kwargs={"retries": 1, "retry_delay": datetime.timedelta(0)},
        parameters={"af2kfp_fate": "succeed:0.5"},
    )
    dr = run_dag(dag)
    assert dr.state == "success", FAILURES
    name = xcom(dr, "run")["display_name"]
    assert len(_runs(kfp, name)) == (1 if state_store else 2)


@MODES
def test_an_unexpected_run_state_fails_the_task_after_the_grace_period(kfp, pipeline_package, deferrable):
    """No timeout set: a run stuck in a state nobody expects still fails the task, naming it."""
    kfp.script_next("stuck:SOMETHING_NEW")
    dag = _dag(
        f"kfp_unexpected_{deferrable}",
        pipeline_package,
        deferrable=deferrable,
        unexpected_state_timeout=1.0,
    )
    started = time.monotonic()
    dr = run_dag(dag)
    assert dr.state == "failed"
    assert time.monotonic() - started < 60
    assert len(FAILURES) == 1 and "state 'SOMETHING_NEW'" in FAILURES[0], FAILURES
    _terminate(kfp, xcom(dr, "run", "run_id"))
