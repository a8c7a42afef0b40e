"""The v2beta1 JSON API by plain HTTP: shapes, errors, namespaces, pipelines by JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from af2kfp.bridge.kfp_server import RunningServer

from .conftest import json_writes

V2 = "/apis/v2beta1"


@pytest.fixture
def http(server: RunningServer) -> httpx.Client:
    with httpx.Client(base_url=server.url + V2, event_hooks={"request": [json_writes]}) as client:
        yield client


def _error(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "code", "message", "details"} and body["error"] == body["message"]
    return body["message"]


def test_errors_have_kfp_shape_and_codes(http: httpx.Client, spec: dict[str, Any]) -> None:
    assert "not found" in _error(http.get("/runs/nope"), 404)
    assert http.get("/runs/nope").json()["code"] == 5
    assert "not JSON" in _error(http.post("/runs", content=b"{oops"), 400)
    assert http.post("/runs", content=b"{oops").json()["code"] == 3
    assert "body must be a JSON object" in _error(http.post("/runs", json=[1]), 400)
    assert "run name is empty" in _error(http.post("/runs", json={"pipeline_spec": spec}), 400)
    assert "needs pipeline_spec or pipeline_version_reference" in _error(
        http.post("/runs", json={"display_name": "x"}), 400
    )
    assert "not a compiled KFP v2" in _error(
        http.post("/runs", json={"display_name": "x", "pipeline_spec": {"a": 1}}), 400
    )
    assert "experiment nope not found" in _error(
        http.post("/runs", json={"display_name": "x", "pipeline_spec": spec, "experiment_id": "nope"}), 404
    )
    assert "version nope not found" in _error(
        http.post(
            "/runs", json={"display_name": "x", "pipeline_version_reference": {"pipeline_version_id": "nope"}}
        ),
        404,
    )
    assert "is not served" in _error(http.get("/nothing/here"), 404)
    assert "not allowed" in _error(http.put("/runs"), 405)
    assert "Invalid filter" in _error(http.get("/runs", params={"filter": "{"}), 400)
    assert "Invalid filter operation" in _error(
        http.get(
            "/runs",
            params={
                "filter": json.dumps({"predicates": [{"key": "state", "operation": 42, "string_value": "x"}]})
            },
        ),
        400,
    )
    assert "Invalid page_token" in _error(http.get("/runs", params={"page_token": "garbage"}), 400)
    assert "Invalid sorting" in _error(http.get("/runs", params={"sort_by": "a b c"}), 400)
    for path in (
        "/runs/nope:terminate",
        "/runs/nope:archive",
        "/runs/nope:retry",
        "/experiments/nope:archive",
    ):
        _error(http.post(path), 404)
    _error(http.delete("/runs/nope"), 404)
    _error(http.get("/pipelines/nope/versions/nope"), 404)


def test_run_json_fields(http: httpx.Client, spec: dict[str, Any]) -> None:
    run = http.post(
        "/runs",
        json={
            "display_name": "r",
            "description": "d",
            "pipeline_spec": spec,
            "service_account": "pipeline-runner",
            "runtime_config": {"parameters": {"a": 2}, "pipeline_root": "minio://x"},
        },
    ).json()
    assert run["state"] == "PENDING" and run["finished_at"] == "1970-01-01T00:00:00Z"
    assert run["created_at"] == run["scheduled_at"] and run["created_at"].endswith("Z")
    assert run["runtime_config"] == {"parameters": {"a": 2}, "pipeline_root": "minio://x"}
    assert run["service_account"] == "pipeline-runner" and run["storage_state"] == "AVAILABLE"
    default = http.get(f"/experiments/{run['experiment_id']}").json()
    assert default["display_name"] == "Default" and default["last_run_created_at"] == run["created_at"]


def test_namespaces(http: httpx.Client, spec: dict[str, Any]) -> None:
    team_a = http.post("/experiments", json={"display_name": "exp", "namespace": "team-a"}).json()
    team_b = http.post("/experiments", json={"display_name": "exp", "namespace": "team-b"}).json()
    assert "already exists" in _error(
        http.post("/experiments", json={"display_name": "exp", "namespace": "team-a"}), 409
    )
    http.post(
        "/runs", json={"display_name": "a", "pipeline_spec": spec, "experiment_id": team_a["experiment_id"]}
    )
    http.post(
        "/runs", json={"display_name": "b", "pipeline_spec": spec, "experiment_id": team_b["experiment_id"]}
    )
    assert [r["display_name"] for r in http.get("/runs", params={"namespace": "team-a"}).json()["runs"]] == [
        "a"
    ]
    assert http.get("/runs").json()["total_size"] == 2
    assert [
        e["namespace"] for e in http.get("/experiments", params={"namespace": "team-b"}).json()["experiments"]
    ] == ["team-b"]
    http.post("/pipelines", json={"name": "p", "namespace": "team-a"})
    assert http.get("/pipelines/names/p", params={"namespace": "team-a"}).json()["namespace"] == "team-a"
    _error(http.get("/pipelines/names/p"), 404)


def test_pipelines_by_json_and_delete_cascade(
    http: httpx.Client, package: Path, spec: dict[str, Any]
) -> None:
    pipeline = http.post("/pipelines", json={"display_name": "P", "name": "p", "description": "d"}).json()
    assert (pipeline["name"], pipeline["display_name"]) == ("p", "P")
    url = package.resolve().as_uri()
    version = http.post(
        f"/pipelines/{pipeline['pipeline_id']}/versions",
        json={"display_name": "v1", "package_url": {"pipeline_url": url}},
    ).json()
    assert version["package_url"] == {"pipeline_url": url}
    assert version["pipeline_spec"]["pipelineInfo"]["name"] == "tiny-sum"
    inline = http.post(
        f"/pipelines/{pipeline['pipeline_id']}/versions", json={"name": "v2", "pipeline_spec": spec}
    ).json()
    assert "cannot read package_url" in _error(
        http.post(
            f"/pipelines/{pipeline['pipeline_id']}/versions",
            json={"name": "v3", "package_url": {"pipeline_url": "file:///nope.yaml"}},
        ),
        400,
    )
    # a run by pipeline id alone takes the newest version
    run = http.post(
        "/runs",
        json={"display_name": "r", "pipeline_version_reference": {"pipeline_id": pipeline["pipeline_id"]}},
    ).json()
    assert run["pipeline_version_reference"]["pipeline_version_id"] == inline["pipeline_version_id"]
    assert "has existing versions" in _error(http.delete(f"/pipelines/{pipeline['pipeline_id']}"), 400)
    assert http.delete(f"/pipelines/{pipeline['pipeline_id']}", params={"cascade": "true"}).json() == {}
    _error(http.get(f"/pipelines/{pipeline['pipeline_id']}"), 404)

    both = http.post(
        "/pipelines/create",
        json={"pipeline": {"name": "q"}, "pipeline_version": {"name": "q-1", "pipeline_spec": spec}},
    ).json()
    versions = http.get(f"/pipelines/{both['pipeline_id']}/versions").json()
    assert [v["name"] for v in versions["pipeline_versions"]] == ["q-1"] and versions["total_size"] == 1


def test_upload_rejects_bad_packages(http: httpx.Client) -> None:
    assert "not a compiled KFP v2" in _error(
        http.post("/pipelines/upload", files={"uploadfile": ("p.yaml", b"a: 1\n")}), 400
    )
    assert "not a pipeline package" in _error(
        http.post("/pipelines/upload", files={"uploadfile": ("p.yaml", b"a: [\n")}), 400
    )
    assert "multipart/form-data" in _error(http.post("/pipelines/upload", json={}), 415)
    assert "no 'uploadfile' part" in _error(
        http.post("/pipelines/upload", files={"other": ("p.yaml", b"x")}), 400
    )
    assert "pipelineid" in _error(
        http.post("/pipelines/upload_version", files={"uploadfile": ("p.yaml", b"x")}), 400
    )


def test_upload_archives(http: httpx.Client, package: Path, tmp_path: Path) -> None:
    import tarfile
    import zipfile

    tgz, zipped = tmp_path / "p.tar.gz", tmp_path / "p.zip"
    with tarfile.open(tgz, "w:gz") as archive:
        archive.add(package, arcname="pipeline.yaml")
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(package, arcname="pipeline.yaml")
    for path in (tgz, zipped):
        answer = http.post(
            "/pipelines/upload",
            params={"name": path.name},
            files={"uploadfile": (path.name, path.read_bytes())},
        )
        assert answer.status_code == 200, answer.text


def test_experiment_archive_archives_its_runs(http: httpx.Client, spec: dict[str, Any]) -> None:
    experiment = http.post("/experiments", json={"display_name": "e"}).json()
    run = http.post(
        "/runs",
        json={"display_name": "r", "pipeline_spec": spec, "experiment_id": experiment["experiment_id"]},
    ).json()
    http.post(f"/experiments/{experiment['experiment_id']}:archive")
    assert http.get(f"/runs/{run['run_id']}").json()["storage_state"] == "ARCHIVED"
    archived = http.get(
        "/runs",
        params={
            "filter": json.dumps(
                {"predicates": [{"key": "storage_state", "operation": "EQUALS", "string_value": "ARCHIVED"}]}
            )
        },
    )
    assert archived.json()["total_size"] == 1
    http.delete(f"/experiments/{experiment['experiment_id']}")
    _error(http.get(f"/runs/{run['run_id']}"), 404)


def test_list_filter_by_time_and_in(http: httpx.Client, spec: dict[str, Any]) -> None:
    first = http.post("/runs", json={"display_name": "one", "pipeline_spec": spec}).json()
    http.post("/runs", json={"display_name": "two", "pipeline_spec": spec})
    newer = {
        "predicates": [
            {"key": "created_at", "operation": "GREATER_THAN", "timestamp_value": first["created_at"]}
        ]
    }
    assert [
        r["display_name"] for r in http.get("/runs", params={"filter": json.dumps(newer)}).json()["runs"]
    ] == ["two"]
    listed = {
        "predicates": [
            {"key": "display_name", "operation": "IN", "stringValues": {"values": ["one", "three"]}}
        ]
    }
    assert [
        r["display_name"] for r in http.get("/runs", params={"filter": json.dumps(listed)}).json()["runs"]
    ] == ["one"]


def test_concurrent_clients(server: RunningServer, spec: dict[str, Any]) -> None:
    """Many threads creating and polling at once: no errors, no lost or doubled runs."""
    import concurrent.futures

    def work(index: int) -> list[str]:
        with httpx.Client(base_url=server.url + V2, event_hooks={"request": [json_writes]}) as client:
            ids = [
                client.post("/runs", json={"display_name": f"c{index}-{n}", "pipeline_spec": spec}).json()[
                    "run_id"
                ]
                for n in range(4)
            ]
            for _ in range(3):
                for run_id in ids:
                    answer = client.get(f"/runs/{run_id}")
                    assert answer.status_code == 200 and answer.json()["state"] in (
                        "PENDING",
                        "RUNNING",
                        "SUCCEEDED",
                    )
            return ids

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        created = [run_id for ids in pool.map(work, range(16)) for run_id in ids]
    assert len(set(created)) == 64
    assert httpx.get(f"{server.url}{V2}/runs").json()["total_size"] == 64
    assert server.control().stats()["POST /apis/v2beta1/runs"] == 64


def test_unpopulated_fields_are_omitted_as_kfp_does(http: httpx.Client, spec: dict[str, Any]) -> None:
    """KFP marshals with protojson EmitUnpopulated=false: clients must cope with missing keys."""
    assert http.get("/runs").json() == {}
    assert http.get("/healthz").json()["multi_user"] is False  # hand-written by KFP, always complete
    run = http.post(
        "/runs",
        json={
            "display_name": "r",
            "pipeline_spec": spec,
            "runtime_config": {"parameters": {"flag": False, "n": 0, "s": ""}},
        },
    ).json()
    assert "description" not in run and "service_account" not in run and "error" not in run
    assert run["runtime_config"]["parameters"] == {"flag": False, "n": 0, "s": ""}  # a Struct stays whole
    assert run["finished_at"] == "1970-01-01T00:00:00Z" and run["run_details"] == {}
    page = http.get("/runs", params={"page_size": 1}).json()
    assert page["total_size"] == 1 and "next_page_token" not in page
    assert "tags" not in http.post("/pipelines", json={"name": "p"}).json()
