"""The run's dates for a whole mapped DAG: one run context, and the parameter that overrides it.

Each task records the run context outputs it reads (``KfpTask.run_context``: its templates,
its Python callable's context shim); this joins them into one :class:`RunContextPlan`, timed
by the DAG's schedule (:func:`converters.run_context.timing`), and adds the optional
pipeline parameter ``logical_date`` (empty: the run's own time).
"""

from __future__ import annotations

from converters.config import Config
from converters.graph import DagInfo
from converters.mappings.model import KfpTask
from converters.run_context import RunContextPlan, timing
from converters.templating import PipelineParameter, python_name

__all__ = ["run_context_plan"]


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
