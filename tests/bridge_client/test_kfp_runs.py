"""Run lifecycle against the loopback server: submit (package, archive, uploaded pipeline,
convert output), experiments, caching, retry-safe creation, find by name, wait, terminate.

No ``from __future__ import annotations`` here: kfp reads the component annotations.
"""

import json
import tarfile
import zipfile

import pytest
import yaml

from af2kfp.bridge.kfp import (
    KfpApiError,
    KfpClient,
    KfpNotFoundError,
    KfpRunFailedError,
    KfpWaitTimeoutError,
    PipelineSourceError,
    RetryPolicy,
    RunSpec,
    RunState,
    StatePolicy,
    deterministic_run_name,
    load_package,
)
from tests.bridge_client.conftest import call
from tests.bridge_client.fake_kfp import Fault


@pytest.fixture(scope="module")
def package_path(tmp_path_factory):
    """A pipeline compiled by the real kfp compiler, with parameters and two tasks."""
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def say(text: str) -> str:
        return text

    @dsl.pipeline(name="hello-pipeline")
    def hello(greeting: str, times: int = 1):
        first = say(text=greeting)
        say(text=first.output).set_caching_options(True)

    path = tmp_path_factory.mktemp("pkg") / "pipeline.yaml"
    compiler.Compiler().compile(hello, str(path))
    return path


@pytest.fixture(scope="module")
def platform_package_path(tmp_path_factory):
    """A pipeline with a kfp-kubernetes platform setting (a second YAML document)."""
    from kfp import compiler, dsl, kubernetes

    @dsl.container_component
    def echo():
        return dsl.ContainerSpec(image="alpine", command=["echo"], args=["hi"])

    @dsl.pipeline(name="platform-pipeline")
    def plat():
        task = echo()
        kubernetes.add_pod_label(task, "team", "data")

    path = tmp_path_factory.mktemp("plat") / "pipeline.yaml"
    compiler.Compiler().compile(plat, str(path))
    return path


def _posted_run(fake) -> dict:
    return json.loads(fake.seen("POST", "/runs$")[-1].body)


async def test_submit_from_package(make_client, fake, package_path):
    client = make_client(namespace="team-a")
    run = await call(client, "submit_run", RunSpec(
        display_name="r1", package=package_path, experiment_name="etl", parameters={"greeting": "hi"},
        pipeline_root="gs://bucket/root", service_account="pipeline-runner", description="from test",
    ))
    assert run.run_id and run.state is RunState.PENDING and run.display_name == "r1"
    body = _posted_run(fake)
    assert body["pipeline_spec"]["pipelineInfo"]["name"] == "hello-pipeline"
    assert body["runtime_config"] == {"parameters": {"greeting": "hi"}, "pipeline_root": "gs://bucket/root"}
    assert body["service_account"] == "pipeline-runner" and body["description"] == "from test"
    assert "pipeline_version_reference" not in body
    (exp,) = fake.experiments.values()
    assert exp["display_name"] == "etl" and exp["namespace"] == "team-a" and body["experiment_id"] == exp["experiment_id"]
    assert fake.seen("GET", "/experiments$")[0].query["namespace"] == "team-a"
    # the second submission reuses the experiment
    await call(client, "submit_run", RunSpec(display_name="r2", package=package_path, experiment_name="etl",
                                             parameters={"greeting": "hey"}))
    assert len(fake.experiments) == 1 and len(fake.runs) == 2


async def test_caching_flag_rewrites_every_task(make_client, fake, package_path):
    client = make_client()
    await call(client, "submit_run", RunSpec(display_name="nocache", package=package_path,
                                             parameters={"greeting": "x"}, enable_caching=False))
    tasks = _posted_run(fake)["pipeline_spec"]["root"]["dag"]["tasks"]
    assert len(tasks) == 2 and all(t["cachingOptions"]["enableCache"] is False for t in tasks.values())
    await call(client, "submit_run", RunSpec(display_name="cache", package=package_path,
                                             parameters={"greeting": "x"}, enable_caching=True))
    tasks = _posted_run(fake)["pipeline_spec"]["root"]["dag"]["tasks"]
    assert all(t["cachingOptions"]["enableCache"] is True for t in tasks.values())
    # the loaded package and the file itself are untouched
    assert load_package(package_path).pipeline_spec == yaml.safe_load(package_path.read_text())


