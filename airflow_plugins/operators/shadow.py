"""The last task of a shadow DAG (``af2kfp cutover``, stage ``shadow``): the original DAG's
run and the KFP run of the same logical date, compared task by task.

The Airflow side is read through the Task SDK (the task states of the original DAG's run
at this run's logical date; no API credentials needed), the KFP side through the
connection, and the two are matched by :func:`af2kfp.bridge.compare.compare_runs` with the
mapping ``af2kfp convert`` recorded in report.json, as ``af2kfp compare`` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

from af2kfp.airflow_plugins._compat import AirflowException, BaseOperator
from af2kfp.airflow_plugins.hooks.kfp import KfpHook
from af2kfp.airflow_plugins.links.kfp import XCOM_RUN_ID
from af2kfp.bridge.compare import Comparison, RunRecord, TaskRun, compare_runs, kfp_run_record, to_markdown
from af2kfp.bridge.compare.airflow_api import airflow_outcome
from af2kfp.bridge.compare.model import fold_instances
from af2kfp.bridge.kfp import KfpError
from af2kfp.bridge.migration.cutover import SHADOW_XCOM

__all__ = ["ON_DIFFERENCE", "XCOM_SHADOW", "KfpShadowCompareOperator", "shadow_result"]

ON_DIFFERENCE = ("fail", "warn")
XCOM_SHADOW = SHADOW_XCOM
"""XCom key of :func:`shadow_result` (also the return value); ``af2kfp cutover`` reads it."""
_MAPPED = re.compile(r"^(?P<task>.+)_(?P<index>\d+)$")


def shadow_result(comparison: Comparison) -> dict[str, Any]:
    """What the task returns (XCom) and ``af2kfp cutover`` records in the state file."""
    differences = [
        f"{row.airflow_task_id or row.kfp_task}: {row.note}" for row in comparison.rows if row.verdict == "differs"
    ]
    if comparison.airflow.outcome != comparison.kfp.outcome:
        differences.insert(0, f"run: Airflow {comparison.airflow.outcome}, KFP {comparison.kfp.outcome}")
    return {
        "verdict": comparison.verdict,
        "compared_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "airflow_run_id": comparison.airflow.run_id,
        "kfp_run_id": comparison.kfp.run_id,
        "counts": comparison.counts(),
        "differences": differences,
    }


def _airflow_tasks(states: Mapping[str, Any], known: set[str]) -> tuple[TaskRun, ...]:
    """Task states keyed as the Task SDK gives them (a mapped instance as ``task_<index>``),
    one row per task."""
    grouped: dict[str, list[TaskRun]] = {}
    for key, state in states.items():
        match = _MAPPED.match(key)
        name = match["task"] if key not in known and match and match["task"] in known else key
        state = getattr(state, "value", state)  # an enum's value is the state's name
        grouped.setdefault(name, []).append(
            TaskRun(name=name, state=str(state or "none"), outcome=airflow_outcome(state))
        )
    return tuple(fold_instances(name, runs) for name, runs in grouped.items())


class KfpShadowCompareOperator(BaseOperator):
    """Compare the run of ``original_dag_id`` at this DAG run's logical date with the KFP run
    the task ``kfp_task_id`` started.

    :param original_dag_id: the Airflow DAG the shadow DAG follows.
    :param mapping: its ``dags[]`` entry of report.json, or the part of it the match reads
        (``dag_id``, ``airflow.tasks``, ``kfp.pipeline_name``, ``kfp.tasks``).
    :param kfp_task_id: the task of this DAG that ran the KFP pipeline (its run id in XCom).
    :param on_difference: ``fail`` the task when the runs differ, or ``warn`` and succeed.
    :returns: :func:`shadow_result` of the comparison; the Markdown table is in the log.
    """

    ui_color = "#c2e0ff"

    def __init__(
        self,
        *,
        original_dag_id: str,
        mapping: Mapping[str, Any],
        kfp_task_id: str = "run_kfp_pipeline",
        on_difference: str = "fail",
        kfp_conn_id: str = KfpHook.default_conn_name,
        namespace: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_difference not in ON_DIFFERENCE:
            raise ValueError(f"{self.task_id}: on_difference must be one of {ON_DIFFERENCE}, got {on_difference!r}")
        self.original_dag_id = original_dag_id
        self.mapping = dict(mapping)
        self.kfp_task_id = kfp_task_id
        self.on_difference = on_difference
        self.kfp_conn_id = kfp_conn_id
        self.namespace = namespace

    @cached_property
    def hook(self) -> KfpHook:
        return KfpHook(self.kfp_conn_id, namespace=self.namespace)

    def _airflow_run(self, context: Any) -> RunRecord:
        ti = context["ti"]
        logical_date = context["dag_run"].logical_date
        if logical_date is None:
            raise AirflowException(
                f"{self.task_id}: this run has no logical date; a shadow run compares with the run of "
                f"{self.original_dag_id} at its own logical date"
            )
        if not hasattr(ti, "get_task_states"):
            raise AirflowException(f"{self.task_id}: the shadow comparison needs Airflow 3's Task SDK")
        runs = ti.get_task_states(dag_id=self.original_dag_id, logical_dates=[logical_date])
        if not runs:
            raise AirflowException(
                f"{self.task_id}: no run of {self.original_dag_id} at logical date {logical_date.isoformat()}"
            )
        run_id, states = next(iter(runs.items()))
        state = ti.get_dagrun_state(dag_id=self.original_dag_id, run_id=run_id)
        state = getattr(state, "value", state)  # a DagRunState enum: its value is the state's name
        known = {str(t.get("task_id")) for t in (self.mapping.get("airflow") or {}).get("tasks") or ()}
        return RunRecord(
            system="airflow", run_id=run_id, state=str(state), outcome=airflow_outcome(state),
            tasks=_airflow_tasks(states, known),
        )

    def _kfp_run(self, context: Any) -> RunRecord:
        run_id = context["ti"].xcom_pull(task_ids=self.kfp_task_id, key=XCOM_RUN_ID)
        if not run_id:
            raise AirflowException(f"{self.task_id}: task {self.kfp_task_id} started no KFP run (no {XCOM_RUN_ID} in XCom)")
        try:
            run = self.hook.client.get_run(run_id)
        except KfpError as err:
            raise AirflowException(f"{self.task_id}: reading KFP run {run_id} failed: {err}") from None
        return kfp_run_record(run, url=self.hook.run_url(run_id))

    def execute(self, context: Any) -> dict[str, Any]:
        comparison = compare_runs(self._airflow_run(context), self._kfp_run(context), self.mapping)
        self.log.info("shadow comparison of %s:\n%s", self.original_dag_id, to_markdown(comparison))
        result = shadow_result(comparison)
        context["ti"].xcom_push(key=XCOM_SHADOW, value=result)  # kept when the task fails below
        if comparison.verdict == "differs":
            message = f"{self.original_dag_id}: the KFP run differs from the Airflow run: " + "; ".join(
                result["differences"]
            )
            if self.on_difference == "fail":
                raise AirflowException(message)
            self.log.warning("%s", message)
        elif comparison.verdict == "incomplete":
            self.log.warning("%s: some tasks are on one side only (see the table)", self.original_dag_id)
        return result
