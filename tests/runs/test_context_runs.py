"""Context-reading DAGs run the same on both sides: Airflow's ``dag.test()`` and the converted pipeline.

Per task: whether it ran, its return value (JSON-equal, when Airflow pushed one) and what it
printed; a BashOperator's output is its last line, Airflow's ``return_value``
(:mod:`tests.runs.context_harness`). The run context added by af2kfp is no Airflow task.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from af2kfp.converters.config import Config
from af2kfp.converters.run_context import RUN_CONTEXT_DISPLAY
from tests.runs.context_harness import BothSides, run_both

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(900)]

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dags"
HERE = Path(__file__).resolve().parent / "dags_context"
AIRFLOW_DIR = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])  # not imported
CONTEXT_SAMPLES = ("partner_orders_context.py", "taskflow_context_report.py")


def _dags(tmp_path: Path, *files: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir(parents=True)
    for file in files:
        shutil.copy(file, folder / file.name)
    return folder


def _branches(both: BothSides, dag_id: str) -> set[str]:
    """Branch tasks: KFP reports what they chose as the tasks that ran, not always as a return value."""
    dag = next(d for d in both.report["dags"] if d["dag_id"] == dag_id)
    return {t["task_id"] for t in dag["airflow"]["tasks"] if "branch" in t["label"].lower()}


def _folded(both: BothSides, dag_id: str) -> set[str]:
    dag = next(d for d in both.report["dags"] if d["dag_id"] == dag_id)
    return {t["task_id"] for t in dag["airflow"]["tasks"] if t["fate"] == "folded"}


def assert_same(both: BothSides, dag_id: str, differ: dict[str, str] | None = None) -> None:
    """Every task ran on both sides or on neither, returned the same and printed the same;
    ``differ``: tasks known to print differently, with why."""
    airflow, kfp = both.airflow[dag_id], both.kfp[dag_id]
    assert airflow.state.endswith("success") and kfp.state == "success", (airflow.state, kfp.state)
    added = {RUN_CONTEXT_DISPLAY}
    assert kfp.ran() - added == airflow.ran() - _folded(both, dag_id), dag_id
    for task_id in airflow.ran() - _folded(both, dag_id):
        theirs, ours = airflow.tasks[task_id], kfp.tasks[task_id]
        if "return" in theirs and ours["printed"] and "return" not in ours:  # a container: its last line
            assert ours["printed"][-1] == theirs["return"], task_id
            continue
        if "return" in theirs and not (task_id in _branches(both, dag_id) and "return" not in ours):
            assert ours.get("return") == theirs["return"], task_id
        if task_id not in (differ or {}):
            assert ours["printed"] == theirs["printed"], task_id


@pytest.mark.parametrize("day,conf,followed", [
    ("2024-03-05T00:00:00+00:00", {"limit": 25, "target": "s3://partner-feeds/eu", "owner": "ops"}, "publish_feed"),
    ("2024-03-09T06:00:00+00:00", None, "refresh_report"),
])
def test_context_samples_run_the_same(tmp_path, day, conf, followed):
    both = run_both(_dags(tmp_path, *(SAMPLES / f for f in CONTEXT_SAMPLES)), tmp_path / "out",
                    logical_date=day, conf=conf)
    assert sorted(both.kfp) == ["partner_orders_context", "taskflow_context_report"]
    for dag_id in both.kfp:
        assert_same(both, dag_id)
    assert followed in both.kfp["partner_orders_context"].ran()
    assert both.airflow["taskflow_context_report"].tasks["archive"]["return"].startswith("archiving reports/2024030")


def test_a_recurring_run_needs_no_argument(tmp_path):
    """No logical_date: the scheduled time KFP gives the run (06:00 on 2024-03-05) is the logical
    date, as Airflow 3 dates the run it schedules then."""
    both = run_both(_dags(tmp_path, SAMPLES / "taskflow_context_report.py"), tmp_path / "out",
                    logical_date="2024-03-05T06:00:00+00:00", kfp_arguments={},
                    schedule_time="2024-03-05T06:00:00+00:00")
    assert_same(both, "taskflow_context_report")
    assert "2024-03-05T06:00:00+00:00" in both.kfp["taskflow_context_report"].tasks["build_report"]["printed"][0]


def test_data_intervals_date_the_run_as_airflow_2(tmp_path):
    """create_cron_data_intervals: ds and the logical date agree with Airflow; the data interval
    of a run started with a logical date is the one Airflow's scheduler gives that logical date
    (it starts there), where dag.test() and a manual trigger take the interval ending there."""
    config = Config(create_cron_data_intervals=True)
    both = run_both(_dags(tmp_path, HERE / "interval_dates.py"), tmp_path / "out",
                    logical_date="2024-03-05T00:00:00+00:00", config=config)
    (theirs,) = both.airflow["interval_dates"].tasks["show_dates"]["printed"]
    (ours,) = both.kfp["interval_dates"].tasks["show_dates"]["printed"]
    assert theirs == ("ds=2024-03-05 logical=2024-03-05 00:00:00+00:00 start=2024-03-04 00:00:00+00:00 "
                      "end=2024-03-05 00:00:00+00:00")
    assert ours == ("ds=2024-03-05 logical=2024-03-05 00:00:00+00:00 start=2024-03-05 00:00:00+00:00 "
                    "end=2024-03-06 00:00:00+00:00")
    both = run_both(_dags(tmp_path / "scheduled", HERE / "interval_dates.py"), tmp_path / "scheduled" / "out",
                    logical_date="2024-03-05T00:00:00+00:00", config=config, kfp_arguments={},
                    schedule_time="2024-03-06T00:00:00+00:00")
    (scheduled,) = both.kfp["interval_dates"].tasks["show_dates"]["printed"]
    assert scheduled == ours  # the recurring run at the end of that interval


def test_airflows_own_examples_that_read_the_context(tmp_path):
    """``example_branch_python_dop_operator_3`` runs the same. The others that read the context
    are listed in docs/templating.md with why they do not (yet)."""
    examples = AIRFLOW_DIR / "example_dags"
    both = run_both(_dags(tmp_path, examples / "example_branch_python_dop_operator_3.py"), tmp_path / "out",
                    logical_date="2024-03-05T10:07:00+00:00")
    assert_same(both, "example_branch_dop_operator_v3")
    assert both.airflow["example_branch_dop_operator_v3"].tasks["empty_task_2"]["state"] == "success"


@pytest.mark.parametrize("day", ["2024-03-04T00:00:00+00:00", "2024-03-05T00:00:00+00:00"])  # Monday, Tuesday
def test_branch_arms_in_sub_pipelines_read_the_run_context(tmp_path, day):
    both = run_both(_dags(tmp_path, HERE / "branch_arms_dates.py"), tmp_path / "out", logical_date=day)
    assert_same(both, "branch_arms_dates")
    assert ("weekly" in both.kfp["branch_arms_dates"].ran()) == day.startswith("2024-03-04")