async def test_platform_spec_is_sent_as_kfp_client_does(make_client, fake, platform_package_path):
    client = make_client()
    await call(client, "submit_run", RunSpec(display_name="p", package=platform_package_path))
    spec = _posted_run(fake)["pipeline_spec"]
    assert set(spec) == {"pipeline_spec", "platform_spec"}
    assert "kubernetes" in json.dumps(spec["platform_spec"]) and "team" in json.dumps(spec["platform_spec"])


async def test_unknown_or_missing_parameters_name_the_file(make_client, fake, package_path):
    client = make_client()
    with pytest.raises(PipelineSourceError, match=r"pipeline.yaml: unknown pipeline parameter\(s\) colour"):
        await call(client, "submit_run", RunSpec(display_name="x", package=package_path,
                                                 parameters={"greeting": "a", "colour": "red"}))
    with pytest.raises(PipelineSourceError, match="missing required pipeline parameter.*greeting"):
        await call(client, "submit_run", RunSpec(display_name="x", package=package_path))
    with pytest.raises(PipelineSourceError, match="parameter 'greeting' is not a JSON value"):
        await call(client, "submit_run", RunSpec(display_name="x", package=package_path,
                                                 parameters={"greeting": object()}))
    assert not fake.seen("POST")


async def test_submit_from_archives_and_convert_folder(make_client, fake, package_path, tmp_path):
    tgz, zipped, folder = tmp_path / "p.tar.gz", tmp_path / "p.zip", tmp_path / "build" / "etl"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(package_path, arcname="pipeline.yaml")
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(package_path, arcname="my.yaml")
    folder.mkdir(parents=True)
    (folder / "pipeline.yaml").write_text(package_path.read_text())
    client = make_client()
    for source in (tgz, zipped, folder):
        await call(client, "submit_run", RunSpec(display_name=source.name, package=source,
                                                 parameters={"greeting": "a"}))
        assert _posted_run(fake)["pipeline_spec"]["pipelineInfo"]["name"] == "hello-pipeline"


