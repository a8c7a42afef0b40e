"""The HTML and Markdown reports show each DAG's migration stage and last shadow comparison, and
the repository summary counts the DAGs at each stage (``af2kfp report --state``)."""

from __future__ import annotations

import json
from pathlib import Path

from af2kfp.bridge.cli import main
from af2kfp.converters.reports import render
from af2kfp.converters.reports.migration import MigrationView

REPO = Path(__file__).resolve().parents[2]
EXPECTED = REPO / "samples" / "expected"
SHADOW = {"verdict": "differs", "compared_at": "2024-06-02T00:01:07Z",
          "differences": ["total: Airflow success, KFP failed: ValueError: <b>boom</b>"]}
VIEW = MigrationView(
    state_file="/repo/af2kfp-migration.yaml",
    stages={"docker_sales_etl": "kfp-scheduled", "templated_report_params": "shadow", "k8s_train_recommender": "kfp",
            "retired_dag": "kfp"},  # an entry whose DAG is not in the report is not counted
    shadows={"templated_report_params": SHADOW},
)


def _report() -> dict:
    return json.loads((EXPECTED / "report.json").read_text())


def test_markdown_counts_the_stages_and_lists_the_dags_that_moved():
    text = render(_report(), "markdown", report_dir=EXPECTED, migration=VIEW)
    dags = len({d["dag_id"] for d in _report()["dags"]})
    assert f"Migration stages (`/repo/af2kfp-migration.yaml`): {dags - 3} airflow, 1 shadow, 1 kfp, 1 kfp-scheduled." in text
    assert "| `templated_report_params` | shadow | differs (1 difference(s)) at 2024-06-02T00:01:07Z: total: " in text
    assert "| `docker_sales_etl` | kfp-scheduled | - |" in text and "retired_dag" not in text
    assert "<b>" not in text  # a difference's text is data
    assert "Migration stages" not in render(_report(), "markdown", report_dir=EXPECTED)


def test_html_shows_the_stage_cards_and_each_dag_s_stage():
    text = render(_report(), "html", report_dir=EXPECTED, migration=VIEW)
    assert '<div class="card"><b>1</b>stage shadow</div>' in text
    assert "<th data-sort=\"s\">stage</th>" in text
    assert "Migration stage <b>shadow</b>; last shadow comparison: differs (1 difference(s)) at 2024-06-02T00:01:07Z." in text
    assert "&lt;b&gt;boom&lt;/b&gt;" in text and "<b>boom</b>" not in text
    assert "Migration stage" not in render(_report(), "html", report_dir=EXPECTED)


def test_af2kfp_report_reads_the_state_file(tmp_path, capsys):
    state = tmp_path / "af2kfp-migration.yaml"
    state.write_text("version: 1\ndags:\n  docker_sales_etl: {stage: shadow, shadow: {verdict: same}}\n")
    out = tmp_path / "report.md"
    assert main(["report", str(EXPECTED / "report.json"), "-o", str(out), "--state", str(state)]) == 0
    assert "| `docker_sales_etl` | shadow | same |" in out.read_text()
    assert main(["report", str(EXPECTED / "report.json"), "-o", str(out), "--state", str(tmp_path / "no.yaml")]) == 2
