"""Benchmark: ``af2kfp convert`` versus Airflow's own ``DagBag`` on the same DAG files.

Copies ``samples/dags`` (with its helper package and ``samples/pyproject.toml``) and
the example DAGs bundled with the installed Airflow (``airflow/example_dags``) into one
scratch folder, then times, each as a whole fresh process, repeated (median; (a) and (b)
alternate run by run so that other work on the machine loads both alike):

  (a) ``af2kfp convert <folder> -o <out>``  (the console script)
  (a') ``af2kfp.converters.analysis.analyze_paths`` alone, to see where (a)'s time goes
  (b) ``DagBag`` loading the same folder, the way Airflow 3's DAG processor does

and prints both and the ratio against the target ``convert <= 0.5 x DagBag``.
Run: ``.venv/bin/python bench/convert_vs_dagbag.py [--repeat N]``. Not a test: it
prints figures and exits 0 whether or not the target is met (``--strict`` makes a
missed target exit 1).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
EXAMPLES_SUBFOLDER = "airflow_example_dags"
TARGET_RATIO = 0.5

# Child process of (b): load the folder as a DAG bundle, print a one-line JSON summary.
DAGBAG_CHILD = """
import json, os, sys
from pathlib import Path
real_stdout = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
from airflow.dag_processing.dagbag import BundleDagBag
root = Path(sys.argv[1])
bag = BundleDagBag(dag_folder=str(root), bundle_path=root)
summary = {"dags": len(bag.dags), "tasks": sum(len(d.tasks) for d in bag.dags.values()),
           "import_errors": sorted(bag.import_errors)}
real_stdout.write(json.dumps(summary) + "\\n")
real_stdout.flush()
"""
# Child of (a'): the analyzer alone (parse + symbolic evaluation + graphs), no emitting.
ANALYSIS_CHILD = """
import json, sys
from pathlib import Path
from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import find_pyproject, load_config
root = Path(sys.argv[1])
found = analyze_paths([root], config=load_config(find_pyproject(root)))
summary = {"files": len(found.files), "dags": len(found.graphs),
           "tasks": sum(graph.number_of_nodes() for graph in found.graphs)}
print(json.dumps(summary))
"""
# Fixed cost inside (b): interpreter start plus importing Airflow's DagBag, no DAG files.
AIRFLOW_IMPORT_ONLY = "import airflow.dag_processing.dagbag"


@dataclass
class Timing:
    """Wall-clock and CPU seconds (user + system, child processes included) of each timed run
    of one command, and the last line it printed."""

    label: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    last_line: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def figures(self) -> str:
        return (f"median {self.median:6.2f} s  min {min(self.seconds):6.2f} s  max {max(self.seconds):6.2f} s"
                f"  (CPU median {self.cpu_median:5.2f} s)")


def build_corpus(root: Path) -> Path:
    """Lay out the scratch DAG folder under ``root``; returns the folder to scan."""
    spec = importlib.util.find_spec("airflow")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bench: apache-airflow is not installed in this interpreter; use .venv/bin/python")
    examples = Path(next(iter(spec.submodule_search_locations))) / "example_dags"
    dags = root / "dags"
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(SAMPLES / "dags", dags, ignore=skip)
    shutil.copy2(SAMPLES / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(examples, dags / EXAMPLES_SUBFOLDER, ignore=skip)
    return dags


def af2kfp_command() -> list[str] | None:
    """The ``af2kfp`` console script next to this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name("af2kfp")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("af2kfp")
    return [found] if found else None


