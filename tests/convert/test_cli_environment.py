"""``--variables``, ``--connections``, ``--env``, ``--env-file`` and ``--root`` on convert, check and report."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from af2kfp.bridge.cli import main

SECRETS = ("hunter2", "s3cret", "xoxb-leak")
DAG = textwrap.dedent("""
    import os
    from airflow.models import Variable
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk import DAG

    from include.etl import image_for

    with DAG("env_demo", schedule=None):
        for table in Variable.get("tables", deserialize_json=True):
            KubernetesPodOperator(
                task_id=f"load_{table}",
                image=image_for("loader"),
                arguments=["--table", table, "--db", "{{ conn.warehouse.host }}/{{ conn.warehouse.schema }}"],
                env_vars={"TEAM": os.environ["TEAM"], "REGION": os.getenv("REGION"),
                          "PASSWORD": "{{ conn.warehouse.password }}"},
            )
""")
HELPER = textwrap.dedent("""
    from airflow.models import Variable

    def image_for(name):
        return f"registry.example.com/{name}:{Variable.get('image_tag')}"
""")


@pytest.fixture
def repo(tmp_path) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "env_demo.py").write_text(DAG)
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "etl.py").write_text(HELPER)
    (tmp_path / "airflow.cfg").write_text("[core]\n")
    (tmp_path / "vars.json").write_text(json.dumps({
        "tables": '["orders", "users"]', "image_tag": "2.1", "db_password": "hunter2", "slack_token": "xoxb-leak"}))
    (tmp_path / "conns.json").write_text(json.dumps({"warehouse": {
        "conn_type": "postgres", "host": "db.internal", "port": 5432, "schema": "dw", "login": "etl",
        "password": "s3cret", "extra": ""}}))
    (tmp_path / "deploy.env").write_text("REGION=eu-west1\n")
    return tmp_path


def _flags(repo: Path) -> list[str]:
    return ["--variables", str(repo / "vars.json"), "--connections", str(repo / "conns.json"),
            "--env", "TEAM=growth", "--env-file", str(repo / "deploy.env")]


def test_convert_folds_what_is_supplied_and_says_which_root_and_config(repo, capsys):
    out = repo / "out"
    assert main(["convert", str(repo / "dags"), "-o", str(out), *_flags(repo), "--fail-on", "none"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[:2] == [
        f"af2kfp: root {repo} (nearest folder with airflow.cfg)",
        "af2kfp: config none (no pyproject.toml with [tool.af2kfp]; defaults used)",
    ]
    assert "Variable db_password" in captured.err and "Variable slack_token" in captured.err  # names, not values
    pipeline = (out / "env_demo" / "pipeline.py").read_text()
    assert 'image="registry.example.com/loader:2.1"' in pipeline
    assert '"--db", "db.internal/dw"' in pipeline
    assert 'name="TEAM", value="growth"' in pipeline and 'name="REGION", value="eu-west1"' in pipeline
    assert "def load_orders(" in pipeline and "def load_users(" in pipeline
    assert 'secret_name="airflow-conn-warehouse"' in pipeline  # the password is read from a Secret
    written = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    for secret in SECRETS:
        assert secret not in written and secret not in captured.out and secret not in captured.err


def test_without_them_each_value_kfp_needs_names_what_to_supply(repo, capsys):
    assert main(["convert", str(repo / "dags"), "-o", str(repo / "out"), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [finding] = [f for f in report["findings"] if f["code"] == "A121"]
    assert "Airflow Variable `tables` (--variables FILE)" in finding["message"] and finding["severity"] == "error"


def test_root_decides_where_helpers_resolve(repo, capsys, tmp_path_factory):
    (repo / "airflow.cfg").unlink()
    out = repo / "out"
    main(["convert", str(repo / "dags"), "-o", str(out), *_flags(repo), "--fail-on", "none", "--format", "json"])
    captured = capsys.readouterr()
    assert "af2kfp: root none" in captured.err
    assert not (out / "env_demo" / "pipeline.py").read_text().count("registry.example.com/loader:2.1")
    main(["convert", str(repo / "dags"), "-o", str(out), *_flags(repo), "--fail-on", "none", "--root", str(repo)])
    assert f"af2kfp: root {repo} (--root)" in capsys.readouterr().err
    assert 'image="registry.example.com/loader:2.1"' in (out / "env_demo" / "pipeline.py").read_text()


def test_check_and_report_take_the_same_options(repo, capsys):
    assert main(["check", str(repo / "dags"), *_flags(repo), "--fail-on", "error"]) == 0
    assert "0 error" in capsys.readouterr().out
    assert main(["check", str(repo / "dags"), "--fail-on", "error"]) == 1
    capsys.readouterr()
    report = repo / "report.json"
    assert main(["report", str(repo / "dags"), "-o", str(report), *_flags(repo)]) == 0
    assert json.loads(report.read_text())["summary"]["tasks"] == 2


@pytest.mark.parametrize(("option", "message"), [
    (["--variables", "missing.json"], "--variables missing.json: file not found"),
    (["--env", "NOPE"], "--env option 1: expected KEY=VALUE"),
    (["--root", "no/such/folder"], "--root no/such/folder: no such folder"),
])
def test_bad_options_exit_2_with_a_message(repo, capsys, option, message):
    assert main(["convert", str(repo / "dags"), "-o", str(repo / "out"), *option]) == 2
    assert message in capsys.readouterr().err
