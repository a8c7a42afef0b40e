"""``af2kfp compare`` on a real Airflow DAG run (read through ``airflow api-server``) and a run
of the converted pipeline on the local KFP server."""

from __future__ import annotations

import html.parser
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from af2kfp.bridge.cli import main
from af2kfp.bridge.compare import AirflowSettings, fetch_airflow_run

from .conftest import DAG_ID, PASSWORD, USER, finished_kfp_run


def compare_argv(
    airflow: Any, kfp_url: str, run_id: str, report: Path, *extra: str, auth: bool = True
) -> list[str]:
    argv = [
        "compare",
        "--airflow-url",
        airflow.url,
        "--dag-id",
        DAG_ID,
        "--dag-run-id",
        airflow.dag_run_id,
        "--kfp-host",
        kfp_url,
        "--kfp-run-id",
        run_id,
        "--report",
        str(report),
    ]
    if auth:
        argv += ["--airflow-user", USER, "--airflow-password", PASSWORD]
    return argv + list(extra)


@pytest.fixture(scope="module")
def failed_run(compare_kfp, converted) -> Any:
    return finished_kfp_run(
        compare_kfp, converted / DAG_ID / "pipeline.yaml", "fail:transform:KeyError: 'amount'"
    )


def rows_by_task(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["airflow_task_id"] or row["kfp_task"]: row for row in document["tasks"]}


def test_airflow_run_read_through_the_rest_api(airflow_deployment):
    settings = AirflowSettings(url=airflow_deployment.url, username=USER, password=PASSWORD)
    record = fetch_airflow_run(settings, DAG_ID, airflow_deployment.dag_run_id)
    assert (
        fetch_airflow_run(settings, DAG_ID, airflow_deployment.dag_run_id, page_size=3) == record
    )  # 2 pages
    assert record.state == "success" and record.outcome == "success"
    assert {t.name: t.state for t in record.tasks} == {
        "start": "success",
        "extract": "success",
        "transform": "success",
        "load": "success",
    }
    extract = record.task("extract")
    assert extract.attempts == 2  # failed once, succeeded on its retry
    assert extract.start is not None and extract.end is not None and extract.duration is not None
    assert (
        record.url
        == f"{airflow_deployment.url}/dags/{DAG_ID}/runs/{quote(airflow_deployment.dag_run_id, safe='')}"
    )


def test_failed_kfp_task_differs_in_every_format(
    airflow_deployment, compare_kfp, converted, failed_run, tmp_path, capsys
):
    report = converted / "report.json"
    outputs = {suffix: tmp_path / f"cmp.{suffix}" for suffix in ("json", "md", "html")}
    for path in outputs.values():
        code = main(
            compare_argv(airflow_deployment, compare_kfp.url, failed_run.run_id, report, "-o", str(path))
        )
        assert code == 1, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "af2kfp compare: differs" in out and PASSWORD not in out

    document = json.loads(outputs["json"].read_text())
    assert document["verdict"] == "differs"
    assert document["counts"] == {"same": 1, "differs": 2, "missing": 0, "folded": 1}
    assert document["airflow"]["state"] == "success" and document["kfp"]["state"] == "FAILED"
    assert document["kfp"]["pipeline_name"] == "compare-demo" and document["warnings"] == []
    rows = rows_by_task(document)
    assert [row["airflow_task_id"] for row in document["tasks"]] == ["start", "extract", "transform", "load"]
    assert rows["start"]["verdict"] == "folded" and rows["start"]["kfp_task"] is None
    assert rows["start"]["airflow"]["state"] == "success"
    extract = rows["extract"]
    assert extract["verdict"] == "same" and extract["kfp_task"] == "extract"
    assert extract["airflow"]["attempts"] == 2 and extract["kfp"]["attempts"] == 1
    assert extract["kfp"]["start"] and extract["kfp"]["end"] and extract["kfp"]["duration"] > 0
    transform = rows["transform"]
    assert transform["verdict"] == "differs"
    assert transform["airflow_outcome"] == "success" and transform["kfp_outcome"] == "failed"
    assert transform["kfp"]["error"] == "KeyError: 'amount'"
    assert "KFP failed: KeyError: 'amount'" in transform["note"]
    load = rows["load"]
    assert load["verdict"] == "differs" and load["kfp"] is None and load["kfp_outcome"] == "not_run"

    markdown = outputs["md"].read_text()
    assert "**Verdict: differs** (1 same, 2 differ, 0 missing, 1 folded)" in markdown
    assert any(
        line.startswith("| transform | transform | success |") and "| FAILED |" in line
        for line in markdown.splitlines()
    )
    assert "| start | (folded) | success |" in markdown

    page = outputs["html"].read_text()
    table = TableReader()
    table.feed(page)
    assert table.rows[0][:3] == ["Airflow task", "KFP task", "Airflow state"]
    assert [r[0] for r in table.rows[1:]] == ["start", "extract", "transform", "load"]
    assert [r[12] for r in table.rows[1:]] == ["folded", "same", "differs", "differs"]
    assert "<script" not in page and "<link" not in page and "src=" not in page  # self-contained


