"""Values flow between Python tasks exactly as in Airflow: both sides run, task by task.

Airflow's own TaskFlow examples and the samples that pass dict/list XComs with ints and
``None`` inside, ``multiple_outputs`` keys, ``.expand()`` results reduced downstream and a
third-party import run with Airflow's ``dag.test()`` and, converted, with ``kfp.local``
(:mod:`tests.runs.harness`); every task must run the same number of times, return the
same value (JSON-equal: an int stays an int) and print the same lines.

Excluded: ``example_xcom_args_with_operators`` (BashOperator tasks are container
components, which kfp.local's SubprocessRunner cannot run).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.runs.harness import run_dags

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_EXAMPLES = Path(importlib.util.find_spec("airflow").submodule_search_locations[0]) / "example_dags"
FILES = [AIRFLOW_EXAMPLES / name for name in
         ("tutorial_taskflow_api.py", "example_dynamic_task_mapping.py", "example_xcomargs.py")]
SAMPLES = [REPO / "samples" / "dags" / name for name in ("order_metrics_taskflow.py", "inventory_reorder_classic.py")]
SAME = ["tutorial_taskflow_api", "example_dynamic_task_mapping", "example_task_mapping_second_order",
        "example_task_group_mapping", "example_xcom_args", "order_metrics_taskflow", "inventory_reorder_classic"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    dags = tmp_path_factory.mktemp("dags")
    for path in FILES + SAMPLES:
        shutil.copy(path, dags / path.name)
    (dags / "common").mkdir()
    for name in ("__init__.py", "suppliers.py"):
        shutil.copy(REPO / "samples" / "dags" / "common" / name, dags / "common" / name)
    (dags / ".airflowignore").write_text("common/\n")
    return run_dags(dags, tmp_path_factory.mktemp("runs"), dag_ids=SAME + ["inventory_supplier_contacts"],
                    timeout=1200)


@pytest.mark.parametrize("dag_id", SAME)
def test_both_sides_run_the_same_tasks_with_the_same_values(runs, dag_id):
    assert runs.differences(dag_id) == []
    assert runs.airflow[dag_id].state == "success"


def test_values_keep_their_json_types(runs):
    summary = runs.kfp["order_metrics_taskflow"].tasks["summarize"][0].value
    assert summary["order_count"] == 8 and isinstance(summary["order_count"], int)
    assert summary["largest"]["coupon"] is None  # None inside a dict inside a list
    assert runs.kfp["example_dynamic_task_mapping"].tasks["add_one"] == runs.airflow[
        "example_dynamic_task_mapping"].tasks["add_one"]
    sums = runs.kfp["example_dynamic_task_mapping"].tasks["sum_it"][0].printed
    assert sums == ("Total was 9",)  # collected ints are ints again (not 9.0)
    audit = runs.kfp["inventory_reorder_classic"].tasks["audit"][0].value
    assert audit == {"packs": 7, "levels": {"sku-1": 16, "sku-2": 43, "sku-3": 0}, "warehouses": 3}


def test_a_repository_import_is_reported_and_fails_as_reported(runs):
    findings = [f for f in runs.report["findings"] if f.get("dag_id") == "inventory_supplier_contacts"]
    assert [f["code"] for f in findings] == ["M261"]
    assert "common.suppliers" in findings[0]["message"]
    fates = {t["task_id"]: t["fate"] for d in runs.report["dags"] if d["dag_id"] == "inventory_supplier_contacts"
             for t in d["airflow"]["tasks"]}
    assert fates == {"supplier_contacts": "review"}
    assert runs.airflow["inventory_supplier_contacts"].state == "success"
    assert runs.kfp["inventory_supplier_contacts"].state == "failed"  # ModuleNotFoundError: common
