"""Any operator without a rule: the original operator in an Airflow image, else a failing placeholder.

When :func:`fallback.fallback_blocker` finds nothing against it, the task runs the
original operator (rule ``fallback``, fate ``review``). Otherwise the pipeline keeps its
shape with a placeholder and an ``M201`` finding saying why (see :mod:`.fallback`).
"""

from __future__ import annotations

from af2kfp.converters.mappings import fallback
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import KfpTask
from af2kfp.converters.values import TaskRef

__all__ = ["RULES", "OPERATORS", "map_task", "EXAMPLES", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS"]

RULES = ("unsupported",)
OPERATORS: dict[str, str] = {}
MAPPED_ARGS: tuple[str, ...] = ()
DROPPED_ARGS = ("every argument (the placeholder runs nothing)",)
FLAGGED_ARGS = ("the reason the fallback cannot run the operator",)


def map_task(ctx: MapContext, rule: str) -> KfpTask | None:
    """The fallback when it can run the operator, else its failing placeholder (``M201``)."""
    return fallback.map_task(ctx, rule)


EXAMPLES = [
    Example(
        title="An operator the fallback cannot run (an argument reads an XCom) becomes a failing placeholder",
        airflow='SnowflakeOperator(task_id="q", sql=extract.output)',
        task=example_task("airflow.providers.snowflake.operators.snowflake.SnowflakeOperator", "q",
                          sql=TaskRef(task_id="extract")),
        fields={"kind": "placeholder", "command": ["sh", "-c"]},
        codes=("M201",),
        fate="unsupported",
    ),
    Example(
        title="A class from the DAG repository is not in the Airflow image: placeholder",
        airflow='TeamOperator(task_id="t", image="team:3")',
        task=example_task("acme.ops.TeamOperator", "t", image="team:3"),
        fields={"kind": "placeholder", "rule": "unsupported"},
        codes=("M201",),
        fate="unsupported",
    ),
]
