"""samples/guarded_repo: a lab's operators that skip or fail themselves, converted, compiled, their guards run.

``LabPodOperator.execute`` skips when a module-level Variable flag with a default is set (``DRY_RUN``), when its
templated ``skip`` renders non-empty (Jinja flags from ``include/labflow/flags.py``), when the deployment is in
``skip_envs``; ``SampleSheetOperator`` fails without a rendered sample sheet. Each becomes a guard component
(M320) the pod task runs under; no M284 is left. Pod tasks cannot run here: the guard components are run with
the real ``kfp.local`` for params that skip and params that do not, and must decide as Airflow's execute does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import black
import pytest

from af2kfp.bridge.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = Path("samples/guarded_repo")


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("guarded_repo") / "kfp"
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        assert main(["convert", str(SAMPLE / "dags"), "-o", str(out), "--fail-on", "none", "--no-cache"]) == 0
    finally:
        os.chdir(cwd)
    return out


def test_every_guard_is_evaluated_and_every_task_converted(converted):
    report = json.loads((converted / "report.json").read_text())
    assert report["summary"]["compiled"] == 1 and report["summary"]["converted"] == 5
    codes = {f["code"] for f in report["findings"]}
    assert "M320" in codes and "M284" not in codes and not {"warning", "error"} & {
        f["severity"] for f in report["findings"]}
    [dag] = report["dags"]
    guards = {t["guard_of"]: t for t in dag["kfp"]["tasks"] if t.get("guard_of")}
    assert set(guards) == {"check_sheet", "align", "call_variants", "qc_report", "publish"}
    assert all(t["airflow_task_ids"] == [task_id] for task_id, t in guards.items())
    kept = {t["task_id"]: t["kfp_task"] for t in dag["airflow"]["tasks"]}
    assert kept["align"] == "align" and kept["done"] is None  # the Airflow task maps to its own KFP task


def test_pipeline_reads_as_kfp_and_is_black_stable(converted):
    code = (converted / "sequencing_run" / "pipeline.py").read_text()
    assert black.format_str(code, mode=black.Mode()) == code
    assert re.search(r"with dsl\.If\(publish_guard_task\.output == True\):\n\s+# Airflow: .* publish ", code)
    assert "def publish_guard(publish: str, lab_dry_run: str, lab_env: str) -> bool:" in code
    assert 'if Variable.get("lab_env", default_var="dev") in ["dev", "qa"]:' in code
    assert "sequencing_run(\n    run_id: str = \"\",\n" in code and 'lab_dry_run: str = "off"' in code
    html = (converted / "report.html").read_text()
    assert "under its guard <code>publish-guard</code>" in html


@pytest.fixture(scope="module")
def pipeline_module(converted):
    spec = importlib.util.spec_from_file_location("guarded_pipeline", converted / "sequencing_run" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_guard_components_decide_as_airflow_under_kfp_local(pipeline_module, tmp_path):
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path))
    m = pipeline_module

    def runs(component, **arguments) -> bool:
        return component(**arguments).output

    # Airflow: "{% if params.run_id and params.run_id|length %}{% else %}yes{% endif %}" renders "yes" -> skip
    assert runs(m.align_guard, run_id="", lab_dry_run="off") is False
    assert runs(m.align_guard, run_id="R-17", lab_dry_run="off") is True
    assert runs(m.align_guard, run_id="R-17", lab_dry_run="on") is False  # DRY_RUN, the Variable-driven flag
    assert runs(m.call_variants_guard, call_variants="yes", lab_dry_run="off") is True
    assert runs(m.call_variants_guard, call_variants="no", lab_dry_run="off") is False
    assert runs(m.publish_guard, publish="yes", lab_dry_run="off", lab_env="prod") is True
    assert runs(m.publish_guard, publish="yes", lab_dry_run="off", lab_env="dev") is False  # skip_envs
    assert runs(m.qc_report_guard, lab_dry_run="off") is True
    assert runs(m.check_sheet_guard, run_id="R-17") is True
    with pytest.raises(RuntimeError):  # AirflowFailException: the guard task fails, as the Airflow task does
        m.check_sheet_guard(run_id="")
