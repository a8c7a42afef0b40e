"""Every sample DAG loads in real Airflow exactly as intended.

The expected DagBag result (DAG ids, task ids, edges, import errors) is pinned in
``expected_dagbag.json`` next to this file; set ``AF2KFP_REGENERATE=1`` to rewrite it
after a deliberate change to the samples. The analyzer's tests can read that file as
the Airflow ground truth for the samples.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.samples.dagbag_probe import run_probe

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dags"
EXPECTED = Path(__file__).with_name("expected_dagbag.json")

EXPECTED_IMPORT_ERRORS = {
    "broken_python2_syntax.py": "SyntaxError: Missing parentheses in call to 'print'",
    "legacy_reporting_110.py": "ModuleNotFoundError: No module named 'airflow.contrib'",
    # SubDagOperator is gone in Airflow 3; tests/analysis/test_subdag_flattening.py loads it with Airflow 2.10.
    "subdag_sections.py": "ModuleNotFoundError: No module named 'airflow.operators.subdag'",
}
EXPECTED_DAG_FILES = {
    "airflow2_taskflow_containers": "airflow2_taskflow_containers.py",
    "customer_sync_acme": "customer_dag_factory.py",
    "customer_sync_globex": "customer_dag_factory.py",
    "customer_sync_initech": "customer_dag_factory.py",
    "default_args_taskgroups": "default_args_taskgroups.py",
    "dependency_styles": "dependency_styles.py",
    "docker_sales_etl": "docker_sales_etl.py",
    "events_daily_compaction": "two_dags_ingest_compact.py",
    "events_hourly_ingest": "two_dags_ingest_compact.py",
    "exports_via_factory": "exports_via_factory.py",
    "inline_operator_blocked": "inline_operator_blocked.py",
    "inventory_reorder_classic": "inventory_reorder_classic.py",
    "inventory_supplier_contacts": "inventory_reorder_classic.py",
    "nightly_partition_backfill": "nightly_partition_backfill.py",
    "regional_refresh_control_flow": "regional_refresh_control_flow.py",
    "k8s_train_recommender": "k8s_train_recommender.py",
    "ledger_checks_fallback": "ledger_checks_fallback.py",
    "model_promotion_branch": "model_promotion_branch.py",
    "order_metrics_taskflow": "order_metrics_taskflow.py",
    "partner_feed_sensor": "partner_feed_sensor.py",
    "partner_orders_context": "partner_orders_context.py",
    "schedule_every_six_hours": "scheduled_variants.py",
    "schedule_on_asset": "scheduled_variants.py",
    "schedule_once": "scheduled_variants.py",
    "schedule_paris_timetable": "scheduled_variants.py",
    "schedule_weekday_cron": "scheduled_variants.py",
    "sql_unsupported_operator": "sql_unsupported_operator.py",
    "taskflow_context_report": "taskflow_context_report.py",
    "taskflow_feature_pipeline": "taskflow_feature_pipeline.py",
    "store_sales_skip_checks": "store_sales_skip_checks.py",
    "team_operator_scoring": "team_operator_scoring.py",
    "templated_report_params": "templated_report_params.py",
    "warehouse_table_loads": "warehouse_table_loads.py",
}


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One DagBag load of ``samples/dags`` shared by the tests of this module."""
    return run_probe(SAMPLES, tmp_path_factory.mktemp("airflow-home"))


def test_exactly_the_expected_import_errors(bag: dict) -> None:
    assert set(bag["import_errors"]) == set(EXPECTED_IMPORT_ERRORS)
    for file, start in EXPECTED_IMPORT_ERRORS.items():
        assert bag["import_errors"][file].startswith(start), bag["import_errors"][file]


def test_exactly_the_expected_dags_from_the_expected_files(bag: dict) -> None:
    assert {dag_id: dag["file"] for dag_id, dag in bag["dags"].items()} == EXPECTED_DAG_FILES


def test_every_dag_file_but_the_broken_ones_defines_a_dag(bag: dict) -> None:
    files = {p.name for p in SAMPLES.glob("*.py")}
    assert files == set(EXPECTED_DAG_FILES.values()) | set(EXPECTED_IMPORT_ERRORS)


def test_ids_built_by_loops_groups_factories_and_taskflow(bag: dict) -> None:
    dags = bag["dags"]
    assert "score.europe.score" in dags["default_args_taskgroups"]["tasks"]
    assert "push_scores_to_crm" in dags["default_args_taskgroups"]["tasks"]  # prefix_group_id=False
    assert {"clean_events", "clean_events__1", "clean_events__2", "publish_offline"} <= set(
        dags["taskflow_feature_pipeline"]["tasks"]
    )
    assert "load_order_items" in dags["warehouse_table_loads"]["tasks"]
    assert "check_inventory_not_empty" not in dags["warehouse_table_loads"]["tasks"]
    assert "export_clickstream" in dags["exports_via_factory"]["tasks"]
    assert ["begin", "fetch_a"] in dags["dependency_styles"]["edges"]  # [a, b] << begin
    assert ["parse_b", "merge_x"] in dags["dependency_styles"]["edges"]  # cross_downstream
    assert ["find_latest_snapshot", "attribute"] in dags["airflow2_taskflow_containers"]["edges"]  # .output
    assert "quality.row_count_ok" in dags["airflow2_taskflow_containers"]["tasks"]  # @task_group


def test_full_dagbag_result_matches_the_pinned_truth(bag: dict) -> None:
    if os.environ.get("AF2KFP_REGENERATE") == "1":
        EXPECTED.write_text(json.dumps(bag, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert bag == json.loads(EXPECTED.read_text(encoding="utf-8"))
