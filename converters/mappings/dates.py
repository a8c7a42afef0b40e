"""The run's dates for a whole mapped DAG: one run context, and the parameter that overrides it.

Each task records the run context outputs it reads (``KfpTask.run_context``: its templates,
its Python callable's context shim); this joins them into one :class:`RunContextPlan`, timed
by the DAG's schedule (:func:`af2kfp.converters.run_context.timing`), and adds the optional
pipeline parameter ``logical_date`` (empty: the run's own time).
"""

from __future__ import annotations

from af2kfp.converters.config import Config
from af2kfp.converters.findings import CODES, Finding, Severity, register_code
from af2kfp.converters.graph import DagInfo
from af2kfp.converters.mappings.model import KfpTask
from af2kfp.converters.run_context import RunContextPlan, timing
from af2kfp.converters.templating import PipelineParameter, python_name

__all__ = ["run_context_plan", "airflow2_dates", "AIRFLOW2_DATES"]

AIRFLOW2_DATES = register_code(
    "M272", Severity.INFO, "Airflow 2 date dated the Airflow 3 way",
    "The DAG reads a date only Airflow 2 has; its runs are dated as Airflow 3 dates them (the logical date is the "
    "run's time). If it ran on Airflow 2 with data intervals, set [tool.af2kfp] create_cron_data_intervals = true "
    "(af2kfp convert --data-intervals): the logical date is then one period earlier (docs/templating.md).",
).code
_AIRFLOW2 = frozenset({"execution_date", "prev_execution_date", "next_execution_date", "prev_ds", "next_ds",
                       "prev_ds_nodash", "next_ds_nodash", "yesterday_ds", "yesterday_ds_nodash", "tomorrow_ds",
                       "tomorrow_ds_nodash"})


def run_context_plan(info: DagInfo, config: Config, tasks: list[KfpTask], taken: set[str]
                     ) -> tuple[RunContextPlan, PipelineParameter] | None:
    """The plan and its override parameter, or ``None`` when no task reads a date.

    ``taken``: the pipeline's other parameter names (a DAG param may be called ``logical_date``).
    """
    outputs: dict[str, str] = {}
    for kfp in tasks:
        outputs.update(kfp.run_context)
    if not outputs:
        return None
    name = python_name("logical_date")
    while name in taken:
        name += "_"
    plan = RunContextPlan(timing=timing(info, config), outputs=dict(sorted(outputs.items())), parameter=name,
                          base_image=config.python_base_image)
    parameter = PipelineParameter(
        name=name, kind="run", type="str", default="", airflow="{{ ts }}",
        description="Airflow's logical date for this run (ISO 8601); empty: the recurring run's scheduled time, "
                    "else the run's creation time")
    return plan, parameter


def airflow2_dates(info: DagInfo, plan: RunContextPlan) -> list[Finding]:
    """An ``info`` finding when Airflow 2 dates are read but runs are dated the Airflow 3 way."""
    read = sorted(plan.closure() & _AIRFLOW2)
    if not read or plan.timing.semantics != "trigger" or not (plan.timing.cron or plan.timing.delta):
        return []
    entry = CODES[AIRFLOW2_DATES]
    return [Finding(code=entry.code, severity=entry.severity, suggestion=entry.help, file=info.file, line=info.line,
                    dag_id=info.dag_id, message=f"reads {', '.join(read)} (Airflow 2) and its runs are dated as "
                                                "Airflow 3's trigger timetables date them")]
