"""The client's recurring-run methods, both faces, against the project's local KFP server
over real HTTP: created once however the create fails (the server's injected faults, some
hitting the answer after the recurring run was created), then listed, found, disabled,
enabled and deleted; and kfp.Client sees the same recurring run as ours."""

import json
from pathlib import Path

import pytest

from af2kfp.bridge.kfp import (
    AsyncKfpClient,
    KfpApiError,
    KfpClient,
    KfpConfig,
    KfpNotFoundError,
    RecurringRunSpec,
    RetryPolicy,
    RunSpec,
    Schedule,
)
from af2kfp.bridge.kfp_server import start_server
from tests.bridge_client.conftest import call

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "expected"
SCHEDULE = SAMPLES / "docker_sales_etl" / "schedule.json"
CREATE = "/apis/v2beta1/recurringruns"


@pytest.fixture
def local(tmp_path):
    server = start_server(tmp_path / "kfp.db", control=True, run_seconds=0.3, pending_seconds=0.05)
    yield server
    server.stop()


@pytest.fixture
def ctl(local):
    with local.control() as control:
        yield control


def config(local, **options):
    retry = RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=0.2, jitter=0.0)
    return KfpConfig(host=local.url, retry=retry, **options)


@pytest.fixture
async def client(local, face):
    if face == "sync":
        with KfpClient(config(local)) as sync_client:
            yield sync_client
    else:
        async with AsyncKfpClient(config(local)) as async_client:
            yield async_client


def nightly(**run) -> RecurringRunSpec:
    return RecurringRunSpec.from_schedule(SCHEDULE, experiment_name="etl", parameters={}, **run)


async def recurring_runs(client, name="docker_sales_etl"):
    page = await call(client, "list_recurring_runs")
    return [r for r in page.items if r.display_name == name]


async def test_submit_list_find_disable_enable_delete(client, local):
    created = await call(client, "submit_recurring_run", nightly())
    assert created.enabled and created.cron == "0 0 2 * * *" and created.max_concurrency == 10
    assert created.start_time == "2024-01-01T00:00:00Z" and created.no_catchup
    found = await call(client, "find_recurring_run", "docker_sales_etl", experiment_id=created.experiment_id)
    assert found.recurring_run_id == created.recurring_run_id
    assert await call(client, "find_recurring_run", "absent") is None
    fetched = await call(client, "get_recurring_run", created.recurring_run_id)
    assert fetched == created

    page = await call(client, "list_runs", experiment_id=created.experiment_id)
    (first,) = page.items  # no catch-up since 2024: only the latest 02:00 UTC ran
    assert first.recurring_run_id == created.recurring_run_id and first.scheduled_at.endswith("T02:00:00Z")

    await call(client, "disable_recurring_run", created.recurring_run_id)
    assert not (await call(client, "get_recurring_run", created.recurring_run_id)).enabled
    await call(client, "enable_recurring_run", created.recurring_run_id)
    assert (await call(client, "get_recurring_run", created.recurring_run_id)).enabled
    await call(client, "delete_recurring_run", created.recurring_run_id)
    with pytest.raises(KfpNotFoundError):
        await call(client, "get_recurring_run", created.recurring_run_id)


