"""Really run a lightweight-Python pipeline with ``kfp.local`` for the server.

The server starts ``python -m bridge.kfp_server.executor RUN_DIR`` in its own
process group (so a terminate can kill it, and a server restart does not).
The child reads ``spec.json`` and ``arguments.json`` from RUN_DIR and appends
one JSON line per event to ``events.jsonl``: task start and end (with its
state, error and parameter outputs), then the pipeline's end. The server
derives the run's state from that file on every read.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bridge.kfp_server.fates import RunSnapshot, TaskSnapshot

__all__ = ["start_execution", "stop_execution", "execution_snapshot", "read_events", "main"]

_EVENTS = "events.jsonl"


def start_execution(run_dir: Path, spec: dict[str, Any], arguments: dict[str, Any]) -> int:
    """Start the executor child; return its pid."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "spec.json").write_text(json.dumps(spec))
    (run_dir / "arguments.json").write_text(json.dumps(arguments))
    with open(run_dir / "executor.log", "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "bridge.kfp_server.executor", str(run_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=str(run_dir),
        )
    return child.pid


def stop_execution(pid: int | None) -> None:
    """Kill the executor's process group (a terminate request)."""
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:  # reap it when it is our own child, so it leaves no zombie
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    try:
        lines = (run_dir / _EVENTS).read_text().splitlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:  # a line still being written
            break
    return events


def execution_snapshot(run_dir: Path, *, run_id: str, pod_prefix: str, terminated_at: float | None,
                       cancel_seconds: float, now: float, created_at: float) -> RunSnapshot:
    """The run's state from what the executor recorded so far."""
    events = read_events(run_dir)
    history: list[tuple[float, str]] = [(created_at, "PENDING")]
    tasks: dict[str, dict[str, Any]] = {}
    started = done = None
    for event in events:
        if event["event"] == "pipeline_start":
            started = event
        elif event["event"] == "task_start":
            tasks[event["task"]] = {"start": event["time"], "end": None, "state": "RUNNING", "error": None}
        elif event["event"] == "task_end":
            tasks.setdefault(event["task"], {"start": event["time"]})
            tasks[event["task"]].update(end=event["time"], state=event["state"], error=event.get("error"))
        elif event["event"] == "pipeline_end":
            done = event
    cancel_end = None if terminated_at is None else terminated_at + cancel_seconds
    stopped = terminated_at is not None and (done is None or done["time"] > terminated_at)
    snapshots = []
    for name, task in tasks.items():
        state, end = task["state"], task.get("end")
        if stopped and state == "RUNNING":
            state, end = ("CANCELED", cancel_end) if now >= cancel_end else ("RUNNING", None)
        snapshots.append(TaskSnapshot(name=name, state=state, start=task["start"], end=end,
                                      pod_name=f"{pod_prefix}-{run_id[:5]}-local-{name}", error=task.get("error")))
    if started is not None:
        history.append((started["time"], "RUNNING"))
    if stopped:
        history.append((terminated_at, "CANCELING"))
        if now < cancel_end:
            return RunSnapshot(state="CANCELING", finished_at=None, error=None, tasks=snapshots, history=history)
        history.append((cancel_end, "CANCELED"))
        return RunSnapshot(state="CANCELED", finished_at=cancel_end, error="run was terminated by the user",
                           tasks=snapshots, history=history)
    if done is None:
        return RunSnapshot(state="RUNNING" if started else "PENDING", finished_at=None, error=None,
                           tasks=snapshots, history=history)
    history.append((done["time"], done["state"]))
    return RunSnapshot(state=done["state"], finished_at=done["time"], error=done.get("error"),
                       tasks=snapshots, history=history)


def _emit(handle: Any, **event: Any) -> None:
    handle.write(json.dumps({"time": time.time(), **event}, default=str) + "\n")
    handle.flush()


def main(argv: list[str] | None = None) -> int:
    """Child entry point: run the pipeline in RUN_DIR, record every step."""
    run_dir = Path((argv or sys.argv[1:])[0])
    spec = json.loads((run_dir / "spec.json").read_text())
    arguments = json.loads((run_dir / "arguments.json").read_text())
    from google.protobuf import json_format

    from kfp import local
    from kfp.local import pipeline_orchestrator, status
    from kfp.local.orchestrator import task_executor
    from kfp.pipeline_spec import pipeline_spec_pb2

    with open(run_dir / _EVENTS, "a") as events:
        original = task_executor.execute_single_task

        def recorded(*args: Any, **kwargs: Any) -> Any:
            name = kwargs.get("task_name", args[0] if args else "?")
            _emit(events, event="task_start", task=name)
            try:
                outputs, result = original(*args, **kwargs)
            except Exception as exc:
                _emit(events, event="task_end", task=name, state="FAILED", error=f"{type(exc).__name__}: {exc}")
                raise
            ok = result == status.Status.SUCCESS
            _emit(events, event="task_end", task=name, state="SUCCEEDED" if ok else "FAILED",
                  error=None if ok else f"task {name!r} failed; see the executor log",
                  outputs={k: v for k, v in outputs.items() if isinstance(v, (str, int, float, bool, list, dict))})
            return outputs, result

        task_executor.execute_single_task = recorded
        _emit(events, event="pipeline_start")
        try:
            local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(run_dir / "outputs"),
                       raise_on_error=True)
            pipeline_spec = pipeline_spec_pb2.PipelineSpec()
            json_format.ParseDict(spec.get("pipeline_spec", spec), pipeline_spec, ignore_unknown_fields=True)
            outputs = pipeline_orchestrator.run_local_pipeline(pipeline_spec, arguments)
        except BaseException as exc:  # the run's result, recorded for the server
            traceback.print_exc()
            _emit(events, event="pipeline_end", state="FAILED", error=f"{type(exc).__name__}: {exc}")
            return 1
        _emit(events, event="pipeline_end", state="SUCCEEDED",
              outputs={k: v for k, v in (outputs or {}).items() if isinstance(v, (str, int, float, bool, list, dict))})
    return 0


if __name__ == "__main__":
    sys.exit(main())
