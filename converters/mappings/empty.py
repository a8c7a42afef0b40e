"""EmptyOperator / DummyOperator: no work, only shape; folded into the edges.

Every predecessor is connected to every successor, so the ordering it imposed stays. A DAG
of EmptyOperators only keeps them as containers that do nothing (:func:`noop`): KFP cannot
compile a pipeline without tasks.
"""

from __future__ import annotations

from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.base import apply_base, finish
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import KfpTask

__all__ = ["RULES", "OPERATORS", "map_task", "noop", "EXAMPLES", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS"]

EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
RULES = ("EmptyOperator",)
OPERATORS = {
    EMPTY: "EmptyOperator",
    "airflow.operators.empty.EmptyOperator": "EmptyOperator",
    "airflow.operators.dummy.DummyOperator": "EmptyOperator",
    "airflow.operators.dummy_operator.DummyOperator": "EmptyOperator",
    "airflow.operators.dummy.EmptyOperator": "EmptyOperator",
}


MAPPED_ARGS = ("(none: folded; upstream tasks connect to downstream tasks)",)
DROPPED_ARGS = ("every argument",)
FLAGGED_ARGS = ("trigger_rule that runs after failed upstream tasks (all_done, always, one_failed...)",)
# Rules whose effect the conditions around the downstream tasks keep (af2kfp.converters.mappings.control).
_KEPT_BY_CONDITIONS = {None, "all_success", "none_failed", "none_failed_min_one_success", "none_failed_or_skipped",
                       "one_success", "one_done", "none_skipped"}


def map_task(ctx: MapContext, rule: str) -> None:
    """Fold: no KFP task. A join's skip rule lives on in its successors' conditions; a rule that
    lets it run after failures (``all_done``...) is lost, so it is flagged."""
    trigger_rule = ctx.task.args.get("trigger_rule")
    if trigger_rule not in _KEPT_BY_CONDITIONS:
        ctx.add(codes.FOLDED_TRIGGER_RULE, f"folded EmptyOperator had trigger_rule={trigger_rule!r}")
    return None


def noop(ctx: MapContext) -> KfpTask:
    """The task as a container that does nothing (``sh -c true``): for a DAG of EmptyOperators only,
    which would otherwise leave KFP an empty pipeline it cannot compile."""
    kfp = KfpTask(task_id=ctx.task.task_id, operator=ctx.task.operator, rule="EmptyOperator", kind="container",
                  image=ctx.config.bash_image, command=["sh", "-c"], args=["true"])
    apply_base(ctx, kfp)
    ctx.used.update(ctx.task.args)
    return finish(ctx, kfp)


EXAMPLES = [
    Example(
        title="Folded: its predecessors connect straight to its successors",
        airflow='start = EmptyOperator(task_id="start")',
        task=example_task(EMPTY, "start"),
        downstream=("load",),  # alone, it would stay a no-op container (KFP cannot compile an empty pipeline)
        fate="folded",
    ),
]
