"""What waiting costs: N concurrent deferred KFP runs polled by ONE triggerer.

Starts ``af2kfp kfp-server`` as a process and submits N runs that stay RUNNING, then waits
on all of them at once in one of two ways:

- ``--triggerer airflow`` (default): the real thing. ``airflow standalone`` (scheduler,
  dag-processor, triggerer, api-server; LocalExecutor on SQLite) runs a DAG with a
  ``KfpRunSensor(deferrable=True)`` mapped over the N run ids; once all N task instances
  are deferred, the ``airflow triggerer`` process tree (its supervisor, the trigger runner
  subprocess, its log server) is measured over a steady window, then every run is ended
  and the DAG run must succeed. Slow: N task instances have to run to their deferral first.
- ``--triggerer imitation``: a separate process imports Airflow, restores N
  ``KfpRunTrigger`` from their serialised form (as the triggerer does) and drives their
  ``run()`` generators on one asyncio loop until each yields its event. The trigger, hook,
  connection lookup and HTTP client are the real ones; Airflow's triggerer loop is not.
  ``--client per-trigger`` compares the provider's HTTP pool shared by all triggers of a
  connection with one httpx client per trigger (what the provider did first).

Printed: KFP API calls per run per poll interval (from the server's request counts), the
triggerer's RSS and CPU time, and (imitation) the worst event-loop stall.

    .venv/bin/python bench/triggerer_200.py                         # real triggerer, 200 runs
    .venv/bin/python bench/triggerer_200.py --triggerer imitation
    .venv/bin/python bench/triggerer_200.py --triggerer imitation --client per-trigger
    .venv/bin/python bench/triggerer_200.py --runs 50 --poll-interval 2 --window 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import signal
import socket
import sqlite3
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
    from af2kfp.airflow_plugins.hooks.kfp import KfpHook
    from af2kfp.bridge.kfp import AsyncKfpClient

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
    from af2kfp.airflow_plugins.triggers.kfp import KfpRunTrigger

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
    import af2kfp.airflow_plugins.triggers.kfp  # noqa: F401

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



# -- the real triggerer (airflow standalone) -------------------------------------------------

DAG_FILE = """
import datetime

from airflow.sdk import DAG

from af2kfp.airflow_plugins.sensors.kfp import KfpRunSensor

with DAG("bench_triggerer", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False,
         max_active_tasks={runs}):
    KfpRunSensor.partial(task_id="wait", deferrable=True, poke_interval={poll}).expand(run_id={run_ids!r})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _airflow_env(home: Path, port: int, kfp_url: str, runs: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(runs),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(32).hex(),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW_CONN_KFP_DEFAULT": json.dumps({"conn_type": "kubeflow_pipelines", "host": kfp_url}),
        }
    )
    return env


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process we can read."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except (OSError, IndexError, ValueError):
                continue
            table[int(entry.name)] = (ppid, cmd)
    return table


