"""Fuzz ``af2kfp convert``: hostile and broken DAG files must give findings, never a crash, a hang or a traceback.

Cases are made from a seed and an index alone (the same pair gives the same file), by six
generators: mutations of the sample DAG files (lines dropped, doubled, swapped, cut, characters
flipped, tokens spliced in), grammar-generated DAG files (operators, groups, loops, dependencies,
params), deep nesting of every kind, huge literals, self-referencing and exploding values, and odd
ids and unicode. Each case is converted alone, in worker processes this harness watches:

- **crash**: the worker died (a signal: a native parser's stack overflow), an exception left
  ``convert_paths``, or the report holds one of af2kfp's own failures (``A115``, ``E302``, ``E303``,
  ``E310``: exit code 3);
- **hang**: a case took more than ``--case-timeout`` seconds (default 30);
- **traceback**: anything the conversion wrote to stderr that looks like one.

Every failing case is written to ``--failures`` (default ``bench/fuzz_failures/``) as
``<seed>-<index>-<generator>.py``; move it into ``tests/fuzz/regressions/`` with the fix.

```
.venv/bin/python bench/fuzz_convert.py --cases 10000 --jobs 2          # the acceptance run
.venv/bin/python bench/fuzz_convert.py --cases 300 --seed 7 --show 5    # a quick look
```
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "dags"
INTERNAL = {"A115", "E302", "E303", "E310"}
HEAD = "from datetime import datetime, timedelta\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n" \
       "from airflow.operators.python import PythonOperator\nfrom airflow.operators.empty import EmptyOperator\n" \
       "from airflow.utils.task_group import TaskGroup\n"

ODD_TEXT = ["", " ", "report.html", "report.json", "REPORT.MD", ".", "..", "../../etc", "a/b", "a\\b", "x" * 300,
            "é" * 200, "\u202eevil", "a\u2028b", "a\u0085b", "a\rb", "a\nb", "a\x00b", "tab\tid", "emoji\U0001f600",
            "\ud800", "con", "nul", "-", "--", "$(rm -rf /)", "{{ params.x }}", "{% raw %}", "'", '"', "\\", "#",
            "---\npipelineInfo: {name: x}", "ー" * 100, "\u200f", "\ufeff", "a" * 5000, "name with spaces"]
ODD_VALUES = ["1e999", "-1e999", "float('nan')", "float('inf')", "10**30", "-(2**63)", "2**53 + 1", "1" * 400,
              "timedelta(days=10**12)", "timedelta(seconds=1e300)", "[[[[[]]]]]", "{'a': {'b': {'c': None}}}",
              "b'\\x00\\xff'", "None", "True", "...", "lambda: 1", "object()", "{1, 2}", "(1,)", "0.1", "-0.0",
              "'x' * 100000", "list(range(100000))", "{str(i): i for i in range(5000)}"]


def _text(rng: random.Random) -> str:
    return rng.choice(ODD_TEXT) if rng.random() < 0.6 else "".join(
        chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000), rng.randrange(0x10000, 0x10ffff)]))
        for _ in range(rng.randrange(0, 40)))


def _id(rng: random.Random) -> str:
    return repr(_text(rng)) if rng.random() < 0.5 else repr(f"t{rng.randrange(1000)}")


# --------------------------------------------------------------------------------------------- generators
def _mutated(rng: random.Random) -> str:
    """A sample DAG file with a few random edits."""
    files = sorted(SAMPLES.rglob("*.py"))
    lines = rng.choice(files).read_text(encoding="utf-8").splitlines()
    for _ in range(rng.randrange(1, 6)):
        if not lines:
            break
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        kind = rng.randrange(8)
        if kind == 0:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[j])
        elif kind == 2:
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 3:
            lines = lines[: i + 1]
        elif kind == 4 and lines[i]:
            k = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:k] + rng.choice("()[]{}:'\"\\#=,.>><<*@ \t\u202e\x00é") + lines[i][k + 1:]
        elif kind == 5:
            lines[i] = lines[i].replace("'", "'" + _text(rng).replace("'", ""), 1)
        elif kind == 6:
            lines.insert(i, rng.choice(["x = " + rng.choice(ODD_VALUES), "d = {}; d['k'] = d", "raise ValueError()",
                                        "import os; os.system('x')", "while True: pass", "for i in range(10**9): pass",
                                        "def f(): return f()", "f = lambda: f(); f()"]))
        else:
            lines[i] = " " * rng.randrange(0, 12) + lines[i].lstrip()
    return "\n".join(lines) + "\n"


def _grammar(rng: random.Random) -> str:
    """A DAG file from a small grammar: tasks, groups, loops, dependencies, params, default_args."""
    out = [HEAD]
    params = {repr(_text(rng)) if rng.random() < 0.3 else repr(f"p{i}"): rng.choice(ODD_VALUES + ["'v'", "1"])
              for i in range(rng.randrange(0, 4))}
    param_text = "{" + ", ".join(f"{k}: {v}" for k, v in params.items()) + "}"
    default_args = rng.choice(["{}", "{'retries': 2}", "{'retries': 10**20}", "{'retry_delay': timedelta(minutes=5)}",
                               "{'execution_timeout': timedelta(days=10**9)}", "{'owner': " + _id(rng) + "}"])
    schedule = rng.choice(["None", "'@daily'", "'0 * * * *'", "'not a cron'", "timedelta(hours=1)", "''", "'* * * * * * *'"])
    out.append(f"with DAG({_id(rng)}, start_date=datetime(2024, 1, 1), schedule={schedule}, params={param_text}, "
               f"default_args={default_args}) as dag:\n")
    names = []
    indent = "    "
    for n in range(rng.randrange(1, 8)):
        kind = rng.randrange(6)
        name = f"t{n}"
        if kind == 0:
            out.append(f"{indent}{name} = BashOperator(task_id={_id(rng)}, bash_command={_id(rng)}, "
                       f"env={{'A': {rng.choice(ODD_VALUES)}}})\n")
        elif kind == 1:
            out.append(f"{indent}{name} = PythonOperator(task_id={_id(rng)}, python_callable=lambda: "
                       f"{rng.choice(ODD_VALUES)}, op_kwargs={{'x': {rng.choice(ODD_VALUES)}}})\n")
        elif kind == 2:
            out.append(f"{indent}{name} = EmptyOperator(task_id={_id(rng)})\n")
        elif kind == 3:
            out.append(f"{indent}with TaskGroup({_id(rng)}) as g{n}:\n{indent}    {name} = "
                       f"EmptyOperator(task_id={_id(rng)})\n")
        elif kind == 4:
            out.append(f"{indent}{name} = [BashOperator(task_id=f'loop_{{i}}', bash_command='echo {{{{ params }}}}') "
                       f"for i in range({rng.choice(['3', '0', '1500', '-1', 'len(dag.params)'])})]\n")
        else:
            out.append(f"{indent}{name} = BashOperator(task_id={_id(rng)}, bash_command='echo "
                       f"{{{{ params.{rng.choice(['x', 'p0', 'missing'])} }}}}', retries={rng.choice(ODD_VALUES)}, "
                       f"execution_timeout={rng.choice(ODD_VALUES)})\n")
        names.append(name)
    for _ in range(rng.randrange(0, 6)):
        a, b = rng.choice(names), rng.choice(names)
        out.append(f"{indent}{a} >> {b}\n" if rng.random() < 0.8 else f"{indent}{a} << [{b}, {a}]\n")
    return "".join(out)


def _deep(rng: random.Random) -> str:
    depth = rng.choice([50, 99, 101, 150, 199, 201, 250, 400, 1000, 1500, 3000, 20000])
    kind = rng.randrange(10)
    expr = [
        lambda n: "(" * n + "1" + ")" * n, lambda n: "[" * n + "]" * n, lambda n: "{'a': " * n + "1" + "}" * n,
        lambda n: "+".join(["1"] * n), lambda n: "a" + ".b" * n, lambda n: "f" + "()" * n,
        lambda n: " and ".join(["a"] * n), lambda n: " ".join(["'s'"] * n), lambda n: "not " * n + "a",
        lambda n: "lambda: " * n + "1",
    ][kind](depth)
    where = rng.randrange(3)
    body = f"x = {expr}\n"
    if where == 0:
        return HEAD + body + "with DAG('deep', start_date=datetime(2024, 1, 1)) as d:\n    BashOperator(task_id='t', bash_command='echo')\n"
    if where == 1:
        return HEAD + "with DAG('deep', start_date=datetime(2024, 1, 1)) as d:\n    " + body + \
            "    BashOperator(task_id='t', bash_command='echo', env={'X': str(x)})\n"
    return HEAD + f"with DAG('deep', start_date=datetime(2024, 1, 1), params={{'p': {expr}}}) as d:\n" \
                  "    BashOperator(task_id='t', bash_command='echo')\n"


def _huge(rng: random.Random) -> str:
    literal = rng.choice([
        "'" + "x" * rng.choice([10**4, 10**5, 10**6]) + "'",
        "[" + ",".join(str(i) for i in range(rng.choice([1000, 50000]))) + "]",
        "{" + ",".join(f"'k{i}': {i}" for i in range(rng.choice([1000, 20000]))) + "}",
        "'''" + "line\n" * rng.choice([1000, 100000]) + "'''",
        str(10 ** rng.choice([20, 300, 4000])),
        "1e" + str(rng.choice([308, 309, 999])),
    ])
    target = rng.choice(["bash_command", "env", "doc_md"])
    value = literal if target != "env" else "{'A': " + literal + "}"
    return HEAD + f"with DAG('huge', start_date=datetime(2024, 1, 1), params={{'p': {literal}}}) as d:\n" \
                  f"    BashOperator(task_id='t', bash_command='echo', {target}={value})\n"


def _self_referencing(rng: random.Random) -> str:
    setup = rng.choice([
        "d = {}\nd['a'] = d\nd['b'] = d\n", "l = []\nl.append(l)\nl.append(l)\nd = {'l': l}\n",
        "d = {'x': 1}\nfor _ in range(60):\n    d = {'a': d, 'b': d}\n",
        "a = {}\nb = {'a': a}\na['b'] = b\nd = {'a': a}\n",
        "d = [1]\nfor _ in range(25):\n    d = d + d\nd = {'x': d}\n",
        "s = 'x'\nfor _ in range(40):\n    s = s + s\nd = {'s': s}\n",
        "d = {}\nd.update(a=d)\nd.setdefault('b', d)\n",
    ])
    use = rng.choice(["env=d", "params=d", "op_kwargs=d", "bash_command=str(d)"])
    op = "PythonOperator(task_id='t', python_callable=print, " if use.startswith("op_") else \
        "BashOperator(task_id='t', bash_command='echo', "
    dag_params = ", params=d" if use == "params=d" else ""
    task_use = "" if use == "params=d" else use
    if task_use.startswith("bash_command"):
        op = "BashOperator(task_id='t', "
    return HEAD + setup + f"with DAG('selfref', start_date=datetime(2024, 1, 1){dag_params}) as dag:\n" \
                          f"    {op}{task_use})\n"


def _odd_ids(rng: random.Random) -> str:
    tasks = "".join(f"    t{i} = BashOperator(task_id={_id(rng)}, bash_command={_id(rng)})\n" for i in range(rng.randrange(1, 5)))
    deps = "    t0 >> t0\n" if rng.random() < 0.2 else ""
    return HEAD + f"with DAG({_id(rng)}, start_date=datetime(2024, 1, 1), description={_id(rng)}, " \
                  f"tags=[{_id(rng)}], doc_md={_id(rng)}) as dag:\n" + tasks + deps


GENERATORS = {"mutated": _mutated, "grammar": _grammar, "deep": _deep, "huge": _huge,
              "selfref": _self_referencing, "odd": _odd_ids}
WEIGHTS = {"mutated": 4, "grammar": 3, "deep": 1, "huge": 1, "selfref": 1, "odd": 2}


def make_case(seed: int, index: int) -> tuple[str, str]:
    """``(generator name, source)`` of case ``index`` under ``seed``: always the same pair."""
    rng = random.Random(f"{seed}:{index}")
    name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    return name, GENERATORS[name](rng)


# --------------------------------------------------------------------------------------------- one worker
def _run_case(seed: int, index: int, scratch: Path) -> dict:
    """Convert one case in this process; what happened, as one JSON-able line."""
    from af2kfp.converters.convert import convert_paths

    name, source = make_case(seed, index)
    folder = scratch / f"case{index}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / "dag_file.py"
    path.write_text(source, encoding="utf-8", errors="surrogatepass")
    errors = io.StringIO()
    started = time.monotonic()
    outcome: dict = {"index": index, "generator": name, "status": "ok"}
    try:
        with contextlib.redirect_stderr(errors):
            report = convert_paths([path], folder / "out", jobs=1)
        internal = [f"{f['code']}: {f['message'][:300]}" for f in report["findings"] if f["code"] in INTERNAL]
        if internal:
            outcome.update(status="crash", detail="; ".join(internal))
        outcome["dags"] = report["summary"]["dags"]
    except BaseException as exc:  # noqa: BLE001 - what the harness is here to catch
        import traceback

        outcome.update(status="crash", detail="".join(traceback.format_exception(exc))[-3000:])
    if "Traceback" in errors.getvalue() and outcome["status"] == "ok":
        outcome.update(status="traceback", detail=errors.getvalue()[-3000:])
    outcome["seconds"] = round(time.monotonic() - started, 3)
    shutil.rmtree(folder, ignore_errors=True)
    return outcome


def _worker(seed: int, indexes: list[int]) -> None:
    """Child mode: convert each case, one JSON line per case on stdout (a "start" line before it)."""
    import logging

    logging.disable(logging.CRITICAL)
    sys.setrecursionlimit(1000)
    scratch = Path(tempfile.mkdtemp(prefix="af2kfp-fuzz-"))
    out = sys.stdout
    sys.stdout = io.StringIO()  # what a conversion prints does not mix with the protocol
    try:
        for index in indexes:
            out.write(json.dumps({"start": index}) + "\n")
            out.flush()
            out.write(json.dumps(_run_case(seed, index, scratch)) + "\n")
            out.flush()
            sys.stdout = io.StringIO()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------------------------- the harness
class _Child:
    """A worker process on a list of case indexes, restarted past a case that killed or hung it."""

    def __init__(self, seed: int, indexes: list[int]) -> None:
        self.seed, self.todo = seed, list(indexes)
        self.current: int | None = None
        self.since = time.monotonic()
        self.proc: subprocess.Popen[bytes] | None = None
        self.buffer = b""
        self.restarts = 0
        self.start()

    def start(self) -> None:
        self.proc = None
        if not self.todo:
            return
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(self.seed), ",".join(map(str, self.todo))],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.current, self.since, self.buffer = None, time.monotonic(), b""

    def done(self, index: int) -> None:
        if index in self.todo:
            self.todo = self.todo[self.todo.index(index) + 1:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _take(child: _Child, message: dict, results: dict[int, dict]) -> None:
    """A worker's line: a case starts, or a case's outcome."""
    if "start" in message:
        child.current, child.since = message["start"], time.monotonic()
        return
    results[message["index"]] = message
    child.done(message["index"])
    child.current = None
    child.restarts = 0


def run(seed: int, cases: int, jobs: int = 2, case_timeout: float = 30.0, first: int = 0,
        failures: Path | None = None, progress: bool = False) -> dict:
    """Run cases ``first .. first + cases - 1`` of ``seed`` in ``jobs`` watched workers; the figures."""
    indexes = list(range(first, first + cases))
    children = [_Child(seed, indexes[i::jobs]) for i in range(jobs) if indexes[i::jobs]]
    results: dict[int, dict] = {}
    started = time.monotonic()
    while any(c.proc is not None for c in children):
        live = [c for c in children if c.proc is not None]
        ready, _, _ = select.select([c.proc.stdout for c in live], [], [], 0.5)
        for child in live:
            assert child.proc is not None and child.proc.stdout is not None
            ended = False
            if child.proc.stdout in ready:
                # Read the pipe itself (a buffered readline could hold a "start" line select no longer sees).
                data = os.read(child.proc.stdout.fileno(), 1 << 16)
                ended = not data  # end of its output: the worker exited
                child.buffer += data
                *lines, child.buffer = child.buffer.split(b"\n")
                for line in lines:
                    before = len(results)
                    _take(child, json.loads(line), results)
                    if progress and len(results) > before and len(results) % 500 == 0:
                        print(f"  {len(results)}/{cases} cases, {time.monotonic() - started:.0f} s", flush=True)
                if not ended:
                    continue
            hung = child.current is not None and time.monotonic() - child.since > case_timeout
            if not (hung or ended):
                continue
            index, code = child.current, child.proc.poll()
            child.stop()
            if index is not None:
                name, _ = make_case(seed, index)
                status = "hang" if hung else "crash"
                detail = f"over {case_timeout:g} s" if hung else f"worker exited with {child.proc.returncode}"
                results[index] = {"index": index, "generator": name, "status": status, "detail": detail,
                                  "seconds": round(time.monotonic() - child.since, 3)}
                child.done(index)
            elif child.todo:  # died between cases (or could not start): give up after a few tries
                child.restarts += 1
                if child.restarts > 3:
                    for lost in child.todo:
                        results[lost] = {"index": lost, "generator": make_case(seed, lost)[0], "status": "crash",
                                         "detail": f"worker cannot start (exit {code})", "seconds": 0.0}
                    child.todo = []
            child.start()
    elapsed = time.monotonic() - started
    bad = [r for r in results.values() if r["status"] != "ok"]
    if failures is not None and bad:
        failures.mkdir(parents=True, exist_ok=True)
        for r in bad:
            name, source = make_case(seed, r["index"])
            (failures / f"{seed}-{r['index']}-{name}.py").write_text(source, encoding="utf-8", errors="surrogatepass")
            (failures / f"{seed}-{r['index']}-{name}.txt").write_text(json.dumps(r, indent=2) + "\n")
    counts = {s: sum(1 for r in results.values() if r["status"] == s) for s in ("ok", "crash", "hang", "traceback")}
    by_generator: dict[str, int] = {}
    for r in results.values():
        by_generator[r["generator"]] = by_generator.get(r["generator"], 0) + 1
    slowest = max(results.values(), key=lambda r: r["seconds"], default=None)
    return {"seed": seed, "cases": len(results), **counts, "seconds": round(elapsed, 1),
            "slowest": {k: slowest[k] for k in ("index", "generator", "seconds")} if slowest else None,
            "generators": dict(sorted(by_generator.items())), "failures": sorted(bad, key=lambda r: r["index"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--first", type=int, default=0, help="index of the first case")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--case-timeout", type=float, default=30.0)
    parser.add_argument("--failures", default=str(ROOT / "bench" / "fuzz_failures"))
    parser.add_argument("--show", type=int, default=3, help="failures to print in full")
    parser.add_argument("--write-case", nargs=2, metavar=("INDEX", "FILE"), help="write one case's source and stop")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(int(args.worker[0]), [int(i) for i in args.worker[1].split(",") if i])
        return 0
    if args.write_case:
        name, source = make_case(args.seed, int(args.write_case[0]))
        Path(args.write_case[1]).write_text(source, encoding="utf-8", errors="surrogatepass")
        print(f"case {args.write_case[0]} ({name}) -> {args.write_case[1]}")
        return 0
    figures = run(args.seed, args.cases, args.jobs, args.case_timeout, args.first, Path(args.failures), progress=True)
    print(f"fuzz: seed {figures['seed']}, {figures['cases']} cases in {figures['seconds']} s: {figures['ok']} ok, "
          f"{figures['crash']} crashes, {figures['hang']} hangs, {figures['traceback']} tracebacks; "
          f"slowest {figures['slowest']}; by generator {figures['generators']}")
    for failure in figures["failures"][: args.show]:
        print(json.dumps(failure, indent=2))
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
