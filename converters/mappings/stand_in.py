"""A failing placeholder that stands in for a task kfp's compiler rejected, with the same outputs.

When one task of a pipeline cannot be compiled (an argument of the wrong type, a constant
kfp refuses, a loop it cannot build), the rest of the DAG still deserves a pipeline. The
stand-in keeps what other tasks depend on: its conditions, its place in loops (unless the
loop is what kfp rejected), what it decides, and the outputs others read, with their types,
so readers still compile; its body prints why and exits 1. The task's fate becomes
``unsupported`` and finding ``E306`` says what kfp rejected.
"""

from __future__ import annotations

import shlex
from af2kfp.converters.config import Config
from af2kfp.converters.findings import CODES, Finding, Severity, register_code
from af2kfp.converters.graph import AirflowTask
from af2kfp.converters.mappings.model import KfpTask, PythonFunction

__all__ = ["stand_in", "TASK_REJECTED"]

TASK_REJECTED = register_code(
    "E306", Severity.ERROR, "Task rejected by the KFP compiler",
    "kfp's compiler refused this task, so a placeholder that fails when run stands in for it (same outputs, same "
    "conditions) and the rest of the DAG compiles. The message gives kfp's reason: fix the argument or setting it "
    "names in pipeline.py, or report it to the af2kfp maintainers when the emitted code is at fault.",
).code


def _message(kfp: KfpTask) -> str:
    return f"af2kfp placeholder: Airflow task {kfp.task_id} ({kfp.operator}) was rejected by the KFP compiler"


def _body(kfp: KfpTask) -> PythonFunction | None:
    """A Python component with the original's outputs (return type, ``dsl.OutputPath`` parameters) that raises."""
    fn = kfp.python
    if fn is None:
        return None
    outputs = [p for p in fn.params if p[1].startswith("dsl.OutputPath")]
    code = f"def placeholder():\n    raise RuntimeError({_message(kfp)!r})\n"
    return PythonFunction(code=code, params=outputs, returns=fn.returns, base_image=fn.base_image)


def stand_in(kfp: KfpTask, task: AirflowTask, dag_id: str, config: Config, reason: str,
             drop_loops: bool = False) -> KfpTask:
    """The placeholder for ``kfp`` (mapped from Airflow ``task``), ``reason`` being kfp's error.

    ``drop_loops``: the loop around the task is what kfp rejected, so the stand-in runs once.
    """
    python = _body(kfp)
    placeholder = KfpTask(
        task_id=kfp.task_id, operator=kfp.operator, rule=kfp.rule, kind="placeholder",
        image=python.base_image if python else config.bash_image,
        command=[] if python else ["sh", "-c"],
        args=[] if python else [f"echo {shlex.quote(_message(kfp))} >&2; exit 1"],
        python=python, output=None if python else kfp.output,
        arms=kfp.arms, decision=kfp.decision, loops=() if drop_loops else kfp.loops,
        ignore_upstream_failure=kfp.ignore_upstream_failure, exit_handler=kfp.exit_handler,
        fate="unsupported",
    )
    entry = CODES[TASK_REJECTED]
    where = "; its loop was dropped, it runs once" if drop_loops and kfp.loops else ""
    finding = Finding(code=entry.code, severity=entry.severity, suggestion=entry.help, file=task.file,
                      line=task.line, dag_id=dag_id, task_id=kfp.task_id,
                      message=f"kfp's compiler rejected task {kfp.task_id}: {reason.rstrip('.')}; a placeholder stands in "
                              f"for it{where}")
    placeholder.findings = [*kfp.findings, finding]
    return placeholder

