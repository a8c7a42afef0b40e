"""The fuzz harness (bench/fuzz_convert.py) on a fixed sample, and every case it ever failed on.

The sample is the first cases of a fixed seed, run by the harness itself in watched worker
processes (a crash of a native parser shows as a failed case, not a dead test runner). The
acceptance run of 10,000 cases is ``bench/fuzz_convert.py --cases 10000`` (bench/README.md).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = sorted((Path(__file__).parent / "regressions").glob("*.py"))
GOOD = (
    "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
    "with DAG('good_dag', start_date=datetime(2024, 1, 1), schedule=None):\n"
    "    BashOperator(task_id='hello', bash_command='echo hi')\n"
)
_MAIN = "import sys\nfrom af2kfp.bridge.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_convert", ROOT / "bench" / "fuzz_convert.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_cases_are_reproducible():
    fuzz = _harness()
    assert fuzz.make_case(11, 5) == fuzz.make_case(11, 5)
    assert {fuzz.make_case(11, i)[0] for i in range(60)} == set(fuzz.GENERATORS)


def test_fixed_sample_has_no_crash_hang_or_traceback(tmp_path):
    """200 cases of seed 2026; the time limit is the harness's 30 s, doubled for a loaded test machine."""
    figures = _harness().run(2026, 200, jobs=2, case_timeout=60.0, failures=tmp_path / "failures")
    assert figures["cases"] == 200
    assert figures["failures"] == [], json.dumps(figures["failures"][:3], indent=2)


@pytest.mark.parametrize("case", REGRESSIONS, ids=lambda p: p.stem)
def test_regression_case_beside_a_good_dag(case, tmp_path):
    """Each case the harness once failed on: no internal error, no traceback, and the good DAG converts."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "good.py").write_text(GOOD)
    (dags / case.name).write_bytes(case.read_bytes())
    done = subprocess.run([sys.executable, "-c", _MAIN, "convert", str(dags), "-o", str(tmp_path / "out"),
                           "--fail-on", "none", "-j", "1"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert next(d for d in report["dags"] if d["dag_id"] == "good_dag")["kfp"]["compiled"]