def test_same_outcome_exits_0(airflow_deployment, compare_kfp, converted, capsys):
    run = finished_kfp_run(compare_kfp, converted / DAG_ID / "pipeline.yaml", "succeed")
    code = main(
        compare_argv(
            airflow_deployment, compare_kfp.url, run.run_id, converted / "report.json", "--format", "json"
        )
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["verdict"] == "same"
    assert document["counts"] == {"same": 3, "differs": 0, "missing": 0, "folded": 1}


def test_airflow_token_and_no_credentials(airflow_deployment, compare_kfp, converted, failed_run, capsys):
    token = httpx.post(
        f"{airflow_deployment.url}/auth/token", json={"username": USER, "password": PASSWORD}
    ).json()["access_token"]
    report = converted / "report.json"
    code = main(
        compare_argv(
            airflow_deployment,
            compare_kfp.url,
            failed_run.run_id,
            report,
            "--airflow-token",
            token,
            "--format",
            "json",
            auth=False,
        )
    )
    captured = capsys.readouterr()
    assert code == 1 and json.loads(captured.out)["verdict"] == "differs"
    assert token not in captured.out + captured.err
    code = main(compare_argv(airflow_deployment, compare_kfp.url, failed_run.run_id, report, auth=False))
    err = capsys.readouterr().err
    assert code == 2 and "HTTP 401" in err and "--airflow-user" in err


def test_all_admins_airflow_needs_no_credentials(
    airflow_deployment, open_airflow_url, compare_kfp, converted, failed_run, capsys
):
    argv = compare_argv(
        airflow_deployment, compare_kfp.url, failed_run.run_id, converted / "report.json", auth=False
    )
    argv[argv.index("--airflow-url") + 1] = open_airflow_url
    code = main(argv + ["--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and document["verdict"] == "differs"
    assert rows_by_task(document)["extract"]["airflow"]["attempts"] == 2


def test_wrong_password_is_refused_without_echoing_it(
    airflow_deployment, compare_kfp, converted, failed_run, capsys
):
    argv = compare_argv(
        airflow_deployment, compare_kfp.url, failed_run.run_id, converted / "report.json", auth=False
    )
    code = main(argv + ["--airflow-user", USER, "--airflow-password", "Wrong-Secret-99"])
    captured = capsys.readouterr()
    assert code == 2 and "Airflow login as 'admin' failed (HTTP 401)" in captured.err
    assert "Wrong-Secret-99" not in captured.out + captured.err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--dag-run-id": "manual__nope"}, "not found"),
        ({"--kfp-run-id": "0000-no-such-run"}, "HTTP 404"),
        ({"--dag-id": "other_dag"}, "no DAG 'other_dag'; it holds: compare_demo"),
        ({"--report": "/nonexistent/report.json"}, "--report /nonexistent/report.json: cannot read it"),
        ({"-o": "out.pdf"}, "unknown suffix .pdf"),
        ({"--airflow-url": "airflow.local"}, "Airflow URL must be an http(s) URL"),
    ],
)
def test_bad_input_exits_2(airflow_deployment, compare_kfp, converted, failed_run, capsys, change, message):
    argv = compare_argv(airflow_deployment, compare_kfp.url, failed_run.run_id, converted / "report.json")
    for option, value in change.items():
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err


def test_unreachable_airflow_exits_3(compare_kfp, converted, failed_run, capsys):
    from .conftest import _free_port

    argv = [
        "compare",
        "--airflow-url",
        f"http://127.0.0.1:{_free_port()}",
        "--dag-id",
        DAG_ID,
        "--dag-run-id",
        "r",
        "--kfp-host",
        compare_kfp.url,
        "--kfp-run-id",
        failed_run.run_id,
        "--report",
        str(converted / "report.json"),
    ]
    code = main(argv)
    assert code == 3 and "af2kfp: error: Airflow API GET" in capsys.readouterr().err


def test_real_subprocess_with_password_from_env(
    airflow_deployment, compare_kfp, converted, failed_run, tmp_path
):
    argv = compare_argv(
        airflow_deployment, compare_kfp.url, failed_run.run_id, converted / "report.json", auth=False
    )
    done = subprocess.run(
        [
            str(Path(sys.prefix) / "bin" / "af2kfp"),
            *argv,
            "--airflow-user",
            USER,
            "-o",
            str(tmp_path / "c.md"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AF2KFP_AIRFLOW_PASSWORD": PASSWORD, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 1, done.stderr
    assert "| transform | transform | success |" in (tmp_path / "c.md").read_text()


class TableReader(html.parser.HTMLParser):
    """The text of every table cell, row by row, as a browser would show it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
