"""KfpRunTrigger on its own: serialisation, one event per run, resuming after a restart,
on_kill, and errors that say what failed. Real HTTP to the local KFP server."""

from __future__ import annotations

import asyncio
import time

import pytest

from af2kfp.airflow_plugins.triggers.kfp import KfpRunTrigger
from af2kfp.bridge.kfp import KfpClient, RunSpec

pytestmark = pytest.mark.airflow


def _submit(kfp, package, fate: str) -> str:
    with KfpClient(host=kfp.url) as client:
        spec = RunSpec(
            display_name=f"trigger-{fate}-{time.time()}",
            package=package,
            experiment_name="trigger-tests",
            parameters={"ds": "x", "af2kfp_fate": fate},
        )
        return client.submit_run(spec).run_id


async def _settled_state(client: KfpClient, run_id: str, seconds: float) -> str:
    """The run's state once it is terminal, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        run = client.get_run(run_id)
        if run.state.is_terminal or time.monotonic() > deadline:
            return run.state.value
        await asyncio.sleep(0.1)


async def _events(trigger: KfpRunTrigger) -> list:
    return [event async for event in trigger.run()]


def _restore(trigger: KfpRunTrigger) -> KfpRunTrigger:
    """What the triggerer does: import the class path and call it with the stored kwargs."""
    from tests.provider.airflow_versions import import_string

    classpath, kwargs = trigger.serialize()
    return import_string(classpath)(**kwargs)


def test_serialize_is_the_classpath_and_plain_kwargs():
    trigger = KfpRunTrigger(
        run_id="r-1",
        kfp_conn_id="kfp_x",
        namespace="team-a",
        poll_interval=3.0,
        end_time=1700000000.5,
        cancel_on_kill=False,
        failure_states=["FAILED", "CANCELED"],
        unexpected_state_timeout=60.0,
    )
    assert trigger.serialize() == (
        "af2kfp.airflow_plugins.triggers.kfp.KfpRunTrigger",
        {
            "run_id": "r-1",
            "kfp_conn_id": "kfp_x",
            "namespace": "team-a",
            "poll_interval": 3.0,
            "end_time": 1700000000.5,
            "unexpected_state_timeout": 60.0,
            "cancel_on_kill": False,
            "success_states": None,
            "failure_states": ["FAILED", "CANCELED"],
        },
    )
    assert _restore(trigger).serialize() == trigger.serialize()


def test_unknown_state_names_are_refused():
    with pytest.raises(ValueError, match="unknown KFP run state 'DONE'"):
        KfpRunTrigger(run_id="r", success_states=["DONE"])


@pytest.mark.parametrize(
    ("fate", "status", "text"),
    [
        ("succeed:0.3", "success", "ended SUCCEEDED"),
        ("fail:extract:bad input", "failure", "task 'extract' failed (pod provider-test-"),
        ("cancel:0.2", "failure", "ended CANCELED: run was canceled"),
    ],
)
async def test_run_yields_exactly_one_event(kfp_server, kfp, pipeline_package, fate, status, text):
    run_id = _submit(kfp, pipeline_package, fate)
    [event] = await _events(KfpRunTrigger(run_id=run_id, poll_interval=0.1))
    assert event.payload["status"] == status
    assert event.payload["run_id"] == run_id
    assert text in event.payload["message"]
    assert event.payload["run"]["run_id"] == run_id


async def test_timeout_event_leaves_the_run_going(kfp_server, kfp, pipeline_package):
    run_id = _submit(kfp, pipeline_package, "hang")
    [event] = await _events(KfpRunTrigger(run_id=run_id, poll_interval=0.1, end_time=time.time() + 0.4))
    assert event.payload["status"] == "timeout"
    assert "did not finish before the timeout" in event.payload["message"]
    with KfpClient(host=kfp.url) as client:
        assert client.get_run(run_id).state.value == "RUNNING"
        client.terminate_run(run_id)


async def test_a_restored_trigger_resumes_polling(kfp_server, kfp, pipeline_package):
    """The triggerer restarts mid-wait: the first instance is cancelled, a copy rebuilt from
    serialize() picks the same run up and reports its end."""
    run_id = _submit(kfp, pipeline_package, "succeed:5")  # still running after a slow first poll
    first = KfpRunTrigger(run_id=run_id, poll_interval=0.1)
    kfp.reset_stats()

    def polls() -> int:
        return sum(n for route, n in kfp.stats().items() if route.startswith("GET") and "runs" in route)

    task = asyncio.ensure_future(_events(first))
    deadline = time.monotonic() + 30  # the first poll takes a second or more on a busy box
    while not polls() and not task.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    polls_before_restart = polls()
    assert polls_before_restart >= 1
    [event] = await _events(_restore(first))
    assert event.payload["status"] == "success"
    assert event.payload["run"]["state"] == "SUCCEEDED"


async def test_polling_does_not_block_the_event_loop(kfp_server, kfp, pipeline_package):
    """Two waits and a ticker share one loop: the ticker keeps ticking while both poll."""
    run_ids = [_submit(kfp, pipeline_package, "succeed:3") for _ in range(2)]
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.02)

    tick = asyncio.ensure_future(ticker())
    results = await asyncio.gather(*(_events(KfpRunTrigger(run_id=r, poll_interval=0.1)) for r in run_ids))
    tick.cancel()
    assert [events[0].payload["status"] for events in results] == ["success", "success"]
    assert ticks >= 10  # dozens a second on an idle machine; a blocking client would allow about none


@pytest.mark.parametrize("cancel_on_kill", [True, False])
async def test_on_kill_terminates_the_run(kfp_server, kfp, pipeline_package, cancel_on_kill):
    """As the Airflow 3.3 triggerer does on a user's kill: cancel the wait, then call on_kill."""
    run_id = _submit(kfp, pipeline_package, "hang")
    trigger = KfpRunTrigger(run_id=run_id, poll_interval=0.1, cancel_on_kill=cancel_on_kill)
    waiting = asyncio.ensure_future(_events(trigger))
    await asyncio.sleep(0.3)
    waiting.cancel("user action")
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await trigger.on_kill()
    with KfpClient(host=kfp.url) as client:
        state = await _settled_state(client, run_id, seconds=5.0 if cancel_on_kill else 0.6)
        assert state == ("CANCELED" if cancel_on_kill else "RUNNING")
        if not cancel_on_kill:
            client.terminate_run(run_id)


