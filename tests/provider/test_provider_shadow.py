"""The pieces of a cut-over and a shadow DAG that need no running Airflow: the run's logical
date and params as pipeline parameters, the Task SDK's task states as one row per task, and
what a shadow comparison records."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from af2kfp.airflow_plugins._compat import AirflowException
from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator
from af2kfp.airflow_plugins.operators.shadow import KfpShadowCompareOperator, _airflow_tasks, shadow_result
from af2kfp.bridge.compare import RunRecord, TaskRun, compare_runs

MAPPING = {
    "dag_id": "orders",
    "airflow": {"tasks": [{"task_id": "extract", "kfp_task": "extract", "fate": "converted"},
                          {"task_id": "load_1", "kfp_task": "load-1", "fate": "converted"},
                          {"task_id": "load", "kfp_task": "load", "fate": "converted"}]},
    "kfp": {"pipeline_name": "orders", "tasks": [{"name": "extract"}, {"name": "load-1"}, {"name": "load"}]},
}


def _operator(**kwargs):
    return KfpRunPipelineOperator(task_id="run", pipeline_name="orders", **kwargs)


def test_logical_date_and_params_become_pipeline_parameters():
    when = datetime(2024, 6, 1, tzinfo=timezone.utc)
    context = {"dag_run": SimpleNamespace(logical_date=when, run_after=None, run_id="r"),
               "params": {"region": "eu", "limit": 1000, "channels": ["web"]}}
    operator = _operator(logical_date_parameter="logical_date", params_as_parameters=["limit", "channels"],
                         parameters={"channels": ["store"]})
    assert operator._run_parameters(context) == {
        "logical_date": "2024-06-01T00:00:00+00:00", "limit": 1000, "channels": ["store"],  # given ones win
    }
    queued = SimpleNamespace(logical_date=None, run_after=when, run_id="manual")  # a run with no logical date
    assert _operator(logical_date_parameter="ld")._run_parameters({"dag_run": queued, "params": {}}) == {
        "ld": "2024-06-01T00:00:00+00:00"}
    with pytest.raises(AirflowException, match="DAG param 'missing' is not set"):
        _operator(params_as_parameters=["missing"])._run_parameters({"dag_run": queued, "params": {}})
    assert _operator()._run_parameters({"dag_run": queued}) == {}


def test_task_states_fold_mapped_instances_into_their_task():
    states = {"extract": "success", "load_1": "failed", "load_0": "success", "fan_0": "success", "fan_1": "failed"}
    tasks = {t.name: t for t in _airflow_tasks(states, {"extract", "load_1", "load", "fan"})}
    assert tasks["load_1"].outcome == "failed" and tasks["load_1"].instances == 1  # a task named load_1
    assert tasks["load"].instances == 1 and tasks["load"].outcome == "success"  # load_0: load's instance 0
    assert tasks["fan"].instances == 2 and tasks["fan"].outcome == "failed"


def test_a_shadow_result_names_each_difference():
    airflow = RunRecord(system="airflow", run_id="scheduled__x", state="success", outcome="success",
                        tasks=_airflow_tasks({"extract": "success", "load": "success", "load_1": "success"},
                                             {"extract", "load", "load_1"}))
    kfp = RunRecord(system="kfp", run_id="k1", state="FAILED", outcome="failed", tasks=(
        TaskRun(name="extract", state="SUCCEEDED", outcome="success"),
        TaskRun(name="load", state="FAILED", outcome="failed", error="KeyError: 'amount'"),
        TaskRun(name="load-1", state="SUCCEEDED", outcome="success")))
    result = shadow_result(compare_runs(airflow, kfp, MAPPING))
    assert result["verdict"] == "differs" and result["kfp_run_id"] == "k1"
    assert result["differences"] == ["run: Airflow success, KFP failed", "load: Airflow success, KFP failed: KeyError: 'amount'"]
    assert result["compared_at"].endswith("Z")


def test_on_difference_is_checked():
    with pytest.raises(ValueError, match="on_difference must be one of"):
        KfpShadowCompareOperator(task_id="c", original_dag_id="orders", mapping=MAPPING, on_difference="shrug")
