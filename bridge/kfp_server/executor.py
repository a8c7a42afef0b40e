"""Really run a lightweight-Python pipeline with ``kfp.local`` for the server.

The server starts ``python -m af2kfp.bridge.kfp_server.local_child RUN_DIR`` in its own
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
import threading
from pathlib import Path
from typing import Any

from af2kfp.bridge.kfp_server.fates import RunSnapshot, TaskSnapshot

__all__ = [
    "EVENTS_FILE",
    "NOT_RUN_REASON",
    "start_execution",
    "stop_execution",
    "execution_snapshot",
    "read_events",
]

EVENTS_FILE = "events.jsonl"
NOT_RUN_REASON = (
    "container components cannot run here (kfp.local's SubprocessRunner runs only lightweight "
    "Python components, and this machine has no Docker or Kubernetes)"
)


def start_execution(run_dir: Path, spec: dict[str, Any], arguments: dict[str, Any]) -> int:
    """Start the executor child; return its pid."""
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (run_dir / "spec.json").write_text(json.dumps(spec))
    (run_dir / "arguments.json").write_text(json.dumps(arguments))
    with open(run_dir / "executor.log", "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "af2kfp.bridge.kfp_server.local_child", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=str(run_dir),
            # a component's own `pip install` line must never download into the server's environment
            env={**os.environ, "PIP_NO_INDEX": "1"},
        )
    # reap it when it ends (no zombie, no "still running" warning); it outlives a server restart anyway
    threading.Thread(target=child.wait, name=f"af2kfp-executor-{child.pid}", daemon=True).start()
    return child.pid


def _is_our_child(pid: int) -> bool:
    """Guard against a recycled pid after a server restart (Linux: read its command line)."""
    try:
        return b"af2kfp.bridge.kfp_server.local_child" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists() and _alive(pid)
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop_execution(pid: int | None) -> None:
    """Kill the executor's process group (a terminate request)."""
    if not pid or not _is_our_child(pid):
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    try:
        lines = (run_dir / EVENTS_FILE).read_text().splitlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:  # a line still being written
            break
    return events


def execution_snapshot(
    run_dir: Path,
    *,
    run_id: str,
    pod_prefix: str,
    terminated_at: float | None,
    cancel_seconds: float,
    now: float,
    created_at: float,
) -> RunSnapshot:
    """The run's state from what the executor recorded so far."""
    events = read_events(run_dir)
    history: list[tuple[float, str]] = [(created_at, "PENDING")]
    tasks: dict[str, dict[str, Any]] = {}
    not_run: list[str] = []
    started = done = None
    for event in events:
        if event["event"] == "pipeline_start":
            started = event
        elif event["event"] == "task_start":
            tasks[event["task"]] = {"start": event["time"], "end": None, "state": "RUNNING", "error": None}
        elif event["event"] == "task_end":
            tasks.setdefault(event["task"], {"start": event["time"]})
            tasks[event["task"]].update(end=event["time"], state=event["state"], error=event.get("error"))
            if event.get("not_run"):
                not_run.append(event["task"])
        elif event["event"] == "pipeline_end":
            done = event
    cancel_end = None if terminated_at is None else terminated_at + cancel_seconds
    stopped = terminated_at is not None and (done is None or done["time"] > terminated_at)
    snapshots = []
    for name, task in tasks.items():
        state, end = task["state"], task.get("end")
        if stopped and state == "RUNNING":
            state, end = ("CANCELED", cancel_end) if now >= cancel_end else ("RUNNING", None)
        snapshots.append(
            TaskSnapshot(
                name=name,
                state=state,
                start=task["start"],
                end=end,
                pod_name=f"{pod_prefix}-{run_id[:5]}-local-{name}",
                error=task.get("error"),
            )
        )
    if started is not None:
        history.append((started["time"], "RUNNING"))
    if stopped:
        history.append((terminated_at, "CANCELING"))
        if now < cancel_end:
            return RunSnapshot(
                state="CANCELING", finished_at=None, error=None, tasks=snapshots, history=history
            )
        history.append((cancel_end, "CANCELED"))
        return RunSnapshot(
            state="CANCELED",
            finished_at=cancel_end,
            error="run was terminated by the user",
            tasks=snapshots,
            history=history,
            not_run=tuple(not_run),
        )
    if done is None:
        return RunSnapshot(
            state="RUNNING" if started else "PENDING",
            finished_at=None,
            error=None,
            tasks=snapshots,
            history=history,
            not_run=tuple(not_run),
        )
    history.append((done["time"], done["state"]))
    error = done.get("error")
    failed = [t for t in snapshots if t.state == "FAILED"]
    if not_run:
        error = f"could not run task(s) {', '.join(map(repr, not_run))}: {NOT_RUN_REASON}"
    elif failed:
        error = f"task {failed[0].name!r} failed: {failed[0].error}"
    return RunSnapshot(
        state=done["state"],
        finished_at=done["time"],
        error=error,
        tasks=snapshots,
        history=history,
        not_run=tuple(not_run),
    )
