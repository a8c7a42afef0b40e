"""samples/repo_style: a repository as teams lay it out, converted with the Variables its deployment has.

The conversion (as its README shows it, from this repository's root) is compared with the golden
files in ``samples/repo_style_expected/`` (``AF2KFP_REGENERATE=1`` rewrites them); without the
Variables, every value KFP needs names the Variable to supply; ``af2kfp verify`` finds no difference
with Airflow's DagBag given the same Variables.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from af2kfp.bridge.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = Path("samples/repo_style")
EXPECTED = REPO / "samples" / "repo_style_expected"
SKIPPED = {"report.html"}
VARIABLES = ["--variables", str(SAMPLE / "airflow_variables.json")]


def _outputs(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in SKIPPED}


def _convert(out: Path, *options: str) -> int:
    """``af2kfp convert samples/repo_style/dags ...`` from this repository's root, as the README runs it."""
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return main(["convert", str(SAMPLE / "dags"), "-o", str(out), "--fail-on", "none", "--no-cache", *options])
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("repo_style") / "kfp"
    assert _convert(out, *VARIABLES) == 0
    if os.environ.get("AF2KFP_REGENERATE") == "1":
        shutil.rmtree(EXPECTED, ignore_errors=True)
        for name, path in _outputs(out).items():
            (EXPECTED / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, EXPECTED / name)
    return out


def test_same_files_as_golden(converted):
    assert set(_outputs(converted)) == set(_outputs(EXPECTED)), "regenerate with AF2KFP_REGENERATE=1"
    for name, path in _outputs(EXPECTED).items():
        assert (converted / name).read_text() == path.read_text(), f"{name} differs from the golden file"


def test_repository_operators_take_their_parents_rule_and_run_as_is(converted):
    report = json.loads((converted / "report.json").read_text())
    summary = report["summary"]
    assert (summary["tasks"], summary["converted"], summary["findings"]["warning"],
            summary["findings"]["error"]) == (22, 22, 0, 0)
    codes = {f["code"] for f in report["findings"]}
    assert "M280" in codes and not codes & {"M201", "M205", "A120", "A121", "M282"}
    scoring = (converted / "marketing_attribution" / "pipeline.py").read_text()
    assert 'image="europe-docker.pkg.dev/acme-data/images/touchpoint-scoring:1.8.3"' in scoring
    assert scoring.count("def score_touchpoints_") == 3  # range(int(Variable.get("attribution_shards")))
    assert "--full-refresh" not in scoring  # dbt_full_refresh is "false"
    assert '"--full-refresh"' in (converted / "finance_close" / "pipeline.py").read_text()  # full_refresh=True
    written = "".join(p.read_text() for p in _outputs(converted).values())
    assert "xoxb-not-a-real-token" not in written  # a secret-looking Variable is never read


def test_what_an_operators_execute_sets_before_the_parents_is_the_pod(converted):
    """SparkJobOperator builds its command and environment in execute(), then calls KubernetesPodOperator's."""
    ltv = (converted / "customer_ltv" / "pipeline.py").read_text()
    assert 'command=["/opt/spark/bin/spark-submit"]' in ltv
    assert '"com.acme.ltv.ScoreCustomers",\n            "--conf",\n            "spark.executor.memory=8g",' in ltv
    assert ltv.count('.set_env_variable(name="SPARK_ENV", value="prod")') == 2
    assert ltv.count('name="SPARK_EVENT_LOG_DIR", value="gs://acme-spark-history/events"') == 2  # env is prod
    report = json.loads((converted / "report.json").read_text())
    applied = [f["message"] for f in report["findings"] if f["code"] == "M280" and f["task_id"] == "ltv_scores"]
    assert len(applied) == 1 and "its execute (samples/repo_style/include/acme_airflow/operators.py:" in applied[0]
    assert "is applied (cmds, arguments, env_vars)" in applied[0]


def test_without_the_variables_each_one_kfp_needs_is_named(tmp_path):
    out = tmp_path / "kfp"
    _convert(out)
    report = json.loads((out / "report.json").read_text())
    by_code: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_code.setdefault(finding["code"], []).append(finding)
    assert "Variable `attribution_shards`" in by_code["A121"][0]["message"]
    assert all("Variable `dbt_image_tag`" in f["message"] for f in by_code["M282"])
    decided = {f["task_id"]: f["message"] for f in by_code["A120"]}
    assert set(decided) == {"dbt_stg_sessions", "dbt_stg_orders", "dbt_stg_ad_spend", "dbt_fct_attribution",
                            "dbt_fct_ledger_balances", "dbt_fct_customer_ltv",  # not fct_month_close: full_refresh=True
                            "ltv_features", "ltv_scores"}
    assert all("Variable `dbt_full_refresh`" in m for t, m in decided.items() if t.startswith("dbt_"))
    # SparkJobOperator.execute adds an environment variable in prod only
    assert all("the condition `DEPLOYMENT_ENV == \"prod\"`" in m and "Variable `deployment_env`" in m
               for t, m in decided.items() if t.startswith("ltv_"))


@pytest.mark.airflow
@pytest.mark.slow
def test_verify_finds_no_difference_with_airflow(capsys):
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        code = main(["verify", "--yes-run-dag-code", str(SAMPLE / "dags"), *VARIABLES])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "5 DAGs compared (5 identical)" in out and "0 difference(s)" in out
