"""Airflow's own example DAGs run the same on both sides: ``dag.test()`` and, converted, ``kfp.local``.

Which DAGs: every DAG of Airflow's bundled examples (``airflow/example_dags``) and the
standard provider's (``airflow/providers/standard/example_dags``) whose tasks are all
Python, TaskFlow, branch, short-circuit or empty, chosen from the operator of each task in
the conversion's ``report.json`` (so a new example is picked up), minus those that cannot
run here or whose difference the conversion already reports. Per task (:mod:`tests.runs.harness`):
whether and how often it ran, its state, its return value (JSON-equal) and what it printed.
One module-scoped run: the chosen files are converted once and each side runs once.

Excluded, and why (:data:`EXCLUDED`; a test checks each reason still holds):

- do not run offline or unattended: ``example_retry_policy`` and ``tutorial_objectstorage``
  (HTTP APIs, object storage), ``example_kubernetes_executor`` (the Kubernetes executor's
  shared volume ``/shared``), ``example_params_ui_tutorial`` (a required param with no
  default: a person fills the trigger form), ``example_workday_timetable`` (its timetable is
  a plugin this Airflow home does not register);
- ``example_branch_dop_operator_v3`` prints the minute of its run, which differs between two
  runs started at different times: it runs with one logical date on both sides in
  :mod:`tests.runs.test_context_runs`;
- the conversion reports why they cannot run as in Airflow (a warning on the task, the fate
  ``review``): Airflow-only context the shim cannot build (``M210``: asset events and
  aliases, partition keys, asset and task state stores, ``ti.xcom_push`` under own keys,
  ``task.render_template``, the whole context printed) or Airflow imported inside the task
  (``M221``), and mapped outputs read after a branch (``M253``): the asset examples
  (``asset_alias_*``, ``asset_with_extra_*``, ``read_asset_event``, the partitioned-asset DAGs
  of ``example_asset_partition``), ``example_asset_state_store_*``, ``example_task_state_store*``,
  ``tutorial_dag``, ``tutorial_taskflow_templates``, ``example_params_trigger_ui``,
  ``example_local_kubernetes_executor``.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.convert import convert_graphs
from tests.runs.harness import run_dags

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]

AIRFLOW_DIR = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])  # not imported
FOLDERS = [AIRFLOW_DIR / "example_dags", AIRFLOW_DIR / "providers" / "standard" / "example_dags"]
# Task operators that run as Python (or nothing): TaskFlow, PythonOperator, branch, short circuit, empty.
_DECORATORS = ("task", "task.branch", "task.short_circuit", "task.python")
_CLASSES = {"PythonOperator", "BranchPythonOperator", "ShortCircuitOperator", "EmptyOperator", "DummyOperator"}
_OFFLINE = "does not run offline or unattended here"
_REPORTED = "the conversion reports why it cannot run as in Airflow"
EXCLUDED: dict[str, tuple[str, str]] = {  # dag id -> (why, the finding code that says so, or "")
    "example_retry_policy": (_OFFLINE + ": calls an HTTP API, retrying for minutes", ""),
    "tutorial_objectstorage": (_OFFLINE + ": an HTTP API and object storage", ""),
    "example_kubernetes_executor": (_OFFLINE + ": the Kubernetes executor's shared volume /shared", ""),
    "example_params_ui_tutorial": (_OFFLINE + ": a required param with no default (a trigger form)", ""),
    "example_workday_timetable": (_OFFLINE + ": its timetable is a plugin this Airflow home lacks", ""),
    "example_branch_dop_operator_v3": ("prints its run's minute: compared with one logical date in "
                                       "tests/runs/test_context_runs.py", ""),
    "tutorial_dag": (_REPORTED + ": ti.xcom_push under its own keys", "M210"),
    "tutorial_taskflow_templates": (_REPORTED + ": task.render_template", "M210"),
    "example_params_trigger_ui": (_REPORTED + ": mapped outputs read after a branch", "M253"),
    "example_local_kubernetes_executor": (_REPORTED + ": prints the whole context (Airflow's objects)", "M210"),
    "read_asset_event": (_REPORTED + ": inlet_events", "M210"),
    "asset_alias_example_alias_producer": (_REPORTED + ": outlet_events of an alias", "M221"),
    "asset_alias_example_alias_consumer": (_REPORTED + ": inlet_events of an alias", "M210"),
    "asset_alias_example_alias_producer_with_no_taskflow": (_REPORTED + ": outlet_events of an alias", "M221"),
    "asset_alias_example_alias_consumer_with_no_taskflow": (_REPORTED + ": inlet_events of an alias", "M210"),
    "asset_with_extra_by_context": (_REPORTED + ": outlet_events", "M221"),
    "asset_with_extra_by_yield": (_REPORTED + ": Metadata from Airflow", "M221"),
    "example_asset_state_store_producer": (_REPORTED + ": asset_state_store", "M210"),
    "example_asset_state_store_consumer": (_REPORTED + ": asset_state_store", "M210"),
    "example_task_state_store": (_REPORTED + ": task_state_store", "M210"),
    "example_task_state_store_async": (_REPORTED + ": task_state_store", "M210"),
    "example_task_state_store_mapped": (_REPORTED + ": task_state_store", "M210"),
    **{dag_id: (_REPORTED + ": dag_run.partition_key", "M210") for dag_id in (
        "aggregate_regional_sales", "clean_and_combine_player_stats", "daily_inference", "daily_team_a_rollup",
        "ingest_region_stats", "ingest_regional_sales", "monthly_team_a_rollup", "scatter_live_region_to_segments",
        "segment_region_stats_early_rollup", "segment_region_stats_rollup", "summarize_live_region_stats",
        "trailing_week_inference")},
}


def _runs_as_python(operator: str) -> bool:
    parts = operator.split(".")
    if parts[:2] in (["airflow", "sdk"], ["airflow", "decorators"]) and parts[2:3] == ["task"]:
        return ".".join(parts[2:]) in _DECORATORS
    return parts[-1] in _CLASSES


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> dict:
    """The examples' conversion report (both folders), as ``af2kfp convert`` writes it."""
    out = tmp_path_factory.mktemp("examples")
    analysis = analyze_paths([folder for folder in FOLDERS if folder.is_dir()])
    return convert_graphs(analysis.graphs, out, files=analysis.files, file_findings=analysis.findings)


