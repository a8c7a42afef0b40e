"""The Airflow 2 (``/api/v1``, basic auth) path of the reader, on a transport that answers as
Airflow 2.10 does. No Airflow 2 is installed here: this checks what the reader sends and how it
pages, not Airflow 2 itself (the Airflow 3 path is tested against a real api-server)."""

from __future__ import annotations

import base64

import httpx

from af2kfp.bridge.compare import AirflowSettings, fetch_airflow_run

TIS = [
    {
        "task_id": f"t{i}",
        "state": "success",
        "try_number": 1,
        "map_index": -1,
        "start_date": "2024-05-01T12:00:00+00:00",
        "end_date": "2024-05-01T12:00:02+00:00",
    }
    for i in range(5)
]


def airflow2(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/v2/version":
        return httpx.Response(404, json={"detail": "Not Found", "status": 404, "title": "Not Found"})
    if path == "/api/v1/version":
        return httpx.Response(200, json={"version": "2.10.5", "git_version": None})
    expected = "Basic " + base64.b64encode(b"ops:pw-2").decode()
    if request.headers.get("Authorization") != expected:
        return httpx.Response(401, json={"title": "Unauthorized", "status": 401})
    if path == "/api/v1/dags/etl/dagRuns/scheduled__2024-05-01":
        return httpx.Response(
            200,
            json={
                "dag_run_id": "scheduled__2024-05-01",
                "state": "success",
                "start_date": "2024-05-01T12:00:00+00:00",
                "end_date": "2024-05-01T12:00:10+00:00",
            },
        )
    if path == "/api/v1/dags/etl/dagRuns/scheduled__2024-05-01/taskInstances":
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        return httpx.Response(
            200, json={"task_instances": TIS[offset : offset + limit], "total_entries": len(TIS)}
        )
    return httpx.Response(404, json={"title": "Not Found"})


def test_falls_back_to_v1_with_basic_auth_and_pages():
    settings = AirflowSettings(url="http://airflow2.test", username="ops", password="pw-2")
    with httpx.Client(transport=httpx.MockTransport(airflow2)) as http:
        record = fetch_airflow_run(settings, "etl", "scheduled__2024-05-01", http=http, page_size=2)
    assert [t.name for t in record.tasks] == ["t0", "t1", "t2", "t3", "t4"]
    assert record.duration == 10.0 and record.task("t3").duration == 2.0
    assert record.url == "http://airflow2.test/dags/etl/grid?dag_run_id=scheduled__2024-05-01"
