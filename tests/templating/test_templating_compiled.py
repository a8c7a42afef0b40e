"""End to end: templates and params of a sample DAG become parameters of the compiled pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from af2kfp.converters.convert import convert_paths
from af2kfp.converters.graph import DagInfo, add_task, new_graph
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.values import Call

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dags"


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("templating-out")
    report = convert_paths([SAMPLES / "templated_report_params.py", SAMPLES / "scheduled_variants.py"], out)
    return out, report


def _spec(out: Path, dag: dict) -> dict:
    return next(yaml.safe_load_all((out / dag["kfp"]["yaml"]).read_text()))


def _dag(report: dict, dag_id: str) -> dict:
    return next(d for d in report["dags"] if d["dag_id"] == dag_id)


def test_compiled_pipeline_has_typed_parameters_with_defaults(converted):
    out, report = converted
    dag = _dag(report, "templated_report_params")
    assert dag["kfp"]["compiled"]
    inputs = _spec(out, dag)["root"]["inputDefinitions"]["parameters"]
    types = {name: body["parameterType"] for name, body in inputs.items()}
    assert types == {"limit": "NUMBER_INTEGER", "threshold": "NUMBER_DOUBLE", "dry_run": "BOOLEAN",
                     "region": "STRING", "channels": "LIST", "report_bucket": "STRING", "logical_date": "STRING"}
    assert inputs["limit"]["defaultValue"] == 1000 and inputs["report_bucket"]["defaultValue"] == "finance-reports"
    assert inputs["logical_date"]["defaultValue"] == ""  # the dates need no argument: the run's own time
    run = {p["name"]: p for p in dag["kfp"]["parameters"]}
    assert run["logical_date"] == {"name": "logical_date", "kind": "run", "type": "str", "airflow": "{{ ts }}",
                                   "default": ""}
    assert run["report_bucket"]["kind"] == "variable" and run["limit"]["default"] == 1000


def test_templates_reach_the_tasks_and_secrets_stay_references(converted):
    out, report = converted
    dag = _dag(report, "templated_report_params")
    code = (out / dag["kfp"]["python"]).read_text()
    assert """template_1=f'--date={run_context_task.outputs["ds_nodash"]}'""" in code
    assert "{dsl.PIPELINE_JOB_ID_PLACEHOLDER}" in code and "{collect_orders_task.output}" in code
    assert "${{AF2KFP_CONN_SLACK_PASSWORD}}" in code and "conn." not in code
    text = (out / dag["kfp"]["yaml"]).read_text()
    assert "{{$.pipeline_job_uuid}}" in text and "secretName: airflow-conn-slack" in text
    tasks = _spec(out, dag)["root"]["dag"]["tasks"]
    assert tasks["summarize"]["dependentTasks"] == ["collect-orders", "run-context"]  # xcom_pull and ds: data edges
    codes = [(f["code"], f["task_id"]) for f in report["findings"] if f["dag_id"] == "templated_report_params"]
    assert ("M240", "summarize") in codes and not any(c == "M204" for c, _ in codes)


def test_schedule_json_written_and_named_in_the_report(converted):
    out, report = converted
    specs = {d["dag_id"]: json.loads((out / d["kfp"]["schedule"]).read_text()) for d in report["dags"]}
    assert specs["templated_report_params"]["recurring_run"] | {"description": None} == {
        "job_name": "templated_report_params", "description": None, "start_time": "2024-03-01T00:00:00Z",
        "end_time": "2026-12-31T00:00:00Z", "cron_expression": "0 0 0 * * *", "interval_second": None,
        "max_concurrency": 2, "no_catchup": False, "enabled": True}
    assert specs["schedule_weekday_cron"]["recurring_run"]["cron_expression"] == "0 30 6 * * 1-5"
    assert specs["schedule_every_six_hours"]["recurring_run"]["interval_second"] == 21600
    assert specs["schedule_paris_timetable"]["recurring_run"]["cron_expression"] == "0 0 7 * * *"
    assert specs["schedule_on_asset"]["recurring_run"] is None and specs["schedule_once"]["recurring_run"] is None
    codes = {(f["code"], f["dag_id"]) for f in report["findings"]}
    assert {("S401", "schedule_on_asset"), ("S405", "schedule_paris_timetable")} <= codes
    assert ("S405", "templated_report_params") not in codes  # no run parameter is fixed any more: dates follow
    assert any("logical date is the run's scheduled time" in n for n in specs["templated_report_params"]["notes"])


def test_param_named_like_a_task_does_not_shadow_its_component():
    graph = new_graph(DagInfo(dag_id="d", file="d.py", line=1,
                              params={"report": Call(func="airflow.sdk.Param", args=(3,), kwargs={"type": "integer"})}))
    add_task(graph, example_task("airflow.operators.bash.BashOperator", "report", bash_command="echo {{ params.report }}"))
    emitted = render_pipeline(map_graph(graph))
    assert "def d(report: int = 3):" in emitted.code and "def report_2(template_1: str):" in emitted.code
    result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="d", file="d.py")
    assert result.findings == [] and result.yaml is not None
