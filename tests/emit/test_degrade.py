"""A task kfp's compiler rejects costs that task, not the DAG: a placeholder with the same outputs stands in,
the rest compiles with the real kfp compiler (faults injected into the mapping's output, as real DAGs cause them)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.emit.compile import compile_pipeline
from af2kfp.converters.emit.degrade import compile_degrading
from af2kfp.converters.emit.pipeline_py import render_pipeline
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.mappings.model import Input, Loop

CHAIN = """
    from airflow.sdk import DAG, task
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    with DAG("chain"):
        @task
        def extract() -> int:
            return 3

        @task
        def double(n: int) -> int:
            return 2 * n

        @task
        def report(total: int) -> None:
            print("total", total)

        pod = KubernetesPodOperator(task_id="pod", name="pod", image="busybox:1.36", cmds=["true"])
        report(double(extract())) >> pod
"""


def _mapped(tmp_path: Path, code: str = CHAIN):
    (tmp_path / "dag.py").write_text(textwrap.dedent(code), encoding="utf-8")
    (graph,) = analyze_paths([tmp_path]).graphs
    return map_graph(graph, Config())


def _compile(mapped):
    emitted = render_pipeline(mapped)
    info = mapped.graph.graph["dag"]
    return emitted, compile_pipeline(emitted.code, emitted.names.pipeline, dag_id=info.dag_id, file=info.file,
                                     line=info.line)


def _task(mapped, task_id):
    return next(t for t in mapped.tasks if t.task_id == task_id)


def _degrade(mapped):
    emitted, failed = _compile(mapped)
    assert failed.yaml is None and failed.error, "the injected fault must make kfp fail"
    return compile_degrading(mapped, emitted, failed, Config()), failed


def _spec_tasks(text: str) -> dict:
    return next(yaml.safe_load_all(text))["root"]["dag"]["tasks"]


@pytest.mark.parametrize("fault,error", [
    (lambda t: t.arguments.update(n=None), "Constant argument inputs must be one of type"),
    (lambda t: t.arguments.update(n="three"), "InconsistentTypeException"),
])
def test_rejected_argument_costs_only_its_task(tmp_path, fault, error):
    mapped = _mapped(tmp_path)
    fault(_task(mapped, "double"))
    degraded, failed = _degrade(mapped)
    assert error in failed.error
    assert degraded is not None and degraded.compiled.yaml is not None
    stand_in = _task(degraded.mapped, "double")
    assert (stand_in.kind, stand_in.fate, stand_in.arguments) == ("placeholder", "unsupported", {})
    assert stand_in.python is not None and stand_in.python.returns == "int"  # its reader still reads an int
    assert degraded.mapped.fates == {"extract": "converted", "double": "unsupported", "report": "converted",
                                     "pod": "converted"}
    (finding,) = [f for f in degraded.mapped.findings if f.code == "E306"]
    assert (finding.task_id, finding.severity.value) == ("double", "error") and error in finding.message
    tasks = _spec_tasks(degraded.compiled.yaml)
    assert set(tasks) == {"extract", "double", "report", "pod"}
    assert tasks["report"]["inputs"]["parameters"]["total"]["taskOutputParameter"]["producerTask"] == "double"
    assert tasks["pod"]["dependentTasks"] == ["report"]
    assert "raise RuntimeError('af2kfp placeholder: Airflow task double" in degraded.emitted.code


def test_a_setter_kfp_rejects_costs_its_task(tmp_path):
    mapped = _mapped(tmp_path)
    _task(mapped, "pod").image_pull_policy = "{{ var.value.pull_policy }}"  # a Jinja pull policy
    degraded, failed = _degrade(mapped)
    assert "Invalid imagePullPolicy" in failed.error
    assert degraded is not None and degraded.compiled.yaml is not None
    assert _task(degraded.mapped, "pod").kind == "placeholder" and _task(degraded.mapped, "pod").command == ["sh", "-c"]
    assert {t for t, fate in degraded.mapped.fates.items() if fate == "unsupported"} == {"pod"}
    assert "set_image_pull_policy" not in degraded.emitted.code


def test_a_loop_kfp_rejects_is_dropped_from_its_task(tmp_path):
    mapped = _mapped(tmp_path)
    report = _task(mapped, "report")
    report.loops = (Loop(variable="n_item", items=Input(name="n", task_id="double"), scope="report"),)  # over an int
    degraded, failed = _degrade(mapped)
    assert "ParallelFor" in failed.error
    assert degraded is not None and degraded.compiled.yaml is not None
    stand_in = _task(degraded.mapped, "report")
    assert stand_in.kind == "placeholder" and stand_in.loops == ()
    (finding,) = [f for f in degraded.mapped.findings if f.code == "E306"]
    assert "its loop was dropped, it runs once" in finding.message


def test_nothing_helps_keeps_the_first_error(tmp_path):
    mapped = _mapped(tmp_path)
    _task(mapped, "extract").python.params.append(("Output", "dsl.OutputPath(bool)", None))  # kept by its stand-in
    degraded, failed = _degrade(mapped)
    assert degraded is None and "invalid parameter name" in failed.error


@pytest.mark.slow
def test_degraded_pipeline_runs_up_to_its_placeholder(tmp_path):
    """kfp.local runs the tasks before the stand-in, and the stand-in fails with its message."""
    mapped = _mapped(tmp_path)
    _task(mapped, "double").arguments.update(n=None)
    degraded, _ = _degrade(mapped)
    module = tmp_path / "pipeline.py"
    module.write_text(degraded.emitted.code, encoding="utf-8")
    runner = textwrap.dedent(f"""
        import importlib.util, sys
        from kfp import local
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
        spec = importlib.util.spec_from_file_location("degraded", {str(module)!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            module.chain()
        except RuntimeError as exc:
            print("FAILED", exc)
    """)
    done = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, cwd=tmp_path)
    log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # kfp.local colours its log
    assert "FAILED" in done.stdout and "double" in done.stdout, log
    assert "af2kfp placeholder: Airflow task double" in log
    assert "Task 'extract' finished with status SUCCESS" in log, log
