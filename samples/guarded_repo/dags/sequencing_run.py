"""Process one sequencing run: check its sample sheet, align, call variants, publish."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param
from airflow.providers.standard.operators.empty import EmptyOperator

from include.labflow.flags import skip_unless, skip_when_empty
from include.labflow.operators import LabPodOperator, SampleSheetOperator

with DAG(
    dag_id="sequencing_run",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "run_id": Param("", type="string"),
        "call_variants": Param("yes", enum=["yes", "no"]),
        "publish": Param("no", enum=["yes", "no"]),
    },
) as dag:
    sheet = SampleSheetOperator(task_id="check_sheet", sheet="{{ params.run_id }}")
    align = LabPodOperator(task_id="align", step="align", skip=skip_when_empty("run_id"))
    variants = LabPodOperator(task_id="call_variants", step="variants", skip=skip_unless("call_variants"))
    qc = LabPodOperator(task_id="qc_report", step="qc", trigger_rule="none_failed")
    publish = LabPodOperator(task_id="publish", step="publish", skip=skip_unless("publish"),
                             skip_envs=["dev", "qa"])
    done = EmptyOperator(task_id="done", trigger_rule="none_failed")

    sheet >> align >> variants >> qc >> publish >> done
