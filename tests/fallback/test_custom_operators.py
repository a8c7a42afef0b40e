"""docs/custom-operators.md's example, run as written: config entries and a user rule module."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from af2kfp.bridge.cli import main
from af2kfp.converters.config import Config
from af2kfp.converters.errors import InputError
from af2kfp.converters.mappings import check_config, rule_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "custom-operators.md"
DAG = textwrap.dedent(
    """
    from airflow.sdk import DAG
    from mycompany.ops import GKEPodOperator, LedgerOperator, ReportOperator

    with DAG("weekly_reports", schedule=None):
        weekly = ReportOperator(task_id="weekly", report="revenue", retries=2)
        pod = GKEPodOperator(task_id="pod", image="team:1", cmds=["go"])
        ledger = LedgerOperator(task_id="ledger", ledger="eu")
        weekly >> pod >> ledger
    """
)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture
def project(tmp_path, monkeypatch):
    plugin = tmp_path / "plugin" / "mycompany_af2kfp"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text("")
    (plugin / "rules.py").write_text(next(b for b in _blocks("python") if "mycompany_af2kfp/rules.py" in b))
    monkeypatch.syspath_prepend(str(tmp_path / "plugin"))
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "weekly.py").write_text(DAG)
    (tmp_path / "pyproject.toml").write_text("[tool.af2kfp]\n" + _blocks("toml")[0])
    return tmp_path


def test_documented_rule_module_converts_and_compiles(project):
    out = project / "out"
    # rule modules are imported only from a config given explicitly (a found one is the repository's code)
    assert main(["convert", str(project / "dags"), "-o", str(out), "--config", str(project / "pyproject.toml")]) == 0
    report = json.loads((out / "report.json").read_text())
    tasks = {t["task_id"]: t for t in report["dags"][0]["airflow"]["tasks"]}
    assert {k: t["fate"] for k, t in tasks.items()} == {"weekly": "converted", "pod": "converted", "ledger": "review"}
    assert report["dags"][0]["kfp"]["compiled"] is True
    spec = next(yaml.safe_load_all((out / "weekly_reports" / "pipeline.yaml").read_text()))
    containers = [e["container"] for e in spec["deploymentSpec"]["executors"].values()]
    report_task = next(c for c in containers if c["image"] == "registry.example.com/reports:2.1")
    assert report_task["command"] == ["report"] and report_task["args"] == ["--name", "revenue", "--day", "latest"]
    ledger = next(c for c in containers if c["image"] == "apache/airflow:3.3.2")
    assert ledger["args"][:2] == ["--operator", "mycompany.ops.LedgerOperator"]
    assert "reports-api" in (out / "weekly_reports" / "pipeline.yaml").read_text()
    assert {f["code"] for f in report["findings"] if f["task_id"] == "weekly"} == {"M216"}


def test_documented_rule_names_are_the_registrys():
    listed = re.search(r"Built-in rule names: (.*?) \(the full", DOC.read_text(), re.S).group(1)
    assert re.findall(r"`([^`]+)`", listed) == rule_names()


def test_rule_that_does_not_import_is_an_input_error():
    with pytest.raises(InputError, match="cannot import no_such_plugin"):
        check_config(Config(operators={"a.B": "no_such_plugin.rules:r"}, source="pyproject.toml"))
    with pytest.raises(InputError, match="has no 'nope'"):
        check_config(Config(operators={"a.B": "af2kfp.converters.mappings.bash:nope"}, source="pyproject.toml"))
