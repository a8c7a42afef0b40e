"""Values flow between Python tasks exactly as in Airflow: both sides run, task by task.

The samples that pass dict/list XComs with ints and ``None`` inside, ``multiple_outputs``
keys, ``.expand()`` results reduced downstream, a third-party import and the repository's
own helper code (a module next to the DAGs, a package of the repository) run with
Airflow's ``dag.test()`` and, converted, with ``kfp.local`` (:mod:`tests.runs.harness`);
every task must run the same number of times, return the same value (JSON-equal: an int
stays an int) and print the same lines. Airflow's own example DAGs run the same way in
:mod:`tests.runs.test_examples_both_sides`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.runs.harness import run_dags

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]  # both sides, each up to 1200 s

REPO = Path(__file__).resolve().parents[2]
SAMPLES = [REPO / "samples" / "dags" / name for name in ("order_metrics_taskflow.py", "inventory_reorder_classic.py")]
REPO_STYLE = REPO / "samples" / "repo_style"
SAME = ["order_metrics_taskflow", "inventory_reorder_classic", "inventory_supplier_contacts", "supplier_scorecard"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    dags = tmp_path_factory.mktemp("dags")
    for path in [*SAMPLES, REPO_STYLE / "dags" / "supplier_scorecard.py"]:
        shutil.copy(path, dags / path.name)
    (dags / "common").mkdir()
    for name in ("__init__.py", "suppliers.py"):
        shutil.copy(REPO / "samples" / "dags" / "common" / name, dags / "common" / name)
    (dags / "include" / "acme_airflow").mkdir(parents=True)  # the DAGs folder is on sys.path, as the root is
    for name in ("__init__.py", "quality.py", "money.py"):
        shutil.copy(REPO_STYLE / "include" / "acme_airflow" / name, dags / "include" / "acme_airflow" / name)
    (dags / ".airflowignore").write_text("common/\ninclude/\n")
    return run_dags(dags, tmp_path_factory.mktemp("runs"), dag_ids=SAME, timeout=1200)


@pytest.mark.parametrize("dag_id", SAME)
def test_both_sides_run_the_same_tasks_with_the_same_values(runs, dag_id):
    assert runs.differences(dag_id) == []
    assert runs.airflow[dag_id].state == "success"


def test_values_keep_their_json_types(runs):
    summary = runs.kfp["order_metrics_taskflow"].tasks["summarize"][0].value
    assert summary["order_count"] == 8 and isinstance(summary["order_count"], int)
    assert summary["largest"]["coupon"] is None  # None inside a dict inside a list
    audit = runs.kfp["inventory_reorder_classic"].tasks["audit"][0].value
    assert audit == {"packs": 7, "levels": {"sku-1": 16, "sku-2": 43, "sku-3": 0}, "warehouses": 3}


def test_repository_helper_code_travels_with_the_task(runs):
    """A module next to the DAGs and a package of the repository: what the tasks read is copied in (M266)."""
    findings = [(f["dag_id"], f["task_id"], f["code"]) for f in runs.report["findings"]
                if f.get("dag_id") in ("inventory_supplier_contacts", "supplier_scorecard")]
    assert sorted(findings) == [("inventory_supplier_contacts", "supplier_contacts", "M266"),
                                ("supplier_scorecard", "clean", "M266"), ("supplier_scorecard", "scorecard", "M266")]
    fates = {t["task_id"]: t["fate"] for d in runs.report["dags"]
             if d["dag_id"] in ("inventory_supplier_contacts", "supplier_scorecard") for t in d["airflow"]["tasks"]}
    assert set(fates.values()) == {"converted"}
    assert runs.kfp["inventory_supplier_contacts"].tasks["supplier_contacts"][0].value == "orders@acme.example"
    card = runs.kfp["supplier_scorecard"].tasks["scorecard"][0].value
    assert card["acme"] == {"spend_cents": 130449, "late_share": 0.5, "top_sku": "ABC-0001"}
    assert runs.kfp["supplier_scorecard"].tasks["clean"][0].printed == ("kept 4 of 5 rows",)