def convert_missing(command: list[str] | None) -> str | None:
    """``None`` when ``af2kfp convert`` exists; otherwise why not, in one line."""
    if command is None:
        return "the af2kfp console script is not installed"
    done = subprocess.run([*command, "convert", "--help"], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit {done.returncode}"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(timing: Timing, argv: list[str], env: dict[str, str], fresh: Path | None, record: bool) -> None:
    """Run ``argv`` once in a fresh process; add its wall and CPU seconds when ``record``.

    ``fresh`` is an output folder removed first, so every run starts clean. Exit 1 is
    accepted: for ``af2kfp`` it means "converted, with findings".
    """
    if fresh is not None:
        shutil.rmtree(fresh, ignore_errors=True)
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed, used = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode not in (0, 1):
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise SystemExit(f"bench: {timing.label} failed (exit {done.returncode}):\n{tail}")
    if record:
        timing.seconds.append(elapsed)
        timing.cpu.append(used)
    lines = done.stdout.strip().splitlines()
    timing.last_line = lines[-1] if lines else ""


def time_runs(
    label: str,
    argv: list[str],
    env: dict[str, str],
    repeat: int,
    warmup: int,
    fresh: Path | None = None,
) -> Timing:
    """Run ``argv`` ``warmup + repeat`` times in fresh processes; time the last ``repeat``."""
    timing = Timing(label)
    for index in range(warmup + repeat):
        run_once(timing, argv, env, fresh, record=index >= warmup)
    return timing


def time_pairs(sides: list[tuple[Timing, list[str], dict[str, str], Path | None]], repeat: int, warmup: int) -> None:
    """Alternate the sides run by run, so that both see the same load from other processes."""
    for index in range(warmup + repeat):
        for timing, argv, env, fresh in sides:
            run_once(timing, argv, env, fresh, record=index >= warmup)


def describe_conversion(out: Path) -> str:
    """What the last conversion wrote, from its report.json's summary when there is one."""
    report = out / "report.json"
    if not report.is_file():
        return f"{sum(1 for _ in out.rglob('pipeline.yaml'))} pipeline.yaml written, no report.json"
    summary = json.loads(report.read_text(encoding="utf-8")).get("summary", {})
    return ", ".join(f"{key}={value}" for key, value in summary.items() if not isinstance(value, dict))


def analysis_line(dags: Path, env: dict[str, str], repeat: int, warmup: int) -> str:
    """Time the analyzer alone in fresh processes, or say why it could not be timed."""
    argv = [sys.executable, "-c", ANALYSIS_CHILD, str(dags)]
    probe = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        lines = [line for line in probe.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit {probe.returncode}"
        return f"(a') analyzer alone: NOT MEASURED - af2kfp.converters.analysis is not usable yet ({reason})."
    timing = time_runs("analyzer", argv, env, repeat, warmup)
    found = json.loads(timing.last_line)
    return (
        f"(a') analyzer alone (whole process): {timing.figures()}   {found['dags']} DAGs, "
        f"{found['tasks']} tasks from {found['files']} files"
    )


def airflow_environment(root: Path, dags: Path) -> dict[str, str]:
    """Environment of the DagBag child: a scratch AIRFLOW_HOME, unit-test config, no examples."""
    home = root / "airflow-home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each side (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="af2kfp-bench-") as scratch:
        root = Path(scratch)
        dags = build_corpus(root)
        examples = len(list((dags / EXAMPLES_SUBFOLDER).rglob("*.py")))
        print(f"corpus: {len(list(dags.rglob('*.py')))} .py files: samples/dags + {examples} from airflow/example_dags")
        print(f"runs:   {args.warmup} warm-up + {args.repeat} timed per side, each a fresh process\n")

        env = airflow_environment(root, dags)
        plain_env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        dagbag_argv = [sys.executable, "-c", DAGBAG_CHILD, str(dags)]
        command = af2kfp_command()
        missing = convert_missing(command)
        dagbag = Timing("DagBag")
        if command is None or missing is not None:
            time_pairs([(dagbag, dagbag_argv, env, None)], args.repeat, args.warmup)
        else:
            out = root / "out"
            convert = Timing("af2kfp convert")
            convert_argv = [*command, "convert", str(dags), "-o", str(out)]
            # Alternated run by run: a machine shared with other work loads both sides alike.
            time_pairs([(dagbag, dagbag_argv, env, None), (convert, convert_argv, plain_env, out)],
                       args.repeat, args.warmup)
        loaded = json.loads(dagbag.last_line)
        print(
            f"(b) DagBag (whole process):          {dagbag.figures()}   {loaded['dags']} DAGs, "
            f"{loaded['tasks']} tasks, {len(loaded['import_errors'])} import errors"
        )
        startup = time_runs("Airflow import", [sys.executable, "-c", AIRFLOW_IMPORT_ONLY], env, args.repeat, 0)
        print(f"    of which Python start + importing Airflow's DagBag: median {startup.median:6.2f} s")
        print(analysis_line(dags, plain_env, args.repeat, args.warmup))

        if command is None or missing is not None:
            print(f"(a) af2kfp convert: NOT MEASURED - `af2kfp convert` is not available yet ({missing}).")
            print("    No ratio without (a); rerun once the converter is on main.")
            return 0
        print(f"(a) af2kfp convert (whole process):  {convert.figures()}   {describe_conversion(out)}")

    ratio = convert.median / dagbag.median
    pairs = sorted(c / d for c, d in zip(convert.seconds, dagbag.seconds))
    verdict = "MET" if ratio <= TARGET_RATIO else "MISSED"
    print(f"\nratio convert / DagBag = {ratio:.2f}   target <= {TARGET_RATIO:.2f}: {verdict}")
    print(f"    run by run: {' '.join(f'{r:.2f}' for r in pairs)}; "
          f"CPU seconds: {convert.cpu_median / dagbag.cpu_median:.2f} (convert uses more than one core)")
    return 1 if args.strict and verdict == "MISSED" else 0


if __name__ == "__main__":
    sys.exit(main())
