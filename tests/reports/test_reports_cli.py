"""``af2kfp report`` and ``af2kfp check``: formats by suffix, exit codes, the pre-commit hook definition."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from af2kfp.bridge.cli import main
from tests.reports.conftest import REPO, SAMPLES

LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): (?P<severity>info|warning|error) (?P<code>[A-Z]\d{3}) (?P<message>.+)$")


@pytest.mark.parametrize("suffix, probe", [(".html", "<!DOCTYPE html>"), (".md", "## af2kfp migration report"),
                                           (".sarif", '"version": "2.1.0"'), (".json", '"schema_version": 1')])
def test_report_from_existing_report_json(samples, tmp_path, capsys, suffix, probe):
    out, report = samples
    target = tmp_path / f"r{suffix}"
    assert main(["report", str(out / "report.json"), "-o", str(target)]) == 0
    assert probe in target.read_text()
    assert f"-> {target}" in capsys.readouterr().out


def test_report_converts_dag_files(tmp_path):
    target = tmp_path / "one.html"
    assert main(["report", str(SAMPLES / "docker_sales_etl.py"), "-o", str(target), "-j", "1"]) == 0
    html = target.read_text()
    assert "docker_sales_etl" in html and "@dsl.container_component" in html  # generated code read before cleanup


def test_report_bad_input(tmp_path, samples, capsys):
    out, _ = samples
    assert main(["report", str(out / "report.json"), "-o", str(tmp_path / "r.txt")]) == 2
    bad = tmp_path / "report.json"
    bad.write_text('{"not": "a report"}')
    assert main(["report", str(bad), "-o", str(tmp_path / "r.md")]) == 2
    assert main(["report", str(tmp_path / "missing"), "-o", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err
    assert "unknown report format" in err and "not an af2kfp report.json" in err and "Traceback" not in err


def _check(args, capsys):
    code = main(["check", *args, "-j", "1"])
    return code, capsys.readouterr().out.splitlines()


def test_check_exit_codes_and_lines(tmp_path, capsys):
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(SAMPLES / "docker_sales_etl.py", dags)  # warnings, no error
    code, lines = _check([str(dags), "--fail-on", "error"], capsys)
    assert code == 0 and lines[-1].endswith("--fail-on error: passed")
    findings = [LINE.match(line) for line in lines[:-1]]
    assert findings and all(findings), lines
    assert {m["severity"] for m in findings} == {"warning"}
    first = findings[0]
    assert Path(first["file"]).name == "docker_sales_etl.py" and int(first["line"]) > 0
    code, lines = _check([str(dags), "--fail-on", "warning"], capsys)
    assert code == 1 and "FAILED" in lines[-1]
    code, lines = _check([str(dags), "--fail-on", "error", "--show", "info"], capsys)
    assert any(" info M203 " in line for line in lines)


def test_check_fails_on_errors_and_reads_report_json(samples, capsys):
    out, report = samples
    code, lines = _check([str(out / "report.json"), "--fail-on", "error"], capsys)
    assert code == 1
    assert sum(1 for line in lines if " error " in line) == report["summary"]["findings"]["error"]
    a101 = next(line for line in lines if " error A101 " in line)
    assert re.match(r"^\S*broken_python2_syntax\.py:14: error A101 syntax error: ", a101), a101  # location once


def test_check_bad_input(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.py")]) == 2
    assert main(["check", str(SAMPLES), "--config", str(tmp_path / "missing.toml")]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(SAMPLES), "--fail-on", "sometimes"])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_pre_commit_hook_definition():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "af2kfp-check")
    assert hook["language"] == "python" and hook["types"] == ["python"]
    assert hook.get("pass_filenames", True) is True
    assert hook["entry"].split()[:2] == ["af2kfp", "check"]
    scripts = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^af2kfp\s*=\s*"af2kfp\.bridge\.cli:main"', scripts, re.M)
    assert "af2kfp-check" in (REPO / "docs" / "reports.md").read_text()


def test_json_output_is_the_report(samples, tmp_path):
    out, report = samples
    target = tmp_path / "copy.json"
    assert main(["report", str(out / "report.json"), "-o", str(target)]) == 0
    assert json.loads(target.read_text()) == report
