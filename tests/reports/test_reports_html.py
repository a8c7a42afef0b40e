"""The HTML report as a file: self-contained, escaped, one section per DAG with both graphs."""

from __future__ import annotations

import json
import re

from af2kfp.converters.reports import HTML_NAME, MARKDOWN_NAME, write_reports
from af2kfp.converters.reports.html import script_json
from tests.reports import crafted as c


def test_write_reports_writes_html_and_markdown_next_to_report_json(samples):
    out, report = samples
    paths = write_reports(report, out)
    assert [p.name for p in paths] == [HTML_NAME, MARKDOWN_NAME]
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)


def test_html_is_self_contained(samples):
    html = (samples[0] / HTML_NAME).read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "no network resource"
    assert "<link" not in html and "@import" not in html
    assert set(re.findall(r"url\(([^)]*)\)", html)) == {"#arrow"}
    assert "@media print" in html


def test_every_dag_has_both_graphs_tasks_and_code(samples):
    out, report = samples
    html = (out / HTML_NAME).read_text()
    sections = re.findall(r'<details class="dag" id="(dag-\d+)".*?</details>', html, re.S)
    assert len(sections) == len(report["dags"])
    for i, dag in enumerate(report["dags"], 1):
        section = re.search(rf'<details class="dag" id="dag-{i}".*?</details>', html, re.S).group(0)
        assert len(re.findall(r'<svg class="graph airflow[ "]', section)) == 1
        assert len(re.findall(r'<svg class="graph kfp[ "]', section)) == 1
        airflow_svg = re.search(r'<svg class="graph airflow[ "].*?</svg>', section, re.S).group(0)
        kfp_svg = re.search(r'<svg class="graph kfp[ "].*?</svg>', section, re.S).group(0)
        assert airflow_svg.count('class="node ') == len(dag["airflow"]["tasks"]), dag["dag_id"]
        drawn = [t for t in dag["kfp"]["tasks"] if not t.get("added_by")]  # each at its Airflow task's place
        assert kfp_svg.count('class="node ') == len(drawn), dag["dag_id"]
        added = [t for t in dag["kfp"]["tasks"] if t.get("added_by")]
        assert section.count("<h3>Added by the conversion</h3>") == bool(added)
        for t in added:  # listed apart, with the tasks that read it
            assert f'<li><code>{t["name"]}</code> (run context (added by af2kfp)): no Airflow task' in section
        assert section.count('<div class="task"') == len(dag["airflow"]["tasks"])
    wanted = next(d for d in report["dags"] if d["dag_id"] == "docker_sales_etl")
    first = wanted["kfp"]["tasks"][0]
    line = first["lines"]["task"][0]
    pipeline = (out / wanted["kfp"]["python"]).read_text().splitlines()
    assert json.dumps(pipeline[line - 1])[1:-1].split("#")[0] is not None
    assert "# Airflow: " in pipeline[line - 1] and "DockerOperator(" in html
    assert "Before production" in html and "Create the Kubernetes Secret &#x27;docker-sales-etl-load-warehouse-env&#x27;" in html


def test_task_ids_and_strings_from_dags_are_escaped(hostile):
    out, report = hostile
    html = (out / HTML_NAME).read_text()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 2  # the report's data and its own code, nothing else
    assert "<script>window" not in html and "</script><script>window" not in html
    assert "<b onmouseover" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    data = re.search(r'<script type="application/json" id="af2kfp-data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(data)["dags"][0]["dag_id"] == report["dags"][0]["dag_id"]


def test_script_json_escapes_what_could_end_a_script():
    text = script_json({"k": "</script><!-- & \u2028\u2029 >"})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"k": "</script><!-- & \u2028\u2029 >"}


def test_finding_messages_are_escaped_and_missing_sources_reported(tmp_path):
    dag = c.dag("d", [c.task("a")], [], file="gone/dag.py")
    evil = c.finding("M202", "warning", dag_id="d", task_id="a", file="gone/dag.py", message="<img src=x onerror=alert(1)>",
                     suggestion="<script>alert(2)</script>")
    write_reports(c.report([dag], [evil]), tmp_path)
    html = (tmp_path / HTML_NAME).read_text()
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "Airflow source not available" in html


def test_branch_operator_drawn_as_branch_on_both_sides(samples):
    out, report = samples
    html = (out / HTML_NAME).read_text()
    index = next(i for i, d in enumerate(report["dags"], 1) if d["dag_id"] == "model_promotion_branch")
    section = re.search(rf'<details class="dag" id="dag-{index}".*?</details>', html, re.S).group(0)
    airflow_svg, kfp_svg = re.findall(r'<svg class="graph .*?</svg>', section, re.S)
    assert airflow_svg.count('class="diamond"') == 1 and kfp_svg.count('class="diamond"') == 1
    assert 'class="edge branch-edge"' in airflow_svg


def test_secret_values_in_dag_source_are_not_copied_into_the_report(hostile):
    out, _ = hostile
    html = (out / HTML_NAME).read_text()
    assert "pw-in-plain-sight-1" not in html  # a private_environment value
    airflow_panes = re.findall(r'<div class="sbs"><div>(.*?)</div><div>', html, re.S)
    assert any("DockerOperator(" in pane for pane in airflow_panes)  # the rest of the source is shown
    assert not any("pw-in-plain-sight" in pane for pane in airflow_panes)  # nor a password-like name's literal
    assert '"WAREHOUSE_SECRET": "&lt;redacted by af2kfp&gt;"' in html
    assert '"LOADER_API_KEY": "&lt;redacted by af2kfp&gt;"' in html
