"""Each operator example's Airflow snippet, analyzed for real, maps like the example's task."""

from __future__ import annotations

import textwrap

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.graph import tasks
from af2kfp.converters.mappings import RULE_MODULES, map_task

HEADER = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow import DAG
    from airflow.providers.docker.operators.docker import DockerOperator
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.google.cloud.operators.kubernetes_engine import GKEStartPodOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.cncf.kubernetes.secret import Secret
    from kubernetes.client import models as k8s
    from docker.types import DeviceRequest, Mount

    with DAG("example", schedule=None):
    """
)
CALLS = [
    pytest.param(module, example, id=f"{module.__name__.rsplit('.', 1)[-1]}-{i}")
    for module in RULE_MODULES
    for i, example in enumerate(module.EXAMPLES)
    if example.airflow.split("(")[0].strip().split(" = ")[-1] in {
        "DockerOperator", "KubernetesPodOperator", "GKEStartPodOperator", "BashOperator", "EmptyOperator"}
]


def _comparable(kfp):
    if kfp is None:
        return None
    fields = {k: v for k, v in vars(kfp).items() if k not in ("findings", "fate")}
    return fields, sorted(f.code for f in kfp.findings), kfp.fate


@pytest.mark.parametrize(("module", "example"), CALLS)
def test_snippet_analyzes_to_the_example_task(module, example, tmp_path):
    (tmp_path / "example.py").write_text(HEADER + textwrap.indent(example.airflow, "    ") + "\n")
    analysis = analyze_paths([tmp_path / "example.py"], config=Config())
    assert len(analysis.graphs) == 1, analysis.findings
    (analyzed,) = tasks(analysis.graphs[0])
    mine, _ = map_task(example.task, dag_id="example", config=Config())
    theirs, _ = map_task(analyzed, dag_id="example", config=Config())
    assert _comparable(theirs) == _comparable(mine)
