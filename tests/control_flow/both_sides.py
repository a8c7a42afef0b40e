"""Run DAG files on both sides: Airflow's own ``dag.test()`` and, converted, ``kfp.local``.

Each side runs in a child process (Airflow with a fresh SQLite database); every task
appends its name to ``$CF_MARKERS``, a file per DAG and side, so the lines tell which
tasks ran. Shared by the control-flow tests that compare the two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from converters.convert import convert_paths

__all__ = ["BothSides", "run_both", "markers"]

_AIRFLOW = """
import json, os, sys
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
from airflow.utils import db

db.resetdb()
DagBundlesManager().sync_bundles_to_db()
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
sync_bag_to_db(bag, "dags-folder", None)
states = {}
for dag_id in json.loads(sys.argv[2]):
    os.environ["CF_MARKERS"] = os.path.join(sys.argv[3], dag_id + ".airflow")
    open(os.environ["CF_MARKERS"], "w").close()
    states[dag_id] = str(bag.dags[dag_id].test().state)
print("STATES " + json.dumps(states))
"""

_KFP = """
import importlib.util, json, os, sys
from kfp import local

local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=os.path.join(sys.argv[2], "root"))
states = {}
for dag_id, folder in json.loads(sys.argv[1]).items():
    os.environ["CF_MARKERS"] = os.path.join(sys.argv[2], dag_id + ".kfp")
    open(os.environ["CF_MARKERS"], "w").close()
    spec = importlib.util.spec_from_file_location("pipeline_" + dag_id, os.path.join(folder, "pipeline.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pipeline = getattr(module, [n for n in dir(module) if getattr(getattr(module, n), "pipeline_spec", None)
                                and n.replace("_", "-") == dag_id.replace("_", "-")][0])
    try:
        pipeline()
        states[dag_id] = "success"
    except RuntimeError:
        states[dag_id] = "failed"
print("STATES " + json.dumps(states))
"""


def _states(output: str) -> dict[str, str]:
    return json.loads(output[output.rindex("STATES ") + len("STATES "):].splitlines()[0])


def markers(path: Path) -> Counter[str]:
    """The names a side wrote, with how often (a mapped task writes once per item)."""
    return Counter(line for line in path.read_text(encoding="utf-8").splitlines() if line)


@dataclass(frozen=True)
class BothSides:
    """``out``: the folder of the marker files (``<dag_id>.airflow``, ``<dag_id>.kfp``)."""

    out: Path
    report: dict
    folders: dict[str, str]
    airflow: dict[str, str]
    kfp: dict[str, str]


def run_both(dags: Path, out: Path, timeout: float = 900) -> BothSides:
    """Convert ``dags`` into ``out/kfp`` and run every compiled DAG on both sides; the run states."""
    report = convert_paths([dags], out / "kfp")
    folders = {d["dag_id"]: str(out / "kfp" / d["folder"]) for d in report["dags"] if d["kfp"]["compiled"]}
    home = out / "airflow"
    home.mkdir()
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}
    airflow = subprocess.run([sys.executable, "-c", _AIRFLOW, str(dags), json.dumps(sorted(folders)), str(out)],
                             env=env, capture_output=True, text=True, timeout=timeout)
    assert airflow.returncode == 0, airflow.stderr[-3000:]
    kfp = subprocess.run([sys.executable, "-c", _KFP, json.dumps(folders), str(out)], capture_output=True, text=True,
                         timeout=timeout, cwd=out)
    assert kfp.returncode == 0, kfp.stderr[-3000:]
    return BothSides(out, report, folders, _states(airflow.stdout), _states(kfp.stdout))
