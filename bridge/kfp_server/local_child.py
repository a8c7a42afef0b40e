"""Child process of an executed run: ``python -m af2kfp.bridge.kfp_server.local_child RUN_DIR``.

Runs the pipeline in RUN_DIR (``spec.json``, ``arguments.json``) with
``kfp.local``'s SubprocessRunner (no venv) and appends one JSON line per
event to ``events.jsonl``: each task's start and end (state, the exception
line of a failed task, parameter outputs) and the pipeline's end. It wraps
``kfp.local``'s single-task executor to see each task; kfp.local has no
public hook for that. A container component's task is not run (kfp.local's
SubprocessRunner would run its command on this host, outside its image): it is
recorded as FAILED with ``not_run``, and the run fails naming it. KFP's time placeholders get the backend's values
(:mod:`af2kfp.bridge.kfp_server.time_placeholders`).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from af2kfp.bridge.kfp_server.executor import EVENTS_FILE, NOT_RUN_REASON
from af2kfp.bridge.kfp_server.specs import is_lightweight_executor
from af2kfp.bridge.kfp_server.time_placeholders import time_placeholders

__all__ = ["main"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Killed)\b.*)$")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _last_exception(output: str) -> str | None:
    found = [m.group(1).strip() for m in map(_EXCEPTION_LINE.match, _plain(output).splitlines()) if m]
    return found[-1] if found else None


def _primitive(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (values or {}).items() if isinstance(v, (str, int, float, bool, list, dict))}


class _Tee(io.TextIOBase):
    """Keep what a task prints (to find its error) and pass it on to the log."""

    def __init__(self, target: TextIO) -> None:
        self.target, self.seen = target, io.StringIO()

    def write(self, text: str) -> int:
        self.seen.write(text)
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()


def _executor_of(call: dict[str, Any], json_format: Any) -> dict[str, Any] | None:
    """The task's executor spec as JSON (None when it cannot be found: let kfp.local decide)."""
    try:
        component = call["components"][call["task_spec"].component_ref.name]
        executor = call["executors"][component.executor_label]
    except (KeyError, AttributeError):
        return None
    return json_format.MessageToDict(executor)


def _emit(handle: TextIO, **event: Any) -> None:
    handle.write(json.dumps({"time": time.time(), **event}, default=str) + "\n")
    handle.flush()


def main(argv: list[str] | None = None) -> int:
    run_dir = Path((argv if argv is not None else sys.argv[1:])[0])
    spec = json.loads((run_dir / "spec.json").read_text())
    arguments = json.loads((run_dir / "arguments.json").read_text())
    from google.protobuf import json_format

    from kfp import local
    from kfp.local import pipeline_orchestrator, status
    from kfp.local.orchestrator import task_executor
    from kfp.pipeline_spec import pipeline_spec_pb2

    with open(run_dir / EVENTS_FILE, "a") as events:
        original = task_executor.execute_single_task

        signature = inspect.signature(original)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            call = signature.bind_partial(*args, **kwargs).arguments
            name = call.get("task_name", "?")
            _emit(events, event="task_start", task=name)
            executor = _executor_of(call, json_format)
            if executor is not None and "container" in executor and not is_lightweight_executor(executor):
                # kfp.local's SubprocessRunner would run a container's command on this host, outside its image
                image = executor["container"].get("image", "?")
                error = f"not run: container component (image {image}): {NOT_RUN_REASON}"
                _emit(events, event="task_end", task=name, state="FAILED", error=error, not_run=True)
                return {}, status.Status.FAILURE
            tee = _Tee(sys.stdout)
            try:
                with contextlib.redirect_stdout(tee):
                    outputs, result = original(*args, **kwargs)
            except Exception as exc:
                error = _last_exception(tee.seen.getvalue()) or _plain(f"{type(exc).__name__}: {exc}")
                _emit(events, event="task_end", task=name, state="FAILED", error=error)
                raise
            ok = result == status.Status.SUCCESS
            error = None if ok else (_last_exception(tee.seen.getvalue()) or "Error (exit code 1)")
            _emit(
                events,
                event="task_end",
                task=name,
                state="SUCCEEDED" if ok else "FAILED",
                error=error,
                outputs=_primitive(outputs),
            )
            return outputs, result

        task_executor.execute_single_task = recorded
        _emit(events, event="pipeline_start")
        try:
            local.init(
                runner=local.SubprocessRunner(use_venv=False),
                pipeline_root=str(run_dir / "outputs"),
                raise_on_error=False,
            )
            pipeline_spec = pipeline_spec_pb2.PipelineSpec()
            json_format.ParseDict(spec.get("pipeline_spec", spec), pipeline_spec, ignore_unknown_fields=True)
            with time_placeholders():  # a one-off run: created (and scheduled) now, as the backend says
                outputs = pipeline_orchestrator.run_local_pipeline(pipeline_spec, arguments)
        except BaseException as exc:  # the run's result, recorded for the server
            traceback.print_exc()
            _emit(events, event="pipeline_end", state="FAILED", error=_plain(f"{type(exc).__name__}: {exc}"))
            return 1
        failed = outputs == {} and any(
            json.loads(line).get("state") == "FAILED"
            for line in (run_dir / EVENTS_FILE).read_text().splitlines()
        )
        if failed:
            _emit(events, event="pipeline_end", state="FAILED", error="a task failed")
            return 1
        _emit(events, event="pipeline_end", state="SUCCEEDED", outputs=_primitive(outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
