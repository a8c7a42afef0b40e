"""KFP's time placeholders under kfp.local: resolved as the backend resolves them, or not at all.

kfp.local (2.17) fails on them; :func:`time_placeholders` gives the creation time and the
scheduled time (a recurring run's, or the creation time for a one-off run), RFC 3339 UTC
with seconds, as the KFP backend's driver does (kubeflow/pipelines backend/src/v2/driver).
"""


import re
from datetime import datetime, timezone

import pytest
from kfp import dsl, local

from af2kfp.bridge.kfp_server.time_placeholders import rfc3339, time_placeholders


@dsl.component(base_image="python:3.11")
def echo(scheduled: str, created: str) -> str:
    return f"{scheduled}|{created}"


@dsl.pipeline(name="times")
def times() -> str:
    return echo(scheduled=dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
                created=dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER).set_caching_options(False).output


@pytest.fixture()
def runner(tmp_path):
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    yield


@pytest.mark.slow
def test_kfp_local_alone_cannot_resolve_them(runner):
    """A canary: when this fails, kfp.local resolves the time placeholders itself."""
    with pytest.raises(IndexError):
        times()


@pytest.mark.slow
def test_a_one_off_run_is_scheduled_when_it_is_created(runner):
    with time_placeholders():
        scheduled, created = times().output.split("|")
    assert scheduled == created and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    with time_placeholders(schedule_time=datetime(2024, 3, 5, tzinfo=timezone.utc)):
        scheduled, _ = times().output.split("|")
    assert scheduled == "2024-03-05T00:00:00Z"


def test_rfc3339_is_utc_with_whole_seconds():
    moment = datetime(2024, 3, 5, 1, 2, 3, 456789, tzinfo=timezone.utc)
    assert rfc3339(moment) == "2024-03-05T01:02:03Z"
    assert rfc3339(datetime.fromisoformat("2024-03-05T03:02:03+02:00")) == "2024-03-05T01:02:03Z"
