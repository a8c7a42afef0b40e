"""``af2kfp run`` against the local KFP server: submit, wait, exit codes, parameters, output formats."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from af2kfp.bridge.cli import main
from af2kfp.bridge.cli.run import Progress, parse_parameters
from af2kfp.bridge.kfp import KfpClient

FAST = ["--poll-interval", "0.1", "--timeout", "20"]


def af2kfp(capsys: pytest.CaptureFixture[str], *argv: str, verbose: bool = False) -> tuple[int, str, str]:
    code = main(["-v"] * verbose + ["run", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stored_run(server: Any, run_id: str) -> Any:
    with KfpClient(host=server.url) as kfp:
        return kfp.get_run(run_id)


def test_wait_success_prints_id_url_and_passes_typed_parameters(run_server, kfp_control, run_package, capsys):
    code, out, err = af2kfp(
        capsys,
        str(run_package),
        "--host",
        run_server.url,
        "--wait",
        *FAST,
        "-p",
        "label=hello world",
        "-p",
        "n=3",
        "-p",
        "items=[1, 2]",
        "-p",
        "flag=true",
        "--experiment",
        "cli-run",
        "--run-name",
        "nightly",
        "--pipeline-root",
        "minio://bucket/root",
        "--service-account",
        "runner",
    )
    assert code == 0, err
    fields = dict(line.split(": ", 1) for line in out.splitlines())
    assert fields["state"] == "SUCCEEDED"
    assert fields["run_url"] == f"{run_server.url}/#/runs/details/{fields['run_id']}"
    run = stored_run(run_server, fields["run_id"])
    assert run.display_name == "nightly"
    config = run.raw["runtime_config"]
    assert config["parameters"] == {"label": "hello world", "n": 3, "items": [1, 2], "flag": True}
    assert config["pipeline_root"] == "minio://bucket/root"
    assert run.raw["service_account"] == "runner"
    # not a TTY: one line per state change, tasks included
    assert "run SUCCEEDED" in err and "task prepare SUCCEEDED" in err and "task publish SUCCEEDED" in err
    assert "Traceback" not in err


def test_a_simulated_run_says_so(run_server, kfp_control, run_package, capsys):
    """The local server without --execute ran nothing: its SUCCEEDED must not pass for a real one."""
    code, out, err = af2kfp(capsys, str(run_package), "--host", run_server.url, "--wait", *FAST)
    assert code == 0, err
    fields = dict(line.split(": ", 1) for line in out.splitlines())
    assert fields["state"] == "SUCCEEDED"
    assert fields["note"].startswith("simulated by af2kfp kfp-server: nothing was executed")
    code, out, err = af2kfp(capsys, str(run_package), "--host", run_server.url, "--format", "json")
    record = json.loads(out)
    assert record["simulated"] is True and "--execute" in record["note"]


def test_run_urls_resolve(run_server, kfp_control, run_package, capsys):
    """The printed run URL, fetched over real HTTP, is a page that shows the run."""
    import httpx

    code, out, err = af2kfp(capsys, str(run_package), "--host", run_server.url)
    fields = dict(line.split(": ", 1) for line in out.splitlines())
    page = httpx.get(fields["run_url"])
    assert page.status_code == 200 and f'id="/runs/details/{fields["run_id"]}"' in page.text
    api_object = httpx.get(f"{run_server.url}/apis/v2beta1/runs/{fields['run_id']}")
    assert api_object.json()["run_id"] == fields["run_id"]


def test_failed_run_exits_1_with_run_error_and_failed_task(run_server, kfp_control, run_package, capsys):
    kfp_control.script_next("fail:crunch:OOMKilled: out of memory")
    code, out, err = af2kfp(capsys, str(run_package), "--host", run_server.url, "--wait", *FAST)
    assert code == 1
    assert "state: FAILED" in out
    failure = next(line for line in out.splitlines() if line.startswith("failure: "))
    assert "task 'crunch' failed" in failure and "OOMKilled: out of memory" in failure
    assert "pod " in failure  # the failed task's pod name
    assert "task publish" not in err  # never started


def test_canceled_run_exits_1(run_server, kfp_control, run_package, capsys):
    kfp_control.script_next("cancel:0.3")
    code, out, err = af2kfp(capsys, str(run_package), "--host", run_server.url, "--wait", *FAST)
    assert code == 1
    assert "state: CANCELED" in out and "ended CANCELED" in out
    assert "run CANCELING" in err


def test_wait_timeout_exits_1_and_names_last_state(run_server, kfp_control, run_package, capsys):
    kfp_control.script_next("hang")
    code, out, _ = af2kfp(
        capsys,
        str(run_package),
        "--host",
        run_server.url,
        "--wait",
        "--poll-interval",
        "0.1",
        "--timeout",
        "0.6",
    )
    assert code == 1
    assert "did not finish within 0.6s" in out and "last state: RUNNING" in out


def test_without_wait_submits_and_returns(run_server, kfp_control, run_package, capsys):
    code, out, err = af2kfp(capsys, str(run_package), "--host", run_server.url, "--no-caching")
    assert code == 0 and err == ""
    run_id = dict(line.split(": ", 1) for line in out.splitlines())["run_id"]
    run = stored_run(run_server, run_id)
    tasks = run.raw["pipeline_spec"]["root"]["dag"]["tasks"]
    assert {t["cachingOptions"]["enableCache"] for t in tasks.values()} == {False}
    assert run.display_name.startswith("cli-run-demo ")


def test_format_json(run_server, kfp_control, run_package, capsys):
    kfp_control.script_next("fail:publish")
    code, out, _ = af2kfp(
        capsys, str(run_package), "--host", run_server.url, "--wait", *FAST, "--format", "json"
    )
    assert code == 1
    record = json.loads(out)
    assert record["state"] == "FAILED"
    assert record["run_url"].endswith(record["run_id"])
    assert record["summary"]["failed_tasks"] == ["publish"]
    assert "task 'publish' failed" in record["failure"]


def test_uploaded_pipeline_by_name_and_version(run_server, kfp_control, run_package, capsys):
    with KfpClient(host=run_server.url) as kfp:
        pipeline = kfp.upload_pipeline(str(run_package), name="cli-run-uploaded")
        kfp.upload_pipeline_version(str(run_package), pipeline_id=pipeline.pipeline_id, name="v2")
    code, out, err = af2kfp(
        capsys,
        "--pipeline",
        "cli-run-uploaded",
        "--version",
        "v2",
        "--host",
        run_server.url,
        "-p",
        "n=7",
        "--wait",
        *FAST,
        "--format",
        "json",
    )
    assert code == 0, err
    run = stored_run(run_server, json.loads(out)["run_id"])
    assert run.raw["pipeline_version_reference"]["pipeline_id"] == pipeline.pipeline_id
    assert run.raw["runtime_config"]["parameters"] == {"n": 7}
    # unknown parameters are caught before anything is created
    code, _, err = af2kfp(capsys, "--pipeline", "cli-run-uploaded", "--host", run_server.url, "-p", "nope=1")
    assert code == 2 and "unknown pipeline parameter(s) nope" in err
    code, _, err = af2kfp(capsys, "--pipeline", "no-such-pipeline", "--host", run_server.url)
    assert code == 2 and "no-such-pipeline" in err


def test_convert_output_folder(run_server, kfp_control, run_package, tmp_path, capsys):
    for dag_id in ("etl", "ml"):
        (tmp_path / dag_id).mkdir()
        (tmp_path / dag_id / "pipeline.yaml").write_text(run_package.read_text())
    dags = [{"dag_id": d, "kfp": {"yaml": f"{d}/pipeline.yaml"}} for d in ("etl", "ml")]
    (tmp_path / "report.json").write_text(json.dumps({"schema_version": 1, "dags": dags}))
    code, _, err = af2kfp(capsys, str(tmp_path), "--host", run_server.url)
    assert code == 2 and "pick one with --dag (etl, ml)" in err
    code, out, err = af2kfp(
        capsys, str(tmp_path), "--dag", "ml", "--host", run_server.url, "--format", "json"
    )
    assert code == 0, err
    code, out, err = af2kfp(capsys, str(tmp_path / "etl"), "--host", run_server.url, "--format", "json")
    assert code == 0, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.yaml"], "missing.yaml: no such file or folder"),
        (["{pkg}", "-p", "novalue"], "-p 'novalue': expected NAME=VALUE"),
        (["{pkg}", "-p", "=1"], "expected NAME=VALUE"),
        (["{pkg}", "-p", "n=1", "-p", "n=2"], "-p n: given more than once"),
        (
            ["{pkg}", "-p", "colour=red"],
            "unknown pipeline parameter(s) colour; the pipeline takes: flag, items, label, n",
        ),
        (["{pkg}", "--poll-interval", "0"], "--poll-interval must be positive"),
        ([], "give exactly one pipeline"),
        (["{pkg}", "--version", "v1"], "--version needs --pipeline NAME"),
        (["{pkg}", "--token-file", "/nonexistent/token"], "--token-file /nonexistent/token: no such file"),
        (["{notyaml}"], "not valid YAML/JSON"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    run_server, kfp_control, run_package, tmp_path, capsys, argv, message
):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1,\n")
    argv = [a.format(pkg=run_package, notyaml=bad) for a in argv]
    before = len(kfp_list_runs(run_server))
    code, out, err = af2kfp(capsys, *argv, "--host", run_server.url)
    assert code == 2
    assert message in err and "Traceback" not in err and out == ""
    assert len(kfp_list_runs(run_server)) == before  # nothing was submitted


def kfp_list_runs(server: Any) -> list[Any]:
    with KfpClient(host=server.url) as kfp:
        return list(kfp.list_runs(page_size=200).items)


def test_bad_host_exits_2(run_package, capsys):
    code, _, err = af2kfp(capsys, str(run_package), "--host", "ftp://x")
    assert code == 2 and "KFP host must be an http(s) URL" in err


def test_unreachable_host_exits_1(run_package, capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = main(["run", str(run_package), "--host", f"http://127.0.0.1:{port}"]), *capsys.readouterr()
    assert code == 1 and "af2kfp: error:" in err and "Traceback" not in err


def test_secrets_never_printed(run_package, tmp_path, capsys):
    from af2kfp.bridge.kfp_server import start_server

    token = "s3cret-token-0123456789"
    with start_server(bearer_token=token, run_seconds=0.6, pending_seconds=0.1) as run_server:
        _secrets_never_printed(run_server, token, run_package, capsys)


def _secrets_never_printed(run_server, token, run_package, capsys):
    code, out, err = af2kfp(
        capsys,
        str(run_package),
        "--host",
        run_server.url,
        "--token",
        token,
        "--wait",
        *FAST,
        "--format",
        "json",
        verbose=True,
    )
    assert code == 0, err
    assert token not in out + err
    code, out, err = af2kfp(capsys, str(run_package), "--host", run_server.url, "--token", "wrong-" + token)
    assert code == 2 and "HTTP 401" in err
    assert token not in out + err
    cookie = "authservice_session=cookie-secret-value"
    code, out, err = af2kfp(
        capsys, str(run_package), "--host", run_server.url, "--cookie", cookie, verbose=True
    )
    assert code == 2
    assert "cookie-secret-value" not in out + err


def test_progress_on_a_tty_rewrites_one_line():
    from af2kfp.bridge.kfp import Run

    stream = io.StringIO()
    progress = Progress(stream, tty=True, total_tasks=3)
    base = {"run_id": "r1", "display_name": "demo"}
    task = {"display_name": "prepare", "state": "SUCCEEDED"}
    progress(Run.from_json({**base, "state": "RUNNING", "run_details": {"task_details": [task]}}))
    progress(
        Run.from_json(
            {
                **base,
                "state": "FAILED",
                "run_details": {"task_details": [task, {"display_name": "crunch", "state": "FAILED"}]},
            }
        )
    )
    progress.finish()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r") == 2
    assert "RUNNING    00:00  tasks 1/3 done, 0 running" in text
    assert "FAILED     00:00  tasks 1/3 done, 0 running, 1 failed" in text


def test_parse_parameters_json_else_string():
    assert parse_parameters(
        ["a=1", "b=1.5", "c=null", 'd={"k": [1]}', "e=hello", "f=", "g=a=b", 'h="7"']
    ) == {
        "a": 1,
        "b": 1.5,
        "c": None,
        "d": {"k": [1]},
        "e": "hello",
        "f": "",
        "g": "a=b",
        "h": "7",
    }


def test_real_subprocess(run_server, kfp_control, run_package):
    exe = Path(sys.prefix) / "bin" / "af2kfp"
    kfp_control.script_next("fail:prepare:bad input row")
    done = subprocess.run(
        [str(exe), "run", str(run_package), "--host", run_server.url, "--wait", *FAST, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 1, done.stderr
    record = json.loads(done.stdout)
    assert "bad input row" in record["failure"]
    assert "run FAILED" in done.stderr


def test_real_convert_output_folder(run_server, kfp_control, tmp_path, capsys):
    from af2kfp.converters.convert import convert_paths

    dag_file = Path(__file__).parent.parent / "compare" / "dags" / "compare_demo.py"
    convert_paths([dag_file], tmp_path)
    code, out, err = af2kfp(
        capsys, str(tmp_path), "--host", run_server.url, "--wait", *FAST, "--format", "json"
    )
    assert code == 0, err
    record = json.loads(out)
    assert record["state"] == "SUCCEEDED" and record["run_name"].startswith("compare-demo ")
    assert "task extract SUCCEEDED" in err and "task load SUCCEEDED" in err


def test_progress_in_a_real_terminal(run_server, kfp_control, run_package):
    """stderr on a pseudo-terminal: one line rewritten with carriage returns, ended by a newline."""
    import pty

    exe = Path(sys.prefix) / "bin" / "af2kfp"
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [str(exe), "run", str(run_package), "--host", run_server.url, "--wait", *FAST],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal has no writer left
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    assert done.returncode == 0
    shown = b"".join(chunks).decode()
    rewrites = len(re.findall(r"\r(?!\n)", shown))  # the terminal turns "\n" into "\r\n"
    assert rewrites >= 2 and shown.count("\n") == 1
    assert "SUCCEEDED  00:0" in shown and "tasks 3/3 done" in shown
    assert "state: SUCCEEDED" in done.stdout


@pytest.mark.slow
def test_an_executed_run_fails_when_its_python_crashes(tmp_path, capsys):
    """With --execute the server runs the Python: a crashing component fails the run, no note."""
    from kfp import compiler

    from af2kfp.bridge.kfp_server import start_server
    from tests.kfp_server.pipelines import tiny_fail

    package = tmp_path / "fail.yaml"
    compiler.Compiler().compile(tiny_fail, str(package))
    with start_server(execute=True, pending_seconds=0.0) as server:
        code, out, err = af2kfp(capsys, str(package), "--host", server.url, "--wait", "--poll-interval", "0.2",
                                "--timeout", "90", "-p", "a=1")
    assert code == 1, err
    assert "state: FAILED" in out and "ValueError: cannot handle 2" in out
    assert "note:" not in out


def test_the_host_comes_from_kfp_host_or_the_running_local_server(run_server, run_package, capsys, tmp_path,
                                                                   monkeypatch):
    """Trying a pipeline needs no --host: KFP_HOST (or kfp's KF_PIPELINES_ENDPOINT), else the
    `af2kfp kfp-server` running here, whose URL file goes away when it stops."""
    from af2kfp.bridge.cli.kfp_options import HOST_VARIABLES
    from af2kfp.bridge.kfp_server import start_server_process

    url_file = tmp_path / "kfp-server.url"
    monkeypatch.setenv("AF2KFP_KFP_SERVER_URL_FILE", str(url_file))
    for name in HOST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    code, _, err = af2kfp(capsys, str(run_package))
    assert code == 2 and "no KFP host: give --host URL, set KFP_HOST or KF_PIPELINES_ENDPOINT" in err

    local = start_server_process(env={"AF2KFP_KFP_SERVER_URL_FILE": str(url_file)})
    try:
        assert url_file.read_text().strip() == local.url
        code, out, err = af2kfp(capsys, str(run_package), "--format", "json")
        assert code == 0, err
        assert f"af2kfp: KFP host {local.url} (from the local af2kfp kfp-server ({url_file}))" in err
        assert json.loads(out)["run_url"].startswith(local.url)

        for name in HOST_VARIABLES:  # a variable wins over the local server, KFP_HOST first
            monkeypatch.setenv(name, run_server.url)
            code, out, err = af2kfp(capsys, str(run_package), "--format", "json")
            assert code == 0 and f"(from {HOST_VARIABLES[0]})" in err
            assert stored_run(run_server, json.loads(out)["run_id"]).run_id
        for name in HOST_VARIABLES:
            monkeypatch.delenv(name)
    finally:
        local.stop()
    assert not url_file.exists()  # withdrawn by the stopping server

    url_file.write_text(local.url + "\n")  # left by a killed server: not used
    code, _, err = af2kfp(capsys, str(run_package))
    assert code == 2 and "no KFP host" in err