def _triggerer_tree(root: int) -> dict[int, str]:
    """The ``airflow triggerer`` process under ``root`` (standalone) and its descendants."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    tops = [pid for pid, (ppid, cmd) in table.items() if ppid == root and "triggerer" in cmd]
    tree, todo = {}, list(tops)
    while todo:
        pid = todo.pop()
        tree[pid] = table[pid][1]
        todo.extend(children.get(pid, []))
    return tree


def _cpu_seconds(pid: int) -> float:
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pss_mb(pid: int) -> float:
    """Proportional set size: pages shared with the forked siblings are split, not counted twice."""
    for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue


def _until(what: str, check: Any, timeout: float) -> Any:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError, sqlite3.OperationalError):
            result = check()
            if result:
                return result
        time.sleep(2)
    raise TimeoutError(f"{what}: not within {timeout}s")


def real_triggerer(args: argparse.Namespace, work: Path, server: Any, run_ids: list[str]) -> dict[str, Any]:
    import httpx

    home = work / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "bench_triggerer.py").write_text(
        DAG_FILE.format(runs=args.runs, poll=args.poll_interval, run_ids=run_ids)
    )
    port = _free_port()
    log = work / "standalone.log"
    control = server.control()
    with open(log, "wb") as out:
        standalone = subprocess.Popen(
            ["airflow", "standalone"],
            env=_airflow_env(home, port, server.url, args.runs),
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    dag = "/api/v2/dags/bench_triggerer"
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as api:
            _until("DAG served", lambda: api.get(dag).status_code == 200, 300)
            api.patch(dag, json={"is_paused": False}).raise_for_status()
            now = datetime.datetime.now(datetime.timezone.utc).isoformat()
            dag_run = api.post(f"{dag}/dagRuns", json={"logical_date": now}).json()["dag_run_id"]
            t0 = time.monotonic()

            def deferred() -> int:  # read from the metadata DB: exact, and no load on the api-server
                with contextlib.closing(sqlite3.connect(f"file:{home / 'airflow.db'}?mode=ro", uri=True)) as db:
                    query = "SELECT count(*) FROM task_instance WHERE dag_id = ? AND state = 'deferred'"
                    return db.execute(query, ("bench_triggerer",)).fetchone()[0]

            _until(f"{args.runs} task instances deferred", lambda: deferred() >= args.runs, args.defer_timeout)
            defer_seconds = time.monotonic() - t0
            tree = _triggerer_tree(standalone.pid)
            time.sleep(args.poll_interval)  # let every trigger reach its steady polling
            control.reset_stats()
            cpu0 = {pid: _cpu_seconds(pid) for pid in tree}
            peak: dict[int, float] = {pid: 0.0 for pid in tree}
            pss: dict[int, float] = {pid: 0.0 for pid in tree}
            start = time.monotonic()
            while time.monotonic() - start < args.window:
                for pid in tree:
                    peak[pid] = max(peak[pid], _rss_mb(pid))
                    pss[pid] = max(pss[pid], _pss_mb(pid))
                time.sleep(1)
            window = time.monotonic() - start
            stats = control.stats()
            cpu = {pid: _cpu_seconds(pid) - cpu0[pid] for pid in tree}
            for run_id in run_ids:  # end every run now; the DAG run must then succeed
                control.script_run(run_id, "succeed:0")
            t1 = time.monotonic()
            _until(
                "DAG run success",
                lambda: api.get(f"{dag}/dagRuns/{dag_run}").json()["state"] == "success",
                args.defer_timeout,
            )
            finish_seconds = time.monotonic() - t1
    except TimeoutError as err:
        print(f"{err}; log: {log}", file=sys.stderr)
        raise
    finally:
        _kill_group(standalone)
    return {
        "defer_seconds": defer_seconds,
        "finish_seconds": finish_seconds,
        "window": window,
        "stats": stats,
        "processes": [
            {"pid": pid, "cmd": tree[pid][:60], "rss_peak_mb": peak[pid], "pss_peak_mb": pss[pid], "cpu_seconds": cpu[pid]} for pid in tree
        ],
    }


def print_real(args: argparse.Namespace, submit_seconds: float, result: dict[str, Any]) -> None:
    stats, window = result["stats"], result["window"]
    gets = stats.get("GET /apis/v2beta1/runs/{run_id}", 0)
    total = sum(v for k, v in stats.items() if not k.startswith("fault"))
    cpu = sum(p["cpu_seconds"] for p in result["processes"])
    rss = sum(p["rss_peak_mb"] for p in result["processes"])
    pss = sum(p["pss_peak_mb"] for p in result["processes"])
    print(f"real airflow triggerer (airflow standalone, LocalExecutor): {args.runs} deferred KfpRunSensor")
    print(f"  runs: {args.runs} submitted in {submit_seconds:.1f}s; all task instances deferred after "
          f"{result['defer_seconds']:.0f}s; poll interval {args.poll_interval}s; measured over {window:.0f}s")
    print(f"  KFP API calls in the window: {total} ({gets} GET run) = "
          f"{total / args.runs / (window / args.poll_interval):.2f} per run per poll interval")
    print(f"  triggerer processes: RSS {rss:.0f} MB (PSS {pss:.0f} MB: forked pages counted once), CPU {cpu:.2f}s over {window:.0f}s "
          f"({100 * cpu / window:.1f}% of one core; {1000 * cpu / max(gets, 1):.2f} ms per poll)")
    for proc in result["processes"]:
        print(f"    pid {proc['pid']}: RSS {proc['rss_peak_mb']:.0f} MB, PSS {proc['pss_peak_mb']:.0f} MB, CPU {proc['cpu_seconds']:.2f}s  {proc['cmd']}")
    print(f"  all runs ended -> DAG run success in {result['finish_seconds']:.0f}s")


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
    from af2kfp.bridge.kfp import KfpClient, RunSpec

    with KfpClient(host=url) as client:
        return [
            client.submit_run(
                RunSpec(display_name=f"bench-{i}", package=str(package), experiment_name="bench")
            ).run_id
            for i in range(runs)
        ]


def driver(args: argparse.Namespace) -> int:
    from af2kfp.bridge.kfp_server import start_server_process

    work = Path(tempfile.mkdtemp(prefix="af2kfp-bench-triggerer-"))
    package = _compile_pipeline(work / "pipeline.yaml")
    run_seconds = "3600" if args.triggerer == "airflow" else str(args.run_seconds)  # real: ended by the bench
    server_args = ["--run-seconds", run_seconds, "--pending-seconds", "0.5", "--control"]
    with start_server_process(work / "kfp.db", args=server_args) as server:
        t0 = time.monotonic()
        run_ids = _submit(server.url, package, args.runs)
        submit_seconds = time.monotonic() - t0
        if args.triggerer == "airflow":
            print_real(args, submit_seconds, real_triggerer(args, work, server, run_ids))
            return 0
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
    print_imitation(args, submit_seconds, result, stats)
    return 0


def print_imitation(args: argparse.Namespace, submit_seconds: float, result: dict[str, Any], stats: dict[str, int]) -> None:
    gets = stats.get("GET /apis/v2beta1/runs/{run_id}", 0)
    total = sum(v for k, v in stats.items() if not k.startswith("fault"))
    intervals = result["wall_seconds"] / args.poll_interval
    print(f"triggerer imitation: {args.runs} KfpRunTrigger in one asyncio process, client={args.client}")
    print(f"  runs: {args.runs} submitted in {submit_seconds:.1f}s, RUNNING for {args.run_seconds}s; "
          f"poll interval {args.poll_interval}s")
    print(f"  events: {result['events']} after {result['wall_seconds']:.1f}s")
    print(f"  KFP API calls: {total} ({gets} GET run) = "
          f"{total / args.runs / intervals:.2f} per run per poll interval")
    print(f"  triggerer RSS: {result['rss_base_mb']:.0f} MB after imports, peak {result['rss_peak_mb']:.0f} MB "
          f"(+{(result['rss_peak_mb'] - result['rss_base_mb']) * 1024 / args.runs:.0f} KB per trigger)")
    print(f"  triggerer CPU while waiting: {result['cpu_seconds']:.2f}s over {result['wall_seconds']:.1f}s "
          f"({100 * result['cpu_seconds'] / result['wall_seconds']:.1f}% of one core; "
          f"{1000 * result['cpu_seconds'] / max(gets, 1):.2f} ms per poll); imports {result['cpu_imports_seconds']:.1f}s")
    print(f"  worst event-loop stall: {1000 * result['worst_stall']:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--run-seconds", type=float, default=30.0, help="run length (imitation)")
    parser.add_argument("--triggerer", choices=["airflow", "imitation"], default="airflow")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured (real triggerer)")
    parser.add_argument("--defer-timeout", type=float, default=1200.0, help=argparse.SUPPRESS)
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
