"""What waiting costs: N concurrent deferred KFP runs polled by ONE triggerer-like process.

Starts ``af2kfp kfp-server`` as a process, submits N runs that stay RUNNING for
``--run-seconds``, then starts a separate process that imitates Airflow's triggerer: it
imports Airflow, restores N ``KfpRunTrigger`` objects from their serialised form (as the
triggerer does) and drives their ``run()`` generators concurrently on one asyncio loop
until each yields its event. It is not the real ``airflow triggerer`` (that needs N task
instances run to their deferral by workers first, minutes of CPU on a small box); the
trigger code, the hook, the connection lookup and the HTTP client are the real ones.

Printed: KFP API calls per run per poll interval (from the server's request counts), the
triggerer process's RSS (after imports, peak) and CPU time while waiting, and the worst
event-loop stall. ``--client per-trigger`` measures the same wait with one httpx client per
trigger instead of the provider's pool shared by all triggers of a connection.

    .venv/bin/python bench/triggerer_200.py                      # 200 runs, 5 s polls
    .venv/bin/python bench/triggerer_200.py --client per-trigger
    .venv/bin/python bench/triggerer_200.py --runs 50 --poll-interval 2 --run-seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# -- the triggerer imitation (child process) ----------------------------------------------


async def _lag_monitor(stop: asyncio.Event, worst: list[float]) -> None:
    """The longest time the loop could not run a 50 ms timer on time (a blocked loop)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(0.05)
        worst[0] = max(worst[0], loop.time() - start - 0.05)


def _use_client_per_trigger() -> None:
    """Patch the hook back to one httpx client (pool, TLS context) per trigger, for comparison."""
    from airflow_plugins.hooks.kfp import KfpHook
    from bridge.kfp import AsyncKfpClient

    @contextlib.asynccontextmanager
    async def async_client(self: KfpHook):  # type: ignore[no-untyped-def]
        async with AsyncKfpClient(await self.aget_config()) as client:
            yield client

    KfpHook.async_client = async_client  # type: ignore[method-assign]


async def _drive(trigger: Any) -> dict[str, Any]:
    """As the triggerer's run_trigger: the first event ends the trigger."""
    async for event in trigger.run():
        return event.payload
    return {"status": "no event"}


async def _wait_all(run_ids: list[str], poll_interval: float) -> dict[str, Any]:
    from airflow_plugins.triggers.kfp import KfpRunTrigger

    try:
        from airflow.sdk._shared.module_loading import import_string
    except ImportError:  # Airflow 2.10
        from airflow.utils.module_loading import import_string

    triggers = []
    for run_id in run_ids:  # serialised and restored, as stored in and read from the DB
        classpath, kwargs = KfpRunTrigger(run_id=run_id, poll_interval=poll_interval).serialize()
        triggers.append(import_string(classpath)(**kwargs))
    stop, worst = asyncio.Event(), [0.0]
    monitor = asyncio.create_task(_lag_monitor(stop, worst))
    cpu0, wall0 = time.process_time(), time.monotonic()
    events = await asyncio.gather(*(_drive(t) for t in triggers))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stop.set()
    await monitor
    statuses: dict[str, int] = {}
    for event in events:
        statuses[event["status"]] = statuses.get(event["status"], 0) + 1
    return {"cpu_seconds": cpu, "wall_seconds": wall, "worst_stall": worst[0], "events": statuses}


def child(args: argparse.Namespace) -> None:
    import airflow  # noqa: F401  (the triggerer has Airflow loaded before any trigger)
    import airflow_plugins.triggers.kfp  # noqa: F401

    if args.client == "per-trigger":
        _use_client_per_trigger()
    run_ids = json.loads(Path(args.run_ids).read_text())
    rss_base = _status_kb("VmRSS")
    cpu_imports = time.process_time()
    result = asyncio.run(_wait_all(run_ids, args.poll_interval))
    result.update(
        rss_base_mb=rss_base / 1024,
        rss_peak_mb=_status_kb("VmHWM") / 1024,
        cpu_imports_seconds=cpu_imports,
    )
    print(json.dumps(result))


