"""The real kfp.Client (kfp 2.x, KFP API v2beta1) against the local server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kfp_server_api.exceptions import ApiException

from af2kfp.bridge.kfp_server import RunningServer

from .conftest import wait_for


def test_upload_pipeline_and_version_multipart(kfp_client: Any, package: Path) -> None:
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name="tiny", description="first")
    assert pipeline.display_name == "tiny" and pipeline.description == "first"
    assert kfp_client.get_pipeline(pipeline.pipeline_id).name == "tiny"
    assert kfp_client.get_pipeline_id("tiny") == pipeline.pipeline_id

    version = kfp_client.upload_pipeline_version(
        str(package), "v2", pipeline_name="tiny", description="second"
    )
    assert (version.pipeline_id, version.display_name, version.description) == (
        pipeline.pipeline_id,
        "v2",
        "second",
    )
    assert version.pipeline_spec["pipelineInfo"]["name"] == "tiny-sum"
    listed = kfp_client.list_pipeline_versions(pipeline.pipeline_id)
    assert listed.total_size == 2 and {v.display_name for v in listed.pipeline_versions} == {"tiny", "v2"}
    fetched = kfp_client.get_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id)
    assert fetched.pipeline_spec == version.pipeline_spec

    with pytest.raises(ApiException) as duplicate:
        kfp_client.upload_pipeline(str(package), pipeline_name="tiny")
    assert duplicate.value.status == 409

    kfp_client.delete_pipeline_version(pipeline.pipeline_id, version.pipeline_version_id)
    assert kfp_client.list_pipeline_versions(pipeline.pipeline_id).total_size == 1
    assert kfp_client.list_pipelines().total_size == 1


def test_experiments(kfp_client: Any) -> None:
    created = kfp_client.create_experiment("exp", description="d", namespace=None)
    assert kfp_client.create_experiment("exp").experiment_id == created.experiment_id  # get-or-create by name
    assert kfp_client.get_experiment(experiment_name="exp").experiment_id == created.experiment_id
    assert kfp_client.get_experiment(experiment_id=created.experiment_id).storage_state == "AVAILABLE"
    kfp_client.archive_experiment(created.experiment_id)
    assert kfp_client.get_experiment(experiment_id=created.experiment_id).storage_state == "ARCHIVED"
    kfp_client.unarchive_experiment(created.experiment_id)
    assert kfp_client.get_experiment(experiment_id=created.experiment_id).storage_state == "AVAILABLE"
    assert kfp_client.list_experiments().total_size == 1
    kfp_client.delete_experiment(created.experiment_id)
    with pytest.raises(ValueError, match="No experiment is found"):
        kfp_client.get_experiment(experiment_name="exp")


def test_run_from_package_goes_pending_running_succeeded(kfp_client: Any, package: Path) -> None:
    result = kfp_client.create_run_from_pipeline_package(
        str(package), arguments={"a": 3}, run_name="nightly", experiment_name="exp"
    )
    run = kfp_client.get_run(result.run_id)
    assert run.state == "PENDING" and run.display_name == "nightly"
    assert run.runtime_config.parameters == {"a": 3}
    assert run.pipeline_spec["pipelineInfo"]["name"] == "tiny-sum"
    wait_for(lambda: kfp_client.get_run(result.run_id).state == "RUNNING")
    done = wait_for(lambda: (r := kfp_client.get_run(result.run_id)).state == "SUCCEEDED" and r)
    assert [t.display_name for t in done.run_details.task_details] == ["add", "show"]
    assert all(t.state == "SUCCEEDED" and t.pod_name for t in done.run_details.task_details)
    assert done.created_at <= done.run_details.task_details[0].start_time <= done.finished_at
    assert [s.state for s in done.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    # the real client's own wait loop understands the answers too
    assert kfp_client.wait_for_run_completion(result.run_id, timeout=10).state == "SUCCEEDED"


def test_run_from_uploaded_version(kfp_client: Any, package: Path) -> None:
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name="tiny")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    experiment = kfp_client.create_experiment("exp")
    run = kfp_client.run_pipeline(
        experiment.experiment_id,
        "from-version",
        params={"b": 5},
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
    )
    assert run.pipeline_version_reference.pipeline_version_id == version.pipeline_version_id
    assert run.experiment_id == experiment.experiment_id
    wait_for(lambda: kfp_client.get_run(run.run_id).state == "SUCCEEDED")


def test_list_runs_filters_and_pages(kfp_client: Any, package: Path) -> None:
    first = kfp_client.create_experiment("first")
    second = kfp_client.create_experiment("second")
    for index in range(3):
        kfp_client.create_run_from_pipeline_package(
            str(package), run_name=f"a-{index}", experiment_id=first.experiment_id
        )
    kfp_client.create_run_from_pipeline_package(
        str(package), run_name="b-0", experiment_id=second.experiment_id
    )

    assert kfp_client.list_runs().total_size == 4
    assert kfp_client.list_runs(experiment_id=first.experiment_id).total_size == 3
    page = kfp_client.list_runs(page_size=2, sort_by="created_at desc")
    assert [r.display_name for r in page.runs] == ["b-0", "a-2"] and page.next_page_token
    rest = kfp_client.list_runs(page_size=2, sort_by="created_at desc", page_token=page.next_page_token)
    assert [r.display_name for r in rest.runs] == ["a-1", "a-0"] and not rest.next_page_token
    by_name = kfp_client.list_runs(
        filter='{"predicates": [{"key": "display_name", "operation": 1, "stringValue": "a-1"}]}'
    )
    assert [r.display_name for r in by_name.runs] == ["a-1"]
    by_substring = kfp_client.list_runs(
        filter='{"predicates": [{"key": "name", "operation": "IS_SUBSTRING", "string_value": "b-"}]}'
    )
    assert [r.display_name for r in by_substring.runs] == ["b-0"]


def test_terminate_archive_delete(kfp_client: Any, server: RunningServer, package: Path) -> None:
    server.control().script_next("hang")
    run = kfp_client.create_run_from_pipeline_package(str(package), run_name="stuck")
    wait_for(lambda: kfp_client.get_run(run.run_id).state == "RUNNING")
    kfp_client.terminate_run(run.run_id)
    assert kfp_client.get_run(run.run_id).state == "CANCELING"
    canceled = wait_for(lambda: (r := kfp_client.get_run(run.run_id)).state == "CANCELED" and r)
    assert canceled.error.message == "run was terminated by the user"
    assert [t.state for t in canceled.run_details.task_details] == ["CANCELED"]

    kfp_client.archive_run(run.run_id)
    assert kfp_client.get_run(run.run_id).storage_state == "ARCHIVED"
    kfp_client.unarchive_run(run.run_id)
    assert kfp_client.get_run(run.run_id).storage_state == "AVAILABLE"
    kfp_client.delete_run(run.run_id)
    with pytest.raises(ApiException) as missing:
        kfp_client.get_run(run.run_id)
    assert missing.value.status == 404


def test_healthz(kfp_client: Any) -> None:
    assert kfp_client.get_kfp_healthz().multi_user is False


def test_pipeline_with_platform_spec(kfp_client: Any, tmp_path: Path) -> None:
    """kfp-kubernetes settings make a two-document package; both upload and run keep working."""
    from kfp import compiler

    from . import pipelines

    package = tmp_path / "platform.yaml"
    compiler.Compiler().compile(pipelines.with_secret, str(package))
    assert package.read_text().count("\n---\n") == 1
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name="with-secret")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    assert set(version.pipeline_spec) == {"pipeline_spec", "platform_spec"}
    run = kfp_client.create_run_from_pipeline_package(str(package), run_name="p")
    done = wait_for(lambda: (r := kfp_client.get_run(run.run_id)).state == "SUCCEEDED" and r)
    assert [t.display_name for t in done.run_details.task_details] == ["add"]
