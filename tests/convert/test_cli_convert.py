"""``af2kfp convert``: exit codes, text and JSON output, config discovery, end to end on DAG files."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from af2kfp.bridge.cli import main
from af2kfp.bridge.cli.convert import exit_code

pytest.importorskip("af2kfp.converters.analysis")

DAG = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow import DAG
    from airflow.providers.docker.operators.docker import DockerOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from acme.ops import TeamOperator

    with DAG("cli_demo", schedule=None) as dag:
        extract = DockerOperator(task_id="extract", image="etl:1", command="run --day 1", retries=2,
                                 retry_delay=timedelta(minutes=2))
        report = BashOperator(task_id="report", bash_command="echo ok")
        custom = TeamOperator(task_id="custom", image="team:3", cmds=["go"])
        extract >> report >> custom
    """
)
WRITES = textwrap.dedent(
    """
    open("/tmp/af2kfp-cli-must-not-exist", "w").write("x")
    import socket; socket.socket().connect(("127.0.0.1", 9))
    from airflow import DAG
    from airflow.providers.standard.operators.bash import BashOperator
    with DAG("side_effects", schedule=None):
        BashOperator(task_id="t", bash_command="true")
    """
)


@pytest.fixture
def project(tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "demo.py").write_text(DAG)
    (dags / "writes.py").write_text(WRITES)
    return tmp_path


def test_text_output_and_exit_code_for_unsupported_operator(project, capsys):
    code = main(["convert", str(project / "dags"), "-o", str(project / "out")])
    out = capsys.readouterr().out
    assert code == 1  # M201 is an error: TeamOperator has no rule
    assert "2 DAGs" in out and "M201" in out and "suggestion:" in out
    spec = next(yaml.safe_load_all((project / "out" / "cli_demo" / "pipeline.yaml").read_text()))
    extract = next(e["container"] for e in spec["deploymentSpec"]["executors"].values() if e["container"]["image"] == "etl:1")
    assert extract["args"] == ["run", "--day", "1"]
    assert (project / "out" / "side_effects" / "pipeline.yaml").is_file()
    import os

    assert not os.path.exists("/tmp/af2kfp-cli-must-not-exist")


