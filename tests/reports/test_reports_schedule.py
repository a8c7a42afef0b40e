"""The checklist's schedule item says what `af2kfp convert` produced for the DAG's schedule."""

from __future__ import annotations

import ast
import html
import inspect
import json
import re

import kfp
import pytest

from af2kfp.converters.reports.markdown import render_markdown
from af2kfp.converters.reports.model import checklist, dag_views, finding_codes, schedule_item
from af2kfp.converters.reports.sources import Sources
from tests.reports import crafted as c

DAILY = {
    "dag_id": "d", "airflow_schedule": "@daily",
    "recurring_run": {"job_name": "d", "description": "Converted from the schedule of Airflow DAG d",
                      "start_time": "2024-01-01T00:00:00Z", "end_time": "2025-01-01T00:00:00Z",
                      "cron_expression": "0 0 0 * * *", "interval_second": None, "max_concurrency": 3,
                      "no_catchup": False, "enabled": True},
    "notes": ["Airflow '@daily' -> KFP cron '0 0 0 * * *' (seconds field first)",
              "max_active_runs 16 capped to KFP's maximum max_concurrency 10"],
}


def _view(schedule=None, findings=(), path="d/schedule.json"):
    dag = c.dag("d", [c.task("t")], [], schedule=schedule)
    dag["kfp"].update(schedule=path, yaml="d/pipeline.yaml")
    return dag_views(c.report([dag], list(findings)))[0]


def _call_keywords(code: str) -> dict[str, object]:
    call = ast.parse(code.replace("experiment_id=...", "experiment_id='e'")).body[0].value
    assert ast.unparse(call.func) == "kfp.Client().create_recurring_run"
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def test_recurring_run_states_the_spec_and_the_exact_call():
    item = schedule_item(_view("@daily"), DAILY)
    assert item.kind == "schedule"
    for words in ("d/schedule.json", "Airflow '@daily' -> cron '0 0 0 * * *'", "from 2024-01-01T00:00:00Z",
                  "until 2025-01-01T00:00:00Z", "max_concurrency 3", "no_catchup=False", "catchup=True",
                  "max_active_runs 16 capped"):
        assert words in item.text, words
    keywords = _call_keywords(item.code)
    assert keywords == {"experiment_id": "e", "pipeline_package_path": "d/pipeline.yaml", **DAILY["recurring_run"]}
    accepted = inspect.signature(kfp.Client.create_recurring_run).parameters
    assert set(keywords) <= set(accepted), set(keywords) - set(accepted)


def test_interval_without_end():
    spec = json.loads(json.dumps(DAILY))
    spec["airflow_schedule"] = {"timedelta_seconds": 21600.0}
    spec["recurring_run"].update(cron_expression=None, interval_second=21600, end_time=None, no_catchup=True)
    item = schedule_item(_view(), spec)
    assert "Airflow timedelta(seconds=21600) -> every 21600s" in item.text
    assert "no end" in item.text and "no_catchup=True (Airflow catchup=False)" in item.text
    assert _call_keywords(item.code)["interval_second"] == 21600


@pytest.mark.parametrize(("code", "message"), [("S401", "the DAG runs when assets/datasets are updated"),
                                               ("S402", "timetable MyTimetable has no KFP recurring run equivalent")])
def test_schedule_not_converted_names_the_finding(code, message):
    finding = c.finding(code, "warning", message=message, suggestion="create the schedule by hand")
    spec = {"dag_id": "d", "airflow_schedule": "MyTimetable(...)", "recurring_run": None, "notes": []}
    view = _view(findings=[finding])
    item = schedule_item(view, spec)
    assert item.text.startswith("No recurring run was produced") and code in item.text and message in item.text
    assert "create the schedule by hand" in item.text and item.code == ""
    behaviour = [i.text for i in checklist(view, finding_codes(), spec) if i.kind == "behaviour"]
    assert not any(code in text for text in behaviour)  # said once, in the schedule item


def test_no_schedule_and_once():
    none = {"dag_id": "d", "airflow_schedule": None, "recurring_run": None,
            "notes": ["schedule=None: the DAG runs only when triggered; no recurring run"]}
    assert schedule_item(_view(), none).text.startswith("No schedule (schedule=None)")
    once = {"dag_id": "d", "airflow_schedule": "@once", "recurring_run": None,
            "notes": ["@once: the DAG runs a single time; create one run instead of a recurring run"]}
    assert "create one run instead of a recurring run" in schedule_item(_view("@once"), once).text


def test_without_schedule_json_the_airflow_schedule_is_named():
    assert "cannot be read beside this report" in schedule_item(_view("0 6 * * *"), None).text
    item = schedule_item(_view("0 6 * * *", path=None), None)
    assert "'0 6 * * *'" in item.text and "no schedule.json was written" in item.text
    assert schedule_item(_view(None, path=None), None).text.startswith("No schedule")


def _schedule_items(page: str) -> dict[str, str]:
    """dag_id -> the text of its schedule item in the HTML report."""
    out = {}
    for section in re.findall(r'<details class="dag".*?</details>', page, re.S):
        dag_id = html.unescape(re.search(r"<summary>.*?<code>(.*?)</code>", section, re.S).group(1))
        item = re.search(r'<li data-kind="schedule">(.*?)</li>', section, re.S)
        out[dag_id] = html.unescape(re.sub(r"<[^>]+>", " ", item.group(1))) if item else ""
    return out


def test_samples_html_and_markdown_state_each_schedule(samples):
    out, report = samples
    items = _schedule_items((out / "report.html").read_text())
    assert set(items) == {d["dag_id"] for d in report["dags"]}
    assert "No schedule (schedule=None)" in items["dependency_styles"]
    asset = items["schedule_on_asset"]
    assert asset.strip().startswith("No recurring run was produced: S401") and "create_recurring_run" not in asset
    interval = items["schedule_every_six_hours"]
    assert "schedule_every_six_hours/schedule.json" in interval and "every 21600s" in interval
    assert "until 2025-06-01T00:00:00Z" in interval
    assert "interval_second=21600" in interval and "pipeline_package_path='schedule_every_six_hours/pipeline.yaml'" in interval
    assert "no_catchup=False" in items["templated_report_params"]
    assert "create one run instead of a recurring run" in items["schedule_once"]
    assert "S405" in items["schedule_paris_timetable"] and "Europe/Paris" in items["schedule_paris_timetable"]
    markdown = (out / "report.md").read_text()
    counts = next(line for line in markdown.splitlines() if line.startswith("Schedules"))
    assert re.search(r"\b\d+ with a recurring run to create\b", counts) and "1 not converted (`schedule_on_asset`)" in counts
    assert "1 with nothing recurring (`schedule_once`)" in counts and re.search(r"\b2 without schedule\b", counts)
    section = markdown[markdown.index("### `schedule_on_asset`"):]
    assert section.split("\n### ")[0].rstrip().endswith(
        "- schedule: No recurring run was produced: S401 the DAG runs when assets/datasets are updated; KFP has no such "
        "trigger. KFP starts runs on time only; trigger the pipeline from the producer (e.g. KfpRunPipelineOperator).")


def test_markdown_without_schedule_files_counts_schedules_to_recreate(samples):
    out, report = samples
    bare = next(line for line in render_markdown(report).splitlines() if line.startswith("Schedules"))
    with_files = next(line for line in render_markdown(report, sources=Sources(out)).splitlines()
                      if line.startswith("Schedules"))
    assert "to recreate by hand" in bare and "recurring run to create" not in bare
    assert "to recreate by hand" not in with_files and "recurring run to create" in with_files
