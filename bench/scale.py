"""Benchmark: how ``af2kfp convert`` grows with the size of a DAG, against Airflow's DagBag.

Generates (``bench/scaled_dags.py``) one DAG file per size (default 1, 100, 1,000, 2,000
and 5,000 tasks: task groups from a loop, written-out tasks in a long ``>>`` chain and a
fan-out, a mapped task), a 2,000-term chain expression, and a 1,000-file repository. Each
side runs as a whole fresh process, the two sides alternating run by run; CPU seconds
(user + system of the child and its workers, ``RUSAGE_CHILDREN``) and peak RSS of the
largest process are the primary figures, since other work on a shared machine moves wall
time most. Prints one table row per input:

  input | convert CPU s (wall s) | peak MB | DagBag CPU s (wall s) | peak MB | CPU ratio

and then ``af2kfp --help`` and ``af2kfp check`` of one 4-task file. Run: ``.venv/bin/python bench/scale.py [--sizes 1 100 1000]
[--repeat 3] [--jobs N] [--skip-dagbag] [--no-repo]``. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_vs_dagbag import DAGBAG_CHILD, af2kfp_command, airflow_environment  # noqa: E402
from scaled_dags import chain_file, dag_file, write_repo  # noqa: E402

TARGET_RATIO = 0.5


@dataclass
class Side:
    """CPU seconds, wall seconds and peak RSS (MB) of each timed run of one command."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)
    failed: str = ""

    def cell(self) -> str:
        if self.failed:
            return f"failed: {self.failed}"
        if not self.cpu:
            return "-"
        return (f"{statistics.median(self.cpu):7.2f} ({statistics.median(self.wall):6.2f}) "
                f"{max(self.peak):6.0f}")


def _usage() -> resource.struct_rusage:
    return resource.getrusage(resource.RUSAGE_CHILDREN)


def run(side: Side, argv: list[str], env: dict[str, str], fresh: Path | None = None) -> None:
    """One fresh process; exit 0/1 accepted (1: converted with findings). ``ru_maxrss`` of children is
    the largest child's peak, so the peak is measured in a wrapper process per run."""
    if fresh is not None:
        shutil.rmtree(fresh, ignore_errors=True)
    wrapper = [sys.executable, "-c", _MEASURE, *argv]
    before, start = _usage(), time.perf_counter()
    done = subprocess.run(wrapper, env=env, capture_output=True, text=True, check=False)
    wall, after = time.perf_counter() - start, _usage()
    if done.returncode not in (0, 1):
        side.failed = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:80]
        return
    side.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    side.wall.append(wall)
    side.peak.append(float(done.stdout.strip().splitlines()[-1]) / 1024)


# Runs the command and prints the peak RSS (KB) of it and its own children (workers).
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if done.returncode not in (0, 1):
    sys.stderr.write(done.stderr[-2000:])
    sys.exit(done.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"""


def compare(label: str, folder: Path, root: Path, args: argparse.Namespace, command: list[str],
            rerun: bool = False) -> None:
    out = root / "out" / label
    convert_argv = [*command, "convert", str(folder), "-o", str(out), "--fail-on", "none"]
    if args.jobs:
        convert_argv += ["--jobs", str(args.jobs)]
    convert, dagbag, again = Side(), Side(), Side()
    env = airflow_environment(root, folder)
    plain = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    for _ in range(args.repeat):
        run(convert, convert_argv, plain, out)
        if rerun:  # the same conversion again into the same folder, nothing changed: the cache's case
            run(again, convert_argv, plain)
        if not args.skip_dagbag:
            run(dagbag, [sys.executable, "-c", DAGBAG_CHILD, str(folder)], env)
    ratio = (f"{statistics.median(convert.cpu) / statistics.median(dagbag.cpu):5.2f}"
             if convert.cpu and dagbag.cpu else "  -  ")
    print(f"| {label:<24} | {convert.cell():<28} | {dagbag.cell():<28} | {ratio} |", flush=True)
    if rerun:
        print(f"| {label + ', re-run':<24} | {again.cell():<28} | {'':<28} |       |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 100, 1000, 2000, 5000])
    parser.add_argument("--chain", type=int, default=2000, help="terms of the chain expression (0: none)")
    parser.add_argument("--repo-files", type=int, default=1000, help="files of the repository (0: none)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per side (default 1)")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for af2kfp convert (default: its own)")
    parser.add_argument("--skip-dagbag", action="store_true", help="time af2kfp only")
    args = parser.parse_args(argv)
    command = af2kfp_command()
    if command is None:
        raise SystemExit("bench: the af2kfp console script is not installed")
    with tempfile.TemporaryDirectory(prefix="af2kfp-scale-") as scratch:
        root = Path(scratch)
        print(f"runs: {args.repeat} per side, alternating; CPU s = user+sys of the process and its workers, "
              f"median; peak MB = largest process RSS")
        print(f"| {'input':<24} | {'convert CPU s (wall) MB':<28} | {'DagBag CPU s (wall) MB':<28} | ratio |")
        print(f"|{'-' * 26}|{'-' * 30}|{'-' * 30}|-------|")
        inputs: list[tuple[str, Path]] = []
        for size in args.sizes:
            folder = root / "dags" / f"tasks_{size}"
            folder.mkdir(parents=True)
            (folder / f"scaled_{size}.py").write_text(dag_file(size), encoding="utf-8")
            inputs.append((f"one DAG, {size} tasks", folder))
        if args.chain:
            folder = root / "dags" / f"chain_{args.chain}"
            folder.mkdir(parents=True)
            (folder / "chain.py").write_text(chain_file(args.chain), encoding="utf-8")
            inputs.append((f"{args.chain}-term >> chain", folder))
        for label, folder in inputs:
            compare(label, folder, root, args, command)
        if args.repo_files:
            repo = write_repo(root / "repo", args.repo_files)
            compare(f"{args.repo_files}-file repository", repo, root, args, command, rerun=True)
        helps, checks = Side(), Side()
        small = root / "dags" / "check_small"
        small.mkdir(parents=True)
        (small / "small.py").write_text(dag_file(4, "small"), encoding="utf-8")
        for _ in range(max(3, args.repeat)):
            run(helps, [*command, "--help"], dict(os.environ))
            run(checks, [*command, "check", str(small / "small.py")], dict(os.environ))
        print(f"| {'af2kfp --help':<24} | {helps.cell():<28} | {'':<28} |       |")
        print(f"| {'af2kfp check, 4 tasks':<24} | {checks.cell():<28} | {'':<28} |       |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
