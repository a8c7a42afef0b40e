"""SARIF 2.1.0: valid against the official schema, rules = finding codes, locations at the DAG files."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft4Validator

from af2kfp.converters.reports.model import finding_codes
from af2kfp.converters.reports.sarif import render_sarif
from tests.reports import crafted as c
from tests.reports.conftest import REPO

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())


def test_samples_sarif_is_valid_and_complete(samples):
    _, report = samples
    log = render_sarif(report, source_root=REPO)
    Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    codes = finding_codes()
    assert {r["id"] for r in rules} >= {f["code"] for f in report["findings"]}
    m201 = next(r for r in rules if r["id"] == "M201")
    assert m201["help"]["text"] == codes["M201"].help and m201["defaultConfiguration"]["level"] == "error"
    assert len(run["results"]) == report["summary"]["findings"]["total"]
    levels = {r["level"] for r in run["results"]}
    assert levels == {"error", "warning", "note"}
    finding = next(f for f in report["findings"] if f["code"] == "M201")
    sql = next(
        r for r in run["results"]
        if r["ruleId"] == "M201" and r["locations"][0]["physicalLocation"]["region"]["startLine"] == finding["line"]
    )
    location = sql["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert (REPO / location["artifactLocation"]["uri"]).resolve() == (REPO / finding["file"]).resolve()
    line = location["region"]["startLine"]
    assert line == finding["line"]
    assert finding["task_id"] in (REPO / location["artifactLocation"]["uri"]).read_text().splitlines()[line - 1]
    assert rules[sql["ruleIndex"]]["id"] == "M201"


def test_file_findings_without_line_and_odd_paths():
    findings = [c.finding("A103", "info", dag_id=None, file="dags/no dag.py", line=None),
                c.finding("X999", "warning", dag_id=None, file="/elsewhere/x.py")]
    log = render_sarif(c.report([], findings, files=["dags/no dag.py"]), source_root=Path("/work/nowhere"))
    Draft4Validator(SCHEMA).validate(log)
    first, second = log["runs"][0]["results"]
    assert first["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "dags/no%20dag.py", "uriBaseId": "%SRCROOT%"}}
    assert first["level"] == "note"
    assert second["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///elsewhere/x.py"}
    assert any(r["id"] == "X999" for r in log["runs"][0]["tool"]["driver"]["rules"])  # unknown codes still get a rule