# -- the driver ------------------------------------------------------------------------------


def _compile_pipeline(path: Path) -> Path:
    code = (
        "from kfp import compiler, dsl\n"
        "@dsl.component(base_image='python:3.11-slim')\n"
        "def step(x: str) -> str:\n    return x\n"
        "@dsl.pipeline(name='bench-wait')\n"
        "def p(x: str = 'a'):\n    step(x=x)\n"
        f"compiler.Compiler().compile(p, {str(path)!r})\n"
    )
    source = path.with_suffix(".py")  # a file: the KFP compiler reads the component's source
    source.write_text(code)
    subprocess.run([sys.executable, str(source)], check=True)
    return path


def _submit(url: str, package: Path, runs: int) -> list[str]:
    from bridge.kfp import KfpClient, RunSpec

    with KfpClient(host=url) as client:
        return [
            client.submit_run(
                RunSpec(display_name=f"bench-{i}", package=str(package), experiment_name="bench")
            ).run_id
            for i in range(runs)
        ]


def driver(args: argparse.Namespace) -> int:
    from bridge.kfp_server import start_server_process

    work = Path(tempfile.mkdtemp(prefix="af2kfp-bench-triggerer-"))
    package = _compile_pipeline(work / "pipeline.yaml")
    server_args = ["--run-seconds", str(args.run_seconds), "--pending-seconds", "0.5"]
    with start_server_process(work / "kfp.db", args=server_args) as server:
        t0 = time.monotonic()
        run_ids = _submit(server.url, package, args.runs)
        submit_seconds = time.monotonic() - t0
        (work / "runs.json").write_text(json.dumps(run_ids))
        control = server.control()
        control.reset_stats()
        home = work / "airflow"
        home.mkdir()
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_KFP_DEFAULT": json.dumps({"conn_type": "kubeflow_pipelines", "host": server.url}),
        }
        command = [sys.executable, __file__, "--child", "--run-ids", str(work / "runs.json")]
        command += ["--poll-interval", str(args.poll_interval), "--client", args.client]
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            print(done.stderr[-4000:], file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        stats = control.stats()
    gets = stats.get("GET /apis/v2beta1/runs/{run_id}", 0)
    total = sum(v for k, v in stats.items() if not k.startswith("fault"))
    intervals = result["wall_seconds"] / args.poll_interval
    print(f"triggerer imitation: {args.runs} KfpRunTrigger in one asyncio process, client={args.client}")
    print(f"  runs: {args.runs} submitted in {submit_seconds:.1f}s, RUNNING for {args.run_seconds}s; "
          f"poll interval {args.poll_interval}s")
    print(f"  events: {result['events']} after {result['wall_seconds']:.1f}s")
    print(f"  KFP API calls: {total} ({gets} GET run) = "
          f"{total / args.runs / intervals:.2f} per run per poll interval")
    print(f"  other calls: { {k: v for k, v in stats.items() if k != 'GET /apis/v2beta1/runs/{run_id}'} }")
    print(f"  triggerer RSS: {result['rss_base_mb']:.0f} MB after imports, peak {result['rss_peak_mb']:.0f} MB "
          f"(+{(result['rss_peak_mb'] - result['rss_base_mb']) * 1024 / args.runs:.0f} KB per trigger)")
    print(f"  triggerer CPU while waiting: {result['cpu_seconds']:.2f}s over {result['wall_seconds']:.1f}s "
          f"({100 * result['cpu_seconds'] / result['wall_seconds']:.1f}% of one core; "
          f"{1000 * result['cpu_seconds'] / max(gets, 1):.2f} ms per poll); imports {result['cpu_imports_seconds']:.1f}s")
    print(f"  worst event-loop stall: {1000 * result['worst_stall']:.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--run-seconds", type=float, default=30.0)
    parser.add_argument("--client", choices=["shared", "per-trigger"], default="shared")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-ids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
