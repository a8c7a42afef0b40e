"""An f-string only some of whose expressions are unknown (``f"aws s3 sync s3://{bucket_for(REGION)}/in"``)
keeps its known text; each unknown expression becomes a pipeline parameter the run supplies (M205),
instead of the f-string's source text running as a shell script."""

from __future__ import annotations

import textwrap

import yaml

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.convert import convert_paths
from af2kfp.converters.values import Deferred, from_json, to_json

DAG = """
    import os
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from helpers import bucket_for  # not in the scanned folder

    REGION = os.environ["REGION"]
    PREFIX = "in"

    with DAG("partial_fstrings", schedule=None):
        BashOperator(task_id="sync", bash_command=f"aws s3 sync s3://{bucket_for(REGION)}/{PREFIX} /data --region {REGION}")
        KubernetesPodOperator(task_id="pod", name="pod", image="amazon/aws-cli:2", cmds=["bash", "-c"],
                              arguments=[f"aws s3 ls s3://{bucket_for(REGION)}/ && echo {REGION}"])
"""


def _write(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "dag.py").write_text(textwrap.dedent(DAG), encoding="utf-8")
    return tmp_path / "dags"


def test_the_analyzer_keeps_the_known_text(tmp_path):
    (graph,) = analyze_paths([_write(tmp_path)]).graphs
    command = graph.nodes["sync"]["task"].args["bash_command"]
    assert command.parts == ("aws s3 sync s3://", Deferred(source="bucket_for(REGION)", needs=("env REGION",)), "/in /data --region ",
                             Deferred(source="REGION", needs=("env REGION",)))  # an environment read: --env says it
    assert from_json(to_json(command)) == command


def test_unknown_expressions_become_pipeline_parameters(tmp_path):
    report = convert_paths([_write(tmp_path)], tmp_path / "out")
    dag = report["dags"][0]
    assert dag["kfp"]["compiled"] is True
    assert [(p["name"], p["kind"], "default" in p) for p in dag["kfp"]["parameters"]] == [
        ("bucket_for_region", "value", False), ("region", "value", False)]
    code = (tmp_path / "out" / "partial_fstrings" / "pipeline.py").read_text()
    assert 'f"aws s3 sync s3://{bucket_for_region}/in /data --region {region}"' in code
    assert "'f\"aws" not in code  # never the f-string's source as a script
    messages = [f["message"] for f in report["findings"] if f["code"] == "M205"]
    assert len(messages) == 2 and "`bucket_for(REGION)` -> pipeline parameter `bucket_for_region`" in messages[0]
    spec = next(yaml.safe_load_all((tmp_path / "out" / "partial_fstrings" / "pipeline.yaml").read_text()))
    assert set(spec["root"]["inputDefinitions"]["parameters"]) == {"bucket_for_region", "region"}
