"""The one wait of af2kfp.bridge.kfp.waiting (options, one poll, the deadline) and the upload-or-find
of af2kfp.bridge.kfp.uploads that the Airflow operators, trigger and sensor now only adapt."""

from __future__ import annotations

import time

import pytest

from af2kfp.bridge.kfp import (
    KfpUnexpectedStateError,
    KfpWaitTimeoutError,
    RunSpec,
    RunState,
    RunWatch,
    Verdict,
    WaitOptions,
    load_package,
)
from tests.bridge_client.conftest import FAST_RETRY, call
from tests.bridge_client.fake_kfp import Fault

TINY = "pipelineInfo: {name: tiny}\nroot: {dag: {tasks: {}}}\n"


def test_wait_options_are_checked_once_for_every_waiter():
    options = WaitOptions.create(success_states=["succeeded", "canceled"], failure_states=["FAILED"], poll_interval=2)
    assert options.policy.classify("CANCELED") is Verdict.SUCCESS
    assert options.policy.classify("SKIPPED") is Verdict.SUCCESS  # SKIPPED joins success unless named
    assert options.poll_interval == 2 and options.timeout is None
    with pytest.raises(ValueError, match="unknown KFP run state 'DONE'"):
        WaitOptions.create(success_states=["DONE"])
    with pytest.raises(ValueError, match=r"terminal states \['CANCELED'\] must count"):
        WaitOptions.create(failure_states=["FAILED"])
    with pytest.raises(ValueError, match="poll_interval must be positive, got 0"):
        WaitOptions(poll_interval=0)
    with pytest.raises(ValueError, match="unexpected_state_timeout must be >= 0"):
        WaitOptions(unexpected_state_timeout=-1)


def test_a_wall_clock_deadline_survives_a_new_process():
    """A trigger's end_time is epoch seconds: a watch rebuilt elsewhere keeps the same deadline."""
    options = WaitOptions(poll_interval=10.0, timeout=60.0)
    soon = RunWatch("r", options, end_time=time.time() + 2.0)
    assert 0 < soon.pause() <= 2.0
    late = RunWatch("r", options, end_time=time.time() - 1.0)
    late.last_state = "RUNNING"
    with pytest.raises(KfpWaitTimeoutError, match=r"did not finish within 60s \(last state: RUNNING\)"):
        late.pause()
    assert RunWatch("r", WaitOptions(poll_interval=3.0)).pause() == 3.0  # no timeout, no end


async def test_one_poll_rides_out_an_outage_longer_than_the_retries(make_client, fake, tmp_path):
    """What the sensor does per poke and the trigger per loop: an outage is "not yet", not an end."""
    client = make_client()
    package = tmp_path / "p.yaml"
    package.write_text(TINY)
    run = await call(client, "submit_run", RunSpec(display_name="outage", package=package))
    fake.script_run(run.run_id, "RUNNING", "SUCCEEDED")
    watch = RunWatch(run.run_id, WaitOptions(poll_interval=0.01))
    assert await call(client, "poll_run", watch) is Verdict.WAIT and watch.last_state == "RUNNING"
    fake.fail(*[Fault("status", status=503, method="GET", path=f"/runs/{run.run_id}$")] * FAST_RETRY.max_attempts)
    assert await call(client, "poll_run", watch) is Verdict.WAIT
    assert watch.last_run is None and watch.last_state == "RUNNING"
    assert await call(client, "poll_run", watch) is Verdict.SUCCESS
    assert watch.last_run is not None and watch.last_run.state is RunState.SUCCEEDED


async def test_a_run_stuck_in_an_unexpected_state_ends_every_wait(make_client, fake, tmp_path):
    client = make_client()
    package = tmp_path / "p.yaml"
    package.write_text(TINY)
    run = await call(client, "submit_run", RunSpec(display_name="stuck", package=package))
    fake.script_run(run.run_id, "PAUSED")
    watch = RunWatch(run.run_id, WaitOptions(poll_interval=0.01, unexpected_state_timeout=0.05))
    with pytest.raises(KfpUnexpectedStateError, match="in state 'PAUSED'"):
        await call(client, "watch_run", watch)
    assert watch.last_run is not None and watch.last_state == "PAUSED"


async def test_upload_or_find_never_uploads_twice(make_client, fake, tmp_path):
    client = make_client()
    package = tmp_path / "p.yaml"
    package.write_text(TINY)
    data = load_package(package).to_yaml()
    uploads = lambda: len(fake.seen("POST", "/apis/v2beta1/pipelines/upload_version"))  # noqa: E731

    pipeline, first = await call(client, "get_or_upload_pipeline", data, name="etl", default_version_name="etl-r1")
    assert first.display_name == "etl" and first.pipeline_id == pipeline.pipeline_id  # KFP's first version
    _, again = await call(client, "get_or_upload_pipeline", data, name="etl", default_version_name="etl-r1")
    assert again.display_name == "etl-r1" and uploads() == 1  # an existing pipeline gets a new version
    _, same = await call(client, "get_or_upload_pipeline", data, name="etl", default_version_name="etl-r1")
    assert same.pipeline_version_id == again.pipeline_version_id and uploads() == 1  # a retry finds it

    # the upload reached KFP but the answer was lost: found, not uploaded again
    fake.fail(Fault("drop_after", method="POST", path="/pipelines/upload_version"))
    _, lost = await call(client, "get_or_upload_pipeline", data, name="etl", version_name="v2",
                         default_version_name="unused")
    assert lost.display_name == "v2" and uploads() == 2
    names = sorted(v["display_name"] for v in fake.versions.values() if v["pipeline_id"] == pipeline.pipeline_id)
    assert names == ["etl", "etl-r1", "v2"]
