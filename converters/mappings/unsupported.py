"""Any operator without a rule: a placeholder component that fails loudly when run.

The pipeline keeps its shape (the task and its edges exist) and an ``M201`` finding
says what to do; issue 3's fallback will run the original operator instead.
"""

from __future__ import annotations

import shlex

from converters.mappings import codes
from converters.mappings.context import MapContext
from converters.mappings.example import Example, example_task
from converters.mappings.model import KfpTask

__all__ = ["RULES", "OPERATORS", "map_task", "EXAMPLES"]

RULES = ("unsupported",)
OPERATORS: dict[str, str] = {}


def map_task(ctx: MapContext, rule: str) -> KfpTask:
    """A placeholder on ``Config.bash_image`` that prints what it replaces and exits 1."""
    operator = ctx.task.operator
    message = f"af2kfp placeholder: Airflow task {ctx.task.task_id} ({operator}) was not converted"
    ctx.add(
        codes.UNSUPPORTED_OPERATOR,
        f"{operator.rsplit('.', 1)[-1]} has no KFP mapping; a placeholder keeps the pipeline's shape",
        f"Replace the placeholder component by hand, or map {operator} to a rule in [tool.af2kfp.operators].",
    )
    ctx.used.update(ctx.task.args)
    kfp = KfpTask(task_id=ctx.task.task_id, operator=operator, rule=rule, kind="placeholder")
    kfp.image = ctx.config.bash_image
    kfp.command = ["sh", "-c"]
    kfp.args = [f"echo {shlex.quote(message)} >&2; exit 1"]
    kfp.findings.extend(ctx.findings)
    kfp.fate = "unsupported"
    return kfp


EXAMPLES = [
    Example(
        title="Unknown operators become a failing placeholder",
        airflow='SnowflakeOperator(task_id="q", sql="select 1")',
        task=example_task("airflow.providers.snowflake.operators.snowflake.SnowflakeOperator", "q", sql="select 1"),
        fields={"kind": "placeholder", "command": ["sh", "-c"]},
        codes=("M201",),
        fate="unsupported",
    ),
]
