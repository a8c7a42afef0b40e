"""The client's paths, methods, query parameters and body fields against ``kfp_server_api``,
the generated KFP v2beta1 client that is the ground truth of the wire contract."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from af2kfp.bridge.kfp import KfpConfig, RunSpec, build_run_body
from af2kfp.bridge.kfp.core import KfpCore
from af2kfp.bridge.kfp.protocol import Send


def _endpoints() -> list[tuple[str, re.Pattern[str], set[str]]]:
    """(method, path regex, allowed query names) for every operation in kfp_server_api/api/*.py."""
    import kfp_server_api

    found = []
    for source in Path(inspect.getfile(kfp_server_api)).parent.joinpath("api").glob("*_service_api.py"):
        text = source.read_text()
        for chunk in text.split("def ")[1:]:
            match = re.search(r"'(/apis/v2beta1/[^']+)', '(GET|POST|DELETE|PATCH)'", chunk)
            if match:
                path = re.escape(match.group(1))
                path = re.sub(r"\\\{[^}]+\\\}", "[^/]+", path)
                query = set(re.findall(r"query_params\.append\(\('(\w+)'", chunk))
                found.append((match.group(2), re.compile(path + "$"), query))
    return found


ENDPOINTS = _endpoints()


def _first_send(op) -> Send:
    action = next(op)
    assert isinstance(action, Send)
    return action


CORE = KfpCore(KfpConfig(host="http://kfp.invalid", namespace="ns"))
CALLS = {
    "healthz": lambda: CORE.healthz(),
    "create_experiment": lambda: CORE.create_experiment("e", description="d"),
    "get_experiment": lambda: CORE.get_experiment("e1"),
    "list_experiments": lambda: CORE.list_experiments(filter="{}", page_size=5, page_token="t", sort_by="x"),
    "delete_experiment": lambda: CORE.delete_experiment("e1"),
    "create_pipeline": lambda: CORE.create_pipeline("p", description="d"),
    "upload_pipeline": lambda: CORE.upload_pipeline(b"x", name="p", description="d"),
    "upload_pipeline_version": lambda: CORE.upload_pipeline_version(b"x", pipeline_id="p1", name="v"),
    "get_pipeline": lambda: CORE.get_pipeline("p1"),
    "list_pipelines": lambda: CORE.list_pipelines(filter="{}", page_size=5, page_token="t", sort_by="x"),
    "delete_pipeline": lambda: CORE.delete_pipeline("p1"),
    "get_pipeline_version": lambda: CORE.get_pipeline_version("p1", "v1"),
    "list_pipeline_versions": lambda: CORE.list_pipeline_versions("p1", filter="{}", page_size=5, sort_by="x"),
    "delete_pipeline_version": lambda: CORE.delete_pipeline_version("p1", "v1"),
    "create_run": lambda: CORE.create_run({}),
    "get_run": lambda: CORE.get_run("r1"),
    "list_runs_experiment": lambda: CORE.list_runs(experiment_id="e1", filter="{}", page_size=5, sort_by="x"),
    "list_runs_namespace": lambda: CORE.list_runs(page_token="t"),
    "terminate_run": lambda: CORE.terminate_run("r1"),
    "archive_run": lambda: CORE.archive_run("r1"),
    "unarchive_run": lambda: CORE.unarchive_run("r1"),
    "delete_run": lambda: CORE.delete_run("r1"),
    "create_recurring_run": lambda: CORE.create_recurring_run({}),
    "get_recurring_run": lambda: CORE.get_recurring_run("rr1"),
    "list_recurring_runs_experiment": lambda: CORE.list_recurring_runs(
        experiment_id="e1", filter="{}", page_size=5, page_token="t", sort_by="x"
    ),
    "list_recurring_runs_namespace": lambda: CORE.list_recurring_runs(page_size=5),
    "enable_recurring_run": lambda: CORE.enable_recurring_run("rr1"),
    "disable_recurring_run": lambda: CORE.disable_recurring_run("rr1"),
    "delete_recurring_run": lambda: CORE.delete_recurring_run("rr1"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_request_matches_kfp_server_api(name):
    send = _first_send(CALLS[name]())
    path = send.url.removeprefix("http://kfp.invalid")
    request = send.request
    matches = [(m, q) for m, pattern, q in ENDPOINTS if m == request.method and pattern.match(path)]
    assert matches, f"{request.method} {path} is not a v2beta1 operation"
    allowed = set().union(*(q for _, q in matches))
    assert {key for key, _ in request.params} <= allowed


def test_run_body_fields_are_v2beta1_run_fields(tmp_path):
    from kfp_server_api.models import V2beta1PipelineVersionReference, V2beta1Run, V2beta1RuntimeConfig

    from af2kfp.bridge.kfp.models import PipelineVersion

    spec = RunSpec(display_name="r", pipeline_id="p", parameters={"a": 1}, pipeline_root="gs://x",
                   service_account="sa", description="d")
    version = PipelineVersion("p", "v", "v", "v", None)
    body = build_run_body(spec, experiment_id="e", version=version)
    assert set(body) <= set(V2beta1Run.attribute_map.values())
    assert set(body["runtime_config"]) <= set(V2beta1RuntimeConfig.attribute_map.values())
    assert set(body["pipeline_version_reference"]) <= set(V2beta1PipelineVersionReference.attribute_map.values())


def test_experiment_body_fields():
    import json

    from kfp_server_api.models import V2beta1Experiment

    send = _first_send(CORE.create_experiment("e", description="d"))
    assert set(send.request.json) <= set(V2beta1Experiment.attribute_map.values())
    assert json.dumps(send.request.json) and send.request.json["namespace"] == "ns"


def test_pipeline_body_fields():
    from kfp_server_api.models import V2beta1Pipeline

    send = _first_send(CORE.create_pipeline("p", description="d"))
    assert set(send.request.json) <= set(V2beta1Pipeline.attribute_map.values())
    assert send.request.json == {"name": "p", "display_name": "p", "description": "d", "namespace": "ns"}
    assert not send.request.idempotent


def test_upload_sends_the_uploadfile_part():
    send = _first_send(CORE.upload_pipeline(b"spec", name="p"))
    assert set(send.request.files) == {"uploadfile"}


def test_every_recurring_run_operation_of_kfp_server_api_is_covered():
    import kfp_server_api

    operations = {n for n in dir(kfp_server_api.RecurringRunServiceApi)
                  if n.startswith("recurring_run_service_") and not n.endswith("_with_http_info")}
    ours = {"recurring_run_service_" + n.removesuffix("_experiment").removesuffix("_namespace")
            for n in CALLS if "recurring" in n}
    assert operations == ours


def test_only_recurring_run_creation_is_never_blindly_resent():
    sends = {name: _first_send(CALLS[name]()).request for name in CALLS if "recurring" in name}
    assert [name for name, request in sends.items() if not request.idempotent] == ["create_recurring_run"]


def test_the_contract_is_read_and_discriminates():
    assert len(ENDPOINTS) > 30
    assert not [p for m, p, _ in ENDPOINTS if m == "POST" and p.match("/apis/v2beta1/runs/r1:stop")]
    assert [p for m, p, _ in ENDPOINTS if m == "POST" and p.match("/apis/v2beta1/runs/r1:terminate")]