async def test_created_disabled_and_on_an_uploaded_pipeline(client, local):
    package = SAMPLES / "schedule_every_six_hours" / "pipeline.yaml"
    pipeline = await call(client, "upload_pipeline", package, name="six")
    v1 = await call(client, "latest_pipeline_version", pipeline.pipeline_id)
    spec = RecurringRunSpec(run=RunSpec(display_name="pinned", pipeline_name="six"),
                            schedule=Schedule(interval_second=21600, enabled=False))
    pinned = await call(client, "submit_recurring_run", spec)
    assert not pinned.enabled and (pinned.pipeline_id, pinned.pipeline_version_id) == (
        pipeline.pipeline_id, v1.pipeline_version_id,
    )
    follows = RecurringRunSpec(run=RunSpec(display_name="follows", pipeline_name="six"),
                               schedule=Schedule(cron_expression="@hourly"), follow_latest_version=True)
    latest = await call(client, "submit_recurring_run", follows)
    assert (latest.pipeline_id, latest.pipeline_version_id) == (pipeline.pipeline_id, None)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503, "after": True},  # created, but the answer is an error
        {"kind": "drop", "after": True},  # created, but the connection dropped before the answer
        {"kind": "status", "status": 502},  # refused before anything was created
        {"kind": "drop"},  # dropped before anything was created
    ],
)
async def test_a_failed_create_leaves_exactly_one_recurring_run(client, ctl, fault):
    ctl.fault(**fault, path=CREATE, method="POST")
    created = await call(client, "submit_recurring_run", nightly())
    assert [r.recurring_run_id for r in await recurring_runs(client)] == [created.recurring_run_id]
    creates = ctl.stats()["POST /apis/v2beta1/recurringruns"]
    assert creates == (1 if fault.get("after") else 2)  # looked before sending again
    runs = (await call(client, "list_runs", experiment_id=created.experiment_id)).items
    assert len(runs) == 1  # and its first tick ran once


async def test_a_slow_answer_after_the_create_is_not_resent(local, ctl, face):
    """The client times out while the server, having created it, is still answering."""
    ctl.fault("delay", delay=0.6, after=True, path=CREATE, method="POST")
    slow = config(local, timeout=0.2)
    client = KfpClient(slow) if face == "sync" else AsyncKfpClient(slow)
    try:
        created = await call(client, "submit_recurring_run", nightly())
        assert [r.recurring_run_id for r in await recurring_runs(client)] == [created.recurring_run_id]
    finally:
        await call(client, "close" if face == "sync" else "aclose")
    assert ctl.stats()["POST /apis/v2beta1/recurringruns"] == 1


async def test_an_earlier_recurring_run_of_the_same_name_is_not_taken_for_the_new_one(client, ctl):
    first = await call(client, "submit_recurring_run", nightly())
    ctl.fault("status", status=503, path=CREATE, method="POST")  # before applying: nothing new to find
    second = await call(client, "submit_recurring_run", nightly())
    assert second.recurring_run_id != first.recurring_run_id
    assert len(await recurring_runs(client)) == 2


async def test_without_dedupe_an_ambiguous_create_fails_and_says_so(client, ctl):
    ctl.fault("status", status=503, after=True, path=CREATE, method="POST")
    with pytest.raises(KfpApiError) as info:
        await call(client, "submit_recurring_run", nightly(dedupe=False))
    assert info.value.maybe_applied and ctl.stats()["POST /apis/v2beta1/recurringruns"] == 1


async def test_the_server_refusal_is_the_error(client):
    spec = RecurringRunSpec(run=RunSpec(display_name="bad", package=SCHEDULE.parent / "pipeline.yaml"),
                            schedule=Schedule(cron_expression="0 0 0 L * *"))
    with pytest.raises(KfpApiError, match="Schedule cron is not a supported format") as info:
        await call(client, "submit_recurring_run", spec)
    assert info.value.status == 400


def test_ours_and_kfp_clients_create_the_same_recurring_run(local):
    import warnings

    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs_client = kfp.Client(host=local.url)
    experiment = theirs_client.create_experiment("etl")
    keywords = json.loads(SCHEDULE.read_text())["recurring_run"]
    theirs = theirs_client.create_recurring_run(
        experiment.experiment_id, pipeline_package_path=str(SCHEDULE.parent / "pipeline.yaml"), params={}, **keywords
    )
    with KfpClient(config(local)) as ours_client:
        ours = ours_client.submit_recurring_run(nightly(dedupe=False))
    mine = theirs_client.get_recurring_run(ours.recurring_run_id).to_dict()
    other = theirs_client.get_recurring_run(theirs.recurring_run_id).to_dict()
    for answer in (mine, other):
        for key in ("recurring_run_id", "created_at", "updated_at"):
            answer.pop(key)
    assert mine == other