async def test_an_api_error_becomes_an_event_naming_it(kfp_server, kfp):
    [event] = await _events(KfpRunTrigger(run_id="no-such-run", poll_interval=0.1))
    assert event.payload["status"] == "error"
    message = event.payload["message"]
    assert message.startswith("waiting for KFP run no-such-run failed (last state: unknown): ")
    assert "HTTP 404" in message


async def test_transient_faults_do_not_end_the_wait(kfp_server, kfp, pipeline_package):
    run_id = _submit(kfp, pipeline_package, "succeed:0.5")
    kfp.fault("status", count=2, status=503, path=f"/apis/v2beta1/runs/{run_id}", method="GET")
    kfp.fault("drop", count=1, path=f"/apis/v2beta1/runs/{run_id}", method="GET")
    [event] = await _events(KfpRunTrigger(run_id=run_id, poll_interval=0.1))
    assert event.payload["status"] == "success"
    assert kfp.faults() == []


async def test_an_outage_longer_than_the_client_retries_does_not_end_the_wait(
    kfp_server, kfp, pipeline_package, monkeypatch
):
    """Two attempts per call here; five 503s in a row fail two polls, and the wait goes on."""
    import json

    monkeypatch.setenv(
        "AIRFLOW_CONN_KFP_FLAKY",
        json.dumps(
            {
                "conn_type": "kubeflow_pipelines",
                "host": kfp.url,
                "extra": {"retries": 2, "retry_backoff": 0.01},
            }
        ),
    )
    run_id = _submit(kfp, pipeline_package, "succeed:0.5")
    kfp.fault("status", count=5, status=503, path=f"/apis/v2beta1/runs/{run_id}", method="GET")
    [event] = await _events(KfpRunTrigger(run_id=run_id, kfp_conn_id="kfp_flaky", poll_interval=0.1))
    assert event.payload["status"] == "success"
    assert kfp.faults() == []


async def test_triggers_of_one_connection_share_one_http_pool(kfp_server, kfp, pipeline_package, monkeypatch):
    """The triggerer waits on many runs at once: the triggers of one connection share one HTTP
    pool (one TLS context), another connection gets its own, and each wait still ends alone."""
    import os

    from af2kfp.airflow_plugins.hooks.kfp import KfpHook

    monkeypatch.setenv("AIRFLOW_CONN_KFP_OTHER", os.environ["AIRFLOW_CONN_KFP_DEFAULT"])
    async with KfpHook().async_client() as a, KfpHook().async_client() as b:
        async with KfpHook("kfp_other").async_client() as c:
            assert a._http is b._http and a._http is not c._http
    assert not a._http.is_closed  # leaving one trigger's block leaves the pool to the others
    run_ids = [_submit(kfp, pipeline_package, f"succeed:{0.2 + i / 20}") for i in range(20)]
    kfp.reset_stats()
    results = await asyncio.gather(*(_events(KfpRunTrigger(run_id=r, poll_interval=0.1)) for r in run_ids))
    assert [event.payload["run_id"] for [event] in results] == run_ids
    assert {event.payload["status"] for [event] in results} == {"success"}
    assert kfp.stats()["GET /apis/v2beta1/runs/{run_id}"] >= 20
