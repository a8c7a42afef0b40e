"""Run the generated run context component as plain Python (what its container runs), for tests."""

from __future__ import annotations

import tempfile
from pathlib import Path

from kfp import dsl

from af2kfp.converters.emit.run_context import run_context_task
from af2kfp.converters.run_context import OVERRIDE, RunContextPlan, Timing

__all__ = ["values"]


def values(timing: Timing, outputs: dict[str, str], *, override: str = "", schedule: str = "",
           create: str = "") -> dict[str, str]:
    """The text of each output for one run: ``override`` is the logical_date parameter,
    ``schedule``/``create`` what KFP gave the time placeholders."""
    task = run_context_task(RunContextPlan(timing=timing, outputs=outputs), "python:3.11")
    assert task.python is not None
    code = task.python.code.replace("__AF2KFP_NAME__", "run_context")
    namespace: dict = {"dsl": dsl}
    exec(compile(code, "run_context.py", "exec"), namespace)  # noqa: S102 - our own generated component
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: str(Path(folder) / name) for name in outputs}
        namespace["run_context"](**{OVERRIDE: override, "schedule_time": schedule, "create_time": create}, **paths)
        return {name: Path(path).read_text() for name, path in paths.items()}