@pytest.fixture(scope="module")
def selectable(examples) -> dict[str, str]:
    """Dag id -> file of every example DAG whose tasks all run as Python (or nothing)."""
    return {d["dag_id"]: d["file"] for d in examples["dags"]
            if d["airflow"]["tasks"] and all(_runs_as_python(t["operator"]) for t in d["airflow"]["tasks"])}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, selectable):
    chosen = sorted(set(selectable) - set(EXCLUDED))
    dags = tmp_path_factory.mktemp("dags")
    for file in {selectable[dag_id] for dag_id in chosen}:
        shutil.copy(file, dags / Path(file).name)
    return run_dags(dags, tmp_path_factory.mktemp("runs"), dag_ids=chosen, timeout=1500)


def test_the_selection_holds_the_python_examples(selectable):
    chosen = set(selectable) - set(EXCLUDED)
    assert {"tutorial_taskflow_api", "example_dynamic_task_mapping", "example_xcom_args", "example_nested_branch_dag",
            "example_short_circuit_operator", "example_branch_labels", "example_setup_teardown_taskflow"} <= chosen
    assert len(chosen) >= 25


def test_each_exclusion_still_holds(examples, selectable):
    """An excluded DAG is still a Python example, and the finding its reason names is still reported."""
    assert set(EXCLUDED) <= set(selectable), "an excluded DAG is gone or no longer all Python: update EXCLUDED"
    for dag_id, (why, code) in EXCLUDED.items():
        if code:
            found = {f["code"] for f in examples["findings"] if f.get("dag_id") == dag_id and f["severity"] != "info"}
            assert code in found, (dag_id, why, found)


def test_every_chosen_example_runs_the_same_on_both_sides(runs, selectable):
    chosen = sorted(set(selectable) - set(EXCLUDED))
    assert sorted(runs.folders) == chosen  # every one compiled
    differences = {dag_id: runs.differences(dag_id) for dag_id in chosen}
    assert {dag_id: found for dag_id, found in differences.items() if found} == {}
    assert {dag_id for dag_id in chosen if runs.airflow[dag_id].state != "success"} == {"example_failed_dag"}


def test_values_keep_their_types(runs):
    mapped = "example_dynamic_task_mapping"
    assert runs.kfp[mapped].tasks["add_one"] == runs.airflow[mapped].tasks["add_one"]
    assert runs.kfp[mapped].tasks["sum_it"][0].printed == ("Total was 9",)  # collected ints are ints (not 9.0)
    summary = runs.kfp["tutorial_taskflow_api"].tasks["transform"][0].value
    assert summary == {"total_order_value": 1236.7}