def test_config_maps_user_operator_and_json_output(project, capsys):
    (project / "pyproject.toml").write_text('[tool.af2kfp]\n[tool.af2kfp.operators]\n"acme.ops.TeamOperator" = "KubernetesPodOperator"\n')
    code = main(["convert", str(project / "dags"), "-o", str(project / "out"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    demo = next(d for d in report["dags"] if d["dag_id"] == "cli_demo")
    assert {t["task_id"]: t["fate"] for t in demo["airflow"]["tasks"]}["custom"] == "converted"
    assert report == json.loads((project / "out" / "report.json").read_text())


def test_fail_on_thresholds(project, capsys):
    args = ["convert", str(project / "dags" / "demo.py"), "-o", str(project / "out")]
    assert main(args + ["--fail-on", "none"]) == 0
    assert main(args + ["--fail-on", "info"]) == 1


def test_missing_path_and_bad_config_exit_2_without_traceback(project, capsys):
    assert main(["convert", str(project / "nope"), "-o", str(project / "out")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    assert main(["convert", str(project / "dags"), "-o", str(project / "out"), "--config", str(project / "no.toml")]) == 2
    (project / "bad.toml").write_text('[tool.af2kfp.operators]\n"a.B" = "NoSuchRule"\n')
    assert main(["convert", str(project / "dags"), "-o", str(project / "out"), "--config", str(project / "bad.toml")]) == 2
    assert "NoSuchRule" in capsys.readouterr().err
    assert main(["convert", str(project / "dags"), "-o", str(project / "out"), "--jobs", "0"]) == 2


def test_exit_code_helper():
    report = {"findings": [{"severity": "warning"}]}
    assert exit_code(report, "error") == 0
    assert exit_code(report, "warning") == 1
    assert exit_code({"findings": []}, "info") == 0


def test_data_intervals_option_dates_runs_as_airflow_2(tmp_path, capsys):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "daily.py").write_text(textwrap.dedent(
        """
        from airflow import DAG
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG("daily", schedule="@daily"):
            BashOperator(task_id="t", bash_command="echo {{ ds }}")
        """))
    assert main(["convert", str(dags), "-o", str(tmp_path / "a")]) == 0
    assert "croniter" not in (tmp_path / "a" / "daily" / "pipeline.py").read_text()
    assert main(["convert", str(dags), "-o", str(tmp_path / "b"), "--data-intervals"]) == 0
    code = (tmp_path / "b" / "daily" / "pipeline.py").read_text()
    assert 'packages_to_install=["croniter"]' in code and 'cron = "0 0 * * *"' in code
    notes = json.loads((tmp_path / "b" / "daily" / "schedule.json").read_text())["notes"]
    assert any("data intervals, cron '0 0 * * *'" in note for note in notes)


def _rule_project(tmp_path: Path) -> Path:
    """A repository whose pyproject.toml names a rule module that would leave a marker when imported."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "etl.py").write_text(
        "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "with DAG('etl', start_date=datetime(2024, 1, 1), schedule=None):\n"
        "    BashOperator(task_id='hello', bash_command='echo hi')\n")
    (tmp_path / "marker_rules.py").write_text(
        "from pathlib import Path\nPath(__file__).with_name('IMPORTED').write_text('ran')\n"
        "def rule(ctx, name):\n    return None\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.af2kfp]\nbash_image = "evil/bash:1"\n[tool.af2kfp.operators]\n"x.Op" = "marker_rules:rule"\n')
    return tmp_path


def test_a_found_config_does_not_import_its_rule_modules(tmp_path, monkeypatch, capsys):
    """A config found beside the DAGs is the repository's code: its rule modules are refused (exit 2,
    named), imported only with --config or --allow-config-rules; the config used is printed and recorded."""
    project = _rule_project(tmp_path)
    monkeypatch.syspath_prepend(str(project))
    assert main(["convert", str(project / "dags"), "-o", str(project / "out")]) == 2
    err = capsys.readouterr().err
    assert "marker_rules:rule" in err and "--allow-config-rules" in err
    assert not (project / "IMPORTED").exists()
    assert main(["convert", str(project / "dags"), "-o", str(project / "out"), "--allow-config-rules"]) == 0
    assert (project / "IMPORTED").exists()
    err = capsys.readouterr().err
    assert "config " in err and "found above the first PATH; sets bash_image, operators" in err
    report = json.loads((project / "out" / "report.json").read_text())
    assert report["config"].endswith("pyproject.toml")


def test_a_config_given_with_config_may_import_rules(tmp_path, monkeypatch, capsys):
    project = _rule_project(tmp_path)
    monkeypatch.syspath_prepend(str(project))
    args = ["convert", str(project / "dags"), "-o", str(project / "out"), "--config", str(project / "pyproject.toml")]
    assert main(args) == 0
    assert "(--config; sets bash_image, operators)" in capsys.readouterr().err


def test_text_output_says_where_report_html_is_and_show_filters_like_check(project, capsys):
    """A new user's first question after a conversion: where is the report to open? And `--show`
    keeps a large conversion's output to what matters, as `af2kfp check --show` does."""
    (project / "dags" / "pooled.py").write_text(textwrap.dedent(
        """
        from airflow import DAG
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG("pooled", schedule=None):
            BashOperator(task_id="t", bash_command="echo ok", pool="small")
        """
    ))
    out_dir = project / "out"
    assert main(["convert", str(project / "dags"), "-o", str(out_dir), "--fail-on", "none"]) == 0
    everything = capsys.readouterr().out
    assert f"report: {out_dir / 'report.html'} (open it in a browser" in everything
    assert (out_dir / "report.html").is_file()
    report = json.loads((out_dir / "report.json").read_text())
    severities = {f["severity"] for f in report["findings"]}
    assert {"error", "info"} <= severities  # the sample has both: the filter is visible

    assert main(["convert", str(project / "dags"), "-o", str(out_dir), "--fail-on", "none", "--show", "error"]) == 0
    errors_only = capsys.readouterr().out
    shown = [line for line in errors_only.splitlines() if ": error " in line or ": info " in line]
    assert shown and all(": error " in line for line in shown)
    hidden = sum(1 for f in report["findings"] if f["severity"] != "error")
    assert f"({hidden} below error not shown)" in errors_only
    assert "not shown" not in everything
