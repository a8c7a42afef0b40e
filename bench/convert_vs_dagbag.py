"""Benchmark: ``af2kfp convert`` versus Airflow's own ``DagBag`` on the same DAG files.

Copies ``samples/dags`` (with its helper package and ``samples/pyproject.toml``) and
the example DAGs bundled with the installed Airflow (``airflow/example_dags``) into one
scratch folder, then times, each as a whole fresh process, repeated (median):

  (a) ``af2kfp convert <folder> -o <out>``  (the console script)
  (b) ``DagBag`` loading the same folder, the way Airflow 3's DAG processor does

and prints both and the ratio against the target ``convert <= 0.5 x DagBag``.
Run: ``.venv/bin/python bench/convert_vs_dagbag.py [--repeat N]``. Not a test: it
prints figures and exits 0 whether or not the target is met (``--strict`` makes a
missed target exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
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
TARGET_RATIO = 0.5

# Child process for (b): load the folder as a DAG bundle and print a one-line summary.
DAGBAG_CHILD = """
import json, os, sys
from pathlib import Path
real_stdout = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
from airflow.dag_processing.dagbag import BundleDagBag
root = Path(sys.argv[1])
bag = BundleDagBag(dag_folder=str(root), bundle_path=root)
real_stdout.write(json.dumps({"dags": len(bag.dags), "tasks": sum(len(d.tasks) for d in bag.dags.values()),
                              "import_errors": sorted(bag.import_errors)}) + "\\n")
real_stdout.flush()
"""

# Fixed cost inside (b): interpreter start plus importing Airflow's DagBag, no DAG files.
AIRFLOW_IMPORT_ONLY = "import airflow.dag_processing.dagbag"


@dataclass
class Timing:
    """Wall-clock seconds of each timed run of one command, plus what the last run said."""

    label: str
    seconds: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def build_corpus(root: Path) -> Path:
    """Lay out the scratch DAG folder; returns the folder to scan."""
    import importlib.util

    dags = root / "dags"
    shutil.copytree(SAMPLES / "dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(SAMPLES / "pyproject.toml", root / "pyproject.toml")
    spec = importlib.util.find_spec("airflow")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bench: apache-airflow is not installed in this interpreter; use .venv/bin/python")
    examples = Path(next(iter(spec.submodule_search_locations))) / "example_dags"
    shutil.copytree(examples, dags / "airflow_example_dags", ignore=shutil.ignore_patterns("__pycache__"))
    return dags


def af2kfp_command() -> list[str] | None:
    """The ``af2kfp`` console script next to this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name("af2kfp")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("af2kfp")
    return [found] if found else None


def convert_available(command: list[str]) -> str | None:
    """``None`` when ``af2kfp convert`` exists; otherwise why not, in one line."""
    done = subprocess.run([*command, "convert", "--help"], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit {done.returncode}"


def time_runs(
    label: str, argv: list[str], env: dict[str, str], repeat: int, warmup: int, fresh: Path | None = None
) -> Timing:
    """Run ``argv`` ``warmup + repeat`` times in fresh processes; time the last ``repeat``.

    ``fresh`` is an output folder removed before each run, so every run starts clean.
    """
    timing = Timing(label)
    for index in range(warmup + repeat):
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode not in (0, 1):  # af2kfp: 1 = converted, with findings
            tail = "\n".join(done.stderr.strip().splitlines()[-8:])
            raise RuntimeError(f"{label} failed (exit {done.returncode}):\n{tail}")
        if index >= warmup:
            timing.seconds.append(elapsed)
        timing.note = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return timing


def describe_convert(out: Path) -> str:
    """What the last conversion wrote, from its report.json when there is one."""
    report = out / "report.json"
    if not report.is_file():
        return f"{sum(1 for _ in out.rglob('pipeline.yaml'))} pipeline.yaml written, no report.json"
    summary = json.loads(report.read_text(encoding="utf-8")).get("summary", {})
    return ", ".join(f"{key}={value}" for key, value in summary.items() if not isinstance(value, dict))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each side (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="af2kfp-bench-") as scratch:
        root = Path(scratch)
        dags = build_corpus(root)
        files = sorted(p for p in dags.rglob("*.py"))
        print(f"corpus: {len(files)} .py files under {dags}")
        print(f"        samples/dags + {len(list((dags / 'airflow_example_dags').rglob('*.py')))} from airflow/example_dags")
        print(f"runs:   {args.warmup} warm-up + {args.repeat} timed, each a fresh process; median shown\n")

        home = root / "airflow-home"
        home.mkdir()
        airflow_env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        }
        dagbag = time_runs(
            "DagBag", [sys.executable, "-c", DAGBAG_CHILD, str(dags)], airflow_env, args.repeat, args.warmup
        )
        loaded = json.loads(dagbag.note)
        print(
            f"(b) DagBag (whole process):          median {dagbag.median:6.2f} s  "
            f"min {min(dagbag.seconds):6.2f} s   {loaded['dags']} DAGs, {loaded['tasks']} tasks, "
            f"{len(loaded['import_errors'])} import errors"
        )
        startup = time_runs("Airflow import", [sys.executable, "-c", AIRFLOW_IMPORT_ONLY], airflow_env, args.repeat, 0)
        print(f"    of which starting Python + importing DagBag: median {startup.median:6.2f} s")

        command = af2kfp_command()
        missing = "the af2kfp console script is not installed" if command is None else convert_available(command)
        if missing is not None:
            print(f"(a) af2kfp convert: NOT MEASURED - `af2kfp convert` is not available yet ({missing}).")
            print("    Only the DagBag side was timed; rerun once the converter is on main.")
            return 0
        out = root / "out"
        convert_env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        convert = time_runs(
            "af2kfp convert",
            [*command, "convert", str(dags), "-o", str(out)],
            convert_env,
            args.repeat,
            args.warmup,
            fresh=out,
        )
        print(
            f"(a) af2kfp convert (whole process):  median {convert.median:6.2f} s  "
            f"min {min(convert.seconds):6.2f} s   {describe_convert(out)}"
        )

    ratio = convert.median / dagbag.median
    verdict = "MET" if ratio <= TARGET_RATIO else "MISSED"
    print(f"\nratio convert / DagBag = {ratio:.2f}   target <= {TARGET_RATIO:.2f}: {verdict}")
    return 1 if args.strict and verdict == "MISSED" else 0


if __name__ == "__main__":
    sys.exit(main())
