"""Conformance of the client with the project's local KFP server (``af2kfp kfp-server``),
both faces: the same v2beta1 JSON, scripted fates, injected faults.

No ``from __future__ import annotations`` here: kfp reads the component annotations.
"""

import pytest

from af2kfp.bridge.kfp import (
    AsyncKfpClient,
    KfpClient,
    KfpConfig,
    KfpNotFoundError,
    KfpRunFailedError,
    KfpUnexpectedStateError,
    RetryPolicy,
    RunSpec,
    RunState,
    deterministic_run_name,
)
from af2kfp.bridge.kfp_server import start_server
from tests.bridge_client.conftest import call


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def add(a: int, b: int) -> int:
        return a + b

    @dsl.component(base_image="python:3.11")
    def show(value: int) -> str:
        return str(value)

    @dsl.pipeline(name="sum-pipeline")
    def summed(a: int = 1, b: int = 2):
        show(value=add(a=a, b=b).output)

    path = tmp_path_factory.mktemp("local") / "pipeline.yaml"
    compiler.Compiler().compile(summed, str(path))
    return path


@pytest.fixture
def local(tmp_path):
    server = start_server(tmp_path / "kfp.db", control=True, run_fates=True, run_seconds=0.3, pending_seconds=0.05, cancel_seconds=0.1)
    yield server
    server.stop()


@pytest.fixture
def ctl(local):
    """The server's control API: scripted fates and injected faults."""
    with local.control() as control:
        yield control


@pytest.fixture
async def client(local, face):
    config = KfpConfig(host=local.url, retry=RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05))
    if face == "sync":
        with KfpClient(config) as sync_client:
            yield sync_client
    else:
        async with AsyncKfpClient(config) as async_client:
            yield async_client


async def test_submit_and_succeed(client, local, package):
    assert "multi_user" in await call(client, "healthz")
    name = deterministic_run_name("dag", "task", "run-1")
    run = await call(client, "submit_run", RunSpec(display_name=name, package=package, experiment_name="conf",
                                                   parameters={"a": 5}, enable_caching=False))
    assert run.state in (RunState.PENDING, RunState.RUNNING, RunState.RUNTIME_STATE_UNSPECIFIED)
    final = await call(client, "wait_for_run", run.run_id, poll_interval=0.05, timeout=10)
    assert final.state is RunState.SUCCEEDED and final.display_name == name
    found = await call(client, "find_run_by_name", run.experiment_id, name)
    assert found.run_id == run.run_id
    experiment = await call(client, "get_or_create_experiment", "conf")
    assert experiment.experiment_id == run.experiment_id


async def test_failure_message_names_the_task(client, ctl, package):
    ctl.script_next("fail:add:OOMKilled (exit code 137)")
    run = await call(client, "submit_run", RunSpec(display_name="fails", package=package))
    with pytest.raises(KfpRunFailedError) as info:
        await call(client, "wait_for_run", run.run_id, poll_interval=0.05, timeout=10)
    assert info.value.run.state is RunState.FAILED
    assert "'add' failed" in str(info.value) and "OOMKilled (exit code 137)" in str(info.value)


@pytest.mark.parametrize("state", ["PAUSED", "RUNTIME_STATE_UNSPECIFIED", "SOMETHING_NEW"])
async def test_an_unexpected_state_ends_a_wait_without_timeout(client, ctl, package, state):
    """No timeout: a run stuck in a state no waiter expects still ends the wait, named."""
    ctl.script_next(f"stuck:{state}")
    run = await call(client, "submit_run", RunSpec(display_name="stuck", package=package))
    with pytest.raises(KfpUnexpectedStateError) as info:
        await call(client, "wait_for_run", run.run_id, poll_interval=0.05, unexpected_state_timeout=0.5)
    assert info.value.state == state and f"state {state!r}" in str(info.value)
    assert info.value.seconds >= 0.5


async def test_terminate_ends_the_wait_canceled(client, ctl, package):
    ctl.script_next("hang")
    run = await call(client, "submit_run", RunSpec(display_name="hangs", package=package))
    await call(client, "terminate_run", run.run_id)
    with pytest.raises(KfpRunFailedError, match="ended CANCELED"):
        await call(client, "wait_for_run", run.run_id, poll_interval=0.05, timeout=10)


async def test_faults_are_survived_without_duplicates(client, ctl, package):
    ctl.fault("status", count=3, status=503, path="/apis/v2beta1/runs/*", method="GET")
    ctl.fault("drop", count=1, path="/apis/v2beta1/runs", method="POST")
    run = await call(client, "submit_run", RunSpec(display_name="faulty", package=package, experiment_name="f"))
    final = await call(client, "wait_for_run", run.run_id, poll_interval=0.05, timeout=10)
    assert final.state is RunState.SUCCEEDED
    page = await call(client, "list_runs", experiment_id=run.experiment_id)
    assert [r.display_name for r in page.items] == ["faulty"]


async def test_uploaded_pipeline_and_run_housekeeping(client, local, package):
    pipeline = await call(client, "upload_pipeline", package, name="sum")
    version = await call(client, "upload_pipeline_version", package, pipeline_id=pipeline.pipeline_id, name="v2")
    assert (await call(client, "find_pipeline", "sum")).pipeline_id == pipeline.pipeline_id
    latest = await call(client, "latest_pipeline_version", pipeline.pipeline_id)
    assert latest.pipeline_version_id == version.pipeline_version_id
    run = await call(client, "submit_run", RunSpec(display_name="by-name", pipeline_name="sum"))
    assert run.raw["pipeline_version_reference"]["pipeline_version_id"] == version.pipeline_version_id
    await call(client, "archive_run", run.run_id)
    assert (await call(client, "get_run", run.run_id)).storage_state == "ARCHIVED"
    await call(client, "delete_run", run.run_id)
    with pytest.raises(KfpNotFoundError):
        await call(client, "get_run", run.run_id)