def test_bad_packages_are_clear_errors(tmp_path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("a: [1,\nb: 2\n")
    with pytest.raises(PipelineSourceError, match=r"bad.yaml:\d+: not valid YAML"):
        load_package(bad_yaml)
    not_kfp = tmp_path / "dag.yaml"
    not_kfp.write_text("dag_id: x\n")
    with pytest.raises(PipelineSourceError, match="not a compiled KFP v2 pipeline"):
        load_package(not_kfp)
    with pytest.raises(PipelineSourceError, match="no pipeline.yaml"):
        load_package(tmp_path)
    with pytest.raises(PipelineSourceError, match="cannot read"):
        load_package(tmp_path / "missing.yaml")
    with pytest.raises(PipelineSourceError, match="exactly one pipeline source"):
        RunSpec(display_name="x")
    with pytest.raises(PipelineSourceError, match="exactly one pipeline source"):
        RunSpec(display_name="x", package="p.yaml", pipeline_name="p")


async def test_submit_from_uploaded_pipeline(make_client, fake, package_path):
    client = make_client()
    pipeline = await call(client, "upload_pipeline", package_path, name="hello")
    v2 = await call(client, "upload_pipeline_version", package_path, pipeline_id=pipeline.pipeline_id, name="v2")
    upload = fake.seen("POST", "/pipelines/upload$")[0]
    assert upload.query["name"] == "hello" and upload.headers["Content-Type"].startswith("multipart/form-data")
    # default: the latest version
    await call(client, "submit_run", RunSpec(display_name="latest", pipeline_name="hello"))
    body = _posted_run(fake)
    assert body["pipeline_version_reference"] == {"pipeline_id": pipeline.pipeline_id,
                                                  "pipeline_version_id": v2.pipeline_version_id}
    assert "pipeline_spec" not in body
    # a version by name
    (v1,) = [v for v in fake.versions.values() if v["name"] == "hello"]
    await call(client, "submit_run", RunSpec(display_name="named", pipeline_name="hello",
                                             pipeline_version_name="hello"))
    assert _posted_run(fake)["pipeline_version_reference"]["pipeline_version_id"] == v1["pipeline_version_id"]
    with pytest.raises(KfpNotFoundError, match="no uploaded pipeline named 'absent'"):
        await call(client, "submit_run", RunSpec(display_name="x", pipeline_name="absent",
                                                 experiment_name="never-created"))
    assert not any(e["display_name"] == "never-created" for e in fake.experiments.values())
    with pytest.raises(KfpNotFoundError, match="no version named 'v9'"):
        await call(client, "submit_run", RunSpec(display_name="x", pipeline_name="hello",
                                                 pipeline_version_name="v9"))
    page = await call(client, "list_pipeline_versions", pipeline.pipeline_id)
    assert page.total_size == 2 and {v.display_name for v in page.items} == {"hello", "v2"}


async def test_create_run_dropped_after_apply_creates_no_duplicate(make_client, fake, package_path):
    client = make_client()
    fake.fail(Fault("drop_after", method="POST", path="/runs$"))
    run = await call(client, "submit_run", RunSpec(display_name="once", package=package_path,
                                                   parameters={"greeting": "a"}))
    assert len(fake.runs) == 1 and run.run_id in fake.runs
    assert len(fake.seen("POST", "/runs$")) == 1


async def test_create_run_dropped_before_apply_is_resubmitted(make_client, fake, package_path):
    client = make_client()
    fake.fail(Fault("drop", method="POST", path="/runs$"), Fault("status", 503, method="POST", path="/runs$"))
    run = await call(client, "submit_run", RunSpec(display_name="twice", package=package_path,
                                                   parameters={"greeting": "a"}))
    assert list(fake.runs) == [run.run_id] and len(fake.seen("POST", "/runs$")) == 3


async def test_slow_create_applied_late_creates_no_duplicate(make_client, fake, package_path):
    """The create times out on the client but lands on the server later: look, do not resend."""
    client = make_client(timeout=0.2, retry=RetryPolicy(max_attempts=3, initial_backoff=0.5, jitter=0.0))
    fake.fail(Fault("slow", seconds=0.3, method="POST", path="/runs$"))
    run = await call(client, "submit_run", RunSpec(display_name="slow", package=package_path,
                                                   parameters={"greeting": "a"}))
    assert list(fake.runs) == [run.run_id] and len(fake.seen("POST", "/runs$")) == 1


async def test_earlier_run_of_same_name_is_not_mistaken(make_client, fake, package_path):
    client = make_client()
    spec = RunSpec(display_name="same", package=package_path, parameters={"greeting": "a"})
    first = await call(client, "submit_run", spec)
    fake.fail(Fault("status", 503, method="POST", path="/runs$"))
    second = await call(client, "submit_run", spec)
    assert second.run_id != first.run_id and len(fake.runs) == 2


async def test_without_dedupe_an_ambiguous_create_fails(make_client, fake, package_path):
    client = make_client()
    fake.fail(Fault("status", 503, method="POST", path="/runs$"))
    with pytest.raises(KfpApiError) as info:
        await call(client, "submit_run", RunSpec(display_name="d", package=package_path,
                                                 parameters={"greeting": "a"}, dedupe=False))
    assert info.value.maybe_applied and len(fake.seen("POST", "/runs$")) == 1


async def test_find_run_by_name(make_client, fake, package_path):
    client = make_client()
    name = deterministic_run_name("etl_daily", "load", "scheduled__2026-01-01T00:00:00+00:00")
    run = await call(client, "submit_run", RunSpec(display_name=name, package=package_path,
                                                   parameters={"greeting": "a"}, experiment_name="e"))
    await call(client, "submit_run", RunSpec(display_name="other", package=package_path,
                                             parameters={"greeting": "a"}, experiment_name="e"))
    found = await call(client, "find_run_by_name", run.experiment_id, name)
    assert found.run_id == run.run_id
    assert await call(client, "find_run_by_name", run.experiment_id, "absent") is None
    listed = fake.seen("GET", "/runs$")[-1]
    assert listed.query["experiment_id"] == run.experiment_id and "display_name" in listed.query["filter"]


def test_deterministic_run_name():
    a = deterministic_run_name("dag", "task", "manual__2026-01-01T00:00:00+00:00")
    assert a == deterministic_run_name("dag", "task", "manual__2026-01-01T00:00:00+00:00")
    assert a.startswith("af2kfp-dag-task-manual__2026-01-01T00-00-00-00-00-")
    assert a != deterministic_run_name("dag", "task", "manual__2026-01-02T00:00:00+00:00")
    long_a = deterministic_run_name("d" * 300, "x", max_length=60)
    long_b = deterministic_run_name("d" * 300, "y", max_length=60)
    assert len(long_a) <= 60 and long_a != long_b


async def test_wait_until_succeeded(make_client, fake, package_path):
    client = make_client()
    run = await call(client, "submit_run", RunSpec(display_name="w", package=package_path,
                                                   parameters={"greeting": "a"}))
    fake.script_run(run.run_id, "PENDING", "RUNNING", "RUNTIME_STATE_UNSPECIFIED", "PAUSED", "SUCCEEDED")
    seen = []
    final = await call(client, "wait_for_run", run.run_id, poll_interval=0.01, timeout=5,
                       on_poll=lambda r: seen.append(r.state.value))
    assert final.state is RunState.SUCCEEDED
    assert seen == ["PENDING", "RUNNING", "RUNTIME_STATE_UNSPECIFIED", "PAUSED", "SUCCEEDED"]


FAILED_RUN = {
    "state": "FAILED",
    "error": {"code": 2, "message": "Pipeline run failed: train task failed"},
    "run_details": {"task_details": [
        {"task_id": "t1", "display_name": "extract", "state": "SUCCEEDED", "pod_name": "extract-pod"},
        {"task_id": "t2", "display_name": "train", "state": "FAILED", "pod_name": "train-pod-123",
         "error": {"code": 2, "message": "OOMKilled (exit code 137)"}},
        {"task_id": "t3", "display_name": "evaluate", "state": "FAILED",
         "child_tasks": [{"pod_name": "evaluate-pod-9"}]},
    ]},
}


async def test_wait_failed_raises_with_run_and_task_errors(make_client, fake, package_path):
    client = make_client()
    run = await call(client, "submit_run", RunSpec(display_name="f", package=package_path,
                                                   parameters={"greeting": "a"}))
    fake.script_run(run.run_id, "RUNNING", FAILED_RUN)
    with pytest.raises(KfpRunFailedError) as info:
        await call(client, "wait_for_run", run.run_id, poll_interval=0.01, timeout=5)
    text = str(info.value)
    assert "ended FAILED: Pipeline run failed: train task failed" in text
    assert "task 'train' failed (pod train-pod-123): OOMKilled (exit code 137)" in text
    assert "task 'evaluate' failed (pod evaluate-pod-9)" in text and "extract" not in text
    assert info.value.run.failed_tasks[0].display_name == "train"
    # the same run without raising
    final = await call(client, "wait_for_run", run.run_id, poll_interval=0.01, raise_on_failure=False)
    assert final.state is RunState.FAILED and final.summary()["failed_tasks"] == ["train", "evaluate"]


async def test_wait_ends_on_canceled_after_terminate(make_client, fake, package_path):
    client = make_client()
    run = await call(client, "submit_run", RunSpec(display_name="c", package=package_path,
                                                   parameters={"greeting": "a"}))
    fake.script_run(run.run_id, "RUNNING")
    await call(client, "terminate_run", run.run_id)
    assert fake.seen("POST", r":terminate$")
    with pytest.raises(KfpRunFailedError, match="ended CANCELED"):
        await call(client, "wait_for_run", run.run_id, poll_interval=0.01, timeout=5)


async def test_wait_times_out(make_client, fake, package_path):
    client = make_client()
    run = await call(client, "submit_run", RunSpec(display_name="t", package=package_path,
                                                   parameters={"greeting": "a"}))
    fake.script_run(run.run_id, "RUNNING")
    with pytest.raises(KfpWaitTimeoutError) as info:
        await call(client, "wait_for_run", run.run_id, poll_interval=0.05, timeout=0.2)
    assert info.value.last_state == "RUNNING" and info.value.run_id == run.run_id
    assert "did not finish within 0.2s" in str(info.value)


async def test_wait_survives_transient_errors(make_client, fake, package_path):
    client = make_client()
    run = await call(client, "submit_run", RunSpec(display_name="x", package=package_path,
                                                   parameters={"greeting": "a"}))
    fake.script_run(run.run_id, "RUNNING", "SUCCEEDED")
    # more 503s than one call retries: the wait logs and keeps polling
    fake.fail(*[Fault("status", 503, method="GET", path="/runs/") for _ in range(6)], Fault("drop", path="/runs/"))
    final = await call(client, "wait_for_run", run.run_id, poll_interval=0.01, timeout=5)
    assert final.state is RunState.SUCCEEDED


async def test_wait_policy_skipped(make_client, fake, package_path):
    client = make_client()
    run = await call(client, "submit_run", RunSpec(display_name="s", package=package_path,
                                                   parameters={"greeting": "a"}))
    fake.script_run(run.run_id, "SKIPPED")
    assert (await call(client, "wait_for_run", run.run_id, poll_interval=0.01)).state is RunState.SKIPPED
    with pytest.raises(KfpRunFailedError, match="ended SKIPPED"):
        await call(client, "wait_for_run", run.run_id, poll_interval=0.01,
                   policy=StatePolicy.create(skipped_is_success=False))


async def test_archive_delete_list(make_client, fake, package_path):
    client = make_client()
    run = await call(client, "submit_run", RunSpec(display_name="a", package=package_path,
                                                   parameters={"greeting": "a"}, experiment_name="e"))
    await call(client, "archive_run", run.run_id)
    assert (await call(client, "get_run", run.run_id)).storage_state == "ARCHIVED"
    await call(client, "unarchive_run", run.run_id)
    page = await call(client, "list_runs", experiment_id=run.experiment_id)
    assert [r.run_id for r in page.items] == [run.run_id] and page.total_size == 1
    await call(client, "delete_run", run.run_id)
    with pytest.raises(KfpNotFoundError):
        await call(client, "get_run", run.run_id)
    experiments = await call(client, "list_experiments")
    assert [e.display_name for e in experiments.items] == ["e"]


async def test_get_or_create_experiment_race(make_client, fake):
    """Another client creates the experiment between our lookup and our create (HTTP 409)."""
    client = make_client()
    fake.fail(Fault("status", 409, method="POST", path="/experiments$",
                    body={"error": "exists", "code": 6, "message": "exists"}))
    fake.experiments["exp-99"] = {"experiment_id": "exp-99", "display_name": "late"}
    # the lookup is scripted to miss once, as if the other client's create landed just after it
    fake.fail(Fault("status", 200, method="GET", path="/experiments$", body={"total_size": 0}))
    exp = await call(client, "get_or_create_experiment", "late")
    assert exp.experiment_id == "exp-99"


def test_run_url_on_client(fake):
    with KfpClient(host=fake.url, ui_host="https://kfp.example.com/", namespace="team-a") as client:
        assert client.run_url("r-1") == "https://kfp.example.com/?ns=team-a#/runs/details/r-1"
