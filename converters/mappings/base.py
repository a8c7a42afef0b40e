"""Arguments every Airflow operator has (``BaseOperator``): retries, timeout, scheduling knobs.

Every rule calls :func:`apply_base` first and :func:`finish` last; ``finish`` turns each
argument no rule consumed into a finding, so nothing is dropped silently.
"""

from __future__ import annotations

from typing import Iterable

from af2kfp.converters.findings import Finding
from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.model import KfpTask, Retry
from af2kfp.converters.mappings.values import duration_seconds, unexpected

__all__ = ["apply_base", "finish", "decide_fate", "fate_of", "AIRFLOW_DEFAULT_RETRY_DELAY", "SCHEDULER_ARGS",
           "SILENT_ARGS"]

AIRFLOW_DEFAULT_RETRY_DELAY = 300.0

# Arguments with no effect on what the task computes, dropped without a word.
_SILENT = {
    "task_id", "owner", "dag", "start_date", "end_date", "doc", "doc_md", "doc_rst", "doc_json",
    "doc_yaml", "task_display_name", "params", "task_group", "logger_name", "allow_nested_operators",
    "do_xcom_push", "multiple_outputs",  # XComs are wired as data edges (or flagged M213 where used)
}
# Scheduler-side settings: KFP has none of them; an info finding when they are set.
_SCHEDULER = {
    "pool", "pool_slots", "queue", "priority_weight", "weight_rule", "sla", "executor", "executor_config",
    "run_as_user", "max_active_tis_per_dag", "max_active_tis_per_dagrun", "task_concurrency",
    "depends_on_past", "wait_for_downstream", "ignore_first_depends_on_past",
    "wait_for_past_depends_before_skipping", "email", "email_on_failure", "email_on_retry",
    "on_failure_callback", "on_success_callback", "on_retry_callback", "on_execute_callback",
    "on_skipped_callback", "inlets", "outlets", "resources", "map_index_template",
}
SCHEDULER_ARGS = frozenset(_SCHEDULER)
SILENT_ARGS = frozenset(_SILENT)


def _seconds_text(seconds: float) -> str:
    return f"{int(seconds)}s"


def _retry(ctx: MapContext) -> Retry | None:
    retries = ctx.arg("retries")
    delay = ctx.arg("retry_delay")
    backoff = ctx.arg("retry_exponential_backoff")
    max_delay = ctx.arg("max_retry_delay")
    if retries in (None, 0):
        return None
    if not isinstance(retries, int) or isinstance(retries, bool):
        ctx.add(codes.UNRESOLVED_VALUE, f"retries: {retries!r} is not a known integer; no retry policy set")
        return None
    delay_s = duration_seconds(ctx, delay, "retry_delay")
    if backoff is True:
        factor = 2.0
    elif isinstance(backoff, (int, float)) and not isinstance(backoff, bool) and backoff > 0:
        factor = float(backoff)
    else:
        if backoff not in (None, False, 0):
            unexpected(ctx, backoff, "retry_exponential_backoff")
        factor = 1.0
    max_s = duration_seconds(ctx, max_delay, "max_retry_delay")
    if max_s is not None:
        ctx.add(
            codes.RETRY_SEMANTICS,
            f"max_retry_delay={int(max_s)}s caps each Airflow retry delay; KFP's backoff_max_duration caps the total",
        )
    return Retry(
        num_retries=retries,
        backoff_duration=_seconds_text(AIRFLOW_DEFAULT_RETRY_DELAY if delay_s is None else delay_s),
        backoff_factor=factor,
        backoff_max_duration=None if max_s is None else _seconds_text(max_s),
    )


def apply_base(ctx: MapContext, kfp: KfpTask) -> None:
    """Retries, ``execution_timeout`` and the scheduler-only arguments (``trigger_rule``: see ``control``)."""
    kfp.retry = _retry(ctx)
    timeout = duration_seconds(ctx, ctx.arg("execution_timeout"), "execution_timeout")
    if timeout is not None:
        kfp.timeout_seconds = max(1, int(timeout))
    ctx.arg("trigger_rule")  # mapped on the whole graph (af2kfp.converters.mappings.control)
    for name in sorted(_SILENT):
        ctx.used.add(name)
    for name in sorted(_SCHEDULER & set(ctx.task.args)):
        ctx.used.add(name)
        value = ctx.task.args[name]
        if value in (None, False, 0, [], {}, ""):
            continue
        ctx.add(codes.ARGUMENT_IGNORED, f"`{name}` is an Airflow scheduler setting; KFP has none, it is dropped")


def finish(ctx: MapContext, kfp: KfpTask, ignored: frozenset[str] = frozenset()) -> KfpTask:
    """Flag arguments nobody consumed, attach the findings, decide the fate."""
    for name in sorted(set(ctx.task.args) - ctx.used):
        if name in ignored:
            ctx.add(codes.ARGUMENT_IGNORED, f"`{name}` has no meaning in KFP; it is dropped")
        else:
            ctx.add(codes.ARGUMENT_DROPPED, f"`{name}` is not mapped to KFP; it is dropped")
    kfp.findings.extend(ctx.findings)
    decide_fate(kfp)
    return kfp


def fate_of(kind: str | None, findings: Iterable[Finding]) -> str:
    """The one rule every fate follows (``docs/report-json.md``, "Fates").

    ``kind``: the KFP task's kind, ``None`` for a task folded into the edges. A placeholder is
    ``unsupported``; otherwise any warning or error about the task (the mapping's, the analyzer's,
    control flow's) makes it ``review``; else it is ``converted`` (runs as is), or ``folded``.
    """
    if kind == "placeholder":
        return "unsupported"
    if any(f.severity.rank >= 1 for f in findings):
        return "review"
    return "folded" if kind is None else "converted"


def decide_fate(kfp: KfpTask) -> None:
    """The fate of a mapped task from its own findings (:func:`fate_of`)."""
    kfp.fate = fate_of(kfp.kind, kfp.findings)
