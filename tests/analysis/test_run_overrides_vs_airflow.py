"""What a repository operator's ``execute`` sets before calling the parent's, the analyzer against Airflow.

Airflow loads the DAGs (in a child process) and runs each such task's own ``execute`` with the
KubernetesPodOperator's ``execute`` replaced by a recorder (there is no cluster here; the recorder
keeps what the parent would build the pod from: the attributes on ``self`` when it is called). The
analyzer's ``arguments`` + ``at_run`` must hold the same values; a task Airflow skips must carry M285.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.environment import load_variables
from af2kfp.converters.graph import tasks
from af2kfp.converters.values import Call

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "repo_style"
COMPARED = ("image", "cmds", "arguments", "env_vars", "image_pull_policy", "image_pull_secrets", "volumes",
            "volume_mounts", "labels")

_CHILD = textwrap.dedent("""
    import json, sys
    from unittest import mock
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models.dagbag import DagBag  # Airflow 2
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import ApiClient

    folder, names = sys.argv[1], json.loads(sys.argv[2])
    sys.path[:0] = json.loads(sys.argv[3])
    render = sys.argv[4:] == ["render"]  # as Airflow runs a task: its template fields rendered first
    bag = DagBag(dag_folder=folder, collect_dags=True)
    assert not bag.import_errors, bag.import_errors
    plain = ApiClient().sanitize_for_serialization
    found = {}

    def record(self, context):
        found[self.task_id] = {name: plain(getattr(self, name, None)) for name in names}

    for dag in bag.dags.values():
        for task in dag.tasks:
            if not isinstance(task, KubernetesPodOperator):  # the sample's Python tasks (supplier_scorecard)
                continue
            if "execute" not in type(task).__dict__ and not any(
                    "execute" in vars(c) for c in type(task).__mro__[1:type(task).__mro__.index(KubernetesPodOperator)]):
                continue
            with mock.patch.object(KubernetesPodOperator, "execute", record):
                try:
                    context = {"params": dict(dag.params)}
                    if render:
                        task.render_template_fields(context)
                    task.execute(context)
                except Exception as exc:
                    found[task.task_id] = {"raised": type(exc).__name__}
    print(json.dumps(found))
""")


def _airflow_side(folder: Path, sys_path: list[Path], variables: dict[str, Any], render: bool = False) -> dict[str, Any]:
    env = {**os.environ, "AIRFLOW__CORE__UNIT_TEST_MODE": "True", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    env.update({f"AIRFLOW_VAR_{k.upper()}": v if isinstance(v, str) else json.dumps(v) for k, v in variables.items()})
    done = subprocess.run([sys.executable, "-c", _CHILD, str(folder), json.dumps(COMPARED),
                           json.dumps([str(p) for p in sys_path]), *(["render"] if render else [])],
                          env={**env, "AIRFLOW_HOME": str(folder.parent / "airflow-home")},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _plain(value: Any) -> Any:
    """The analyzer's value as the Kubernetes client serialises the model: camelCase keys, no Nones."""
    if isinstance(value, Call):
        return {_camel(k): _plain(v) for k, v in value.kwargs.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _analyzer_side(folder: Path, config: Config) -> dict[str, dict[str, Any]]:
    found = {}
    for graph in analyze_paths([folder], config=config).graphs:
        for task in tasks(graph):
            if task.inherits is not None and (task.inherits.at_run or task.inherits.notes):
                found[task.task_id] = (
                    {**task.inherits.arguments, **task.inherits.at_run},
                    {kind for kind, _, _ in task.inherits.notes},
                )
    return found


def _compare(airflow: dict[str, Any], analyzer: dict[str, Any]) -> None:
    assert set(airflow) == set(analyzer)
    for task_id, recorded in airflow.items():
        arguments, notes = analyzer[task_id]
        if "raised" in recorded:
            assert recorded["raised"] == "AirflowSkipException" and "always_ends" in notes, task_id
            continue
        for name in COMPARED:
            theirs = recorded[name]
            ours = _plain(arguments.get(name))
            if theirs in ([], {}, None) and ours is None:
                continue  # not given: the parent's empty default
            assert ours == theirs, f"{task_id}.{name}: analyzer {ours!r}, Airflow {theirs!r}"


def test_the_repository_sample_builds_the_same_pod(tmp_path):
    variables = json.loads((SAMPLE / "airflow_variables.json").read_text())
    airflow = _airflow_side(SAMPLE / "dags", [SAMPLE, SAMPLE / "plugins"], variables)
    config = Config(environment=load_variables(SAMPLE / "airflow_variables.json"), root=str(SAMPLE))
    analyzer = _analyzer_side(SAMPLE / "dags", config)
    assert set(airflow) == {"ltv_features", "ltv_scores"}
    _compare(airflow, analyzer)


SNIPPETS = """
    from airflow.sdk import DAG
    from airflow.sdk.exceptions import AirflowSkipException
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s

    STAGE = "qa"


    class Base(KubernetesPodOperator):
        def __init__(self, registry_secret=None, skip=False, **kwargs):
            super().__init__(**kwargs)
            self.registry_secret = registry_secret
            self.skip = skip

        def execute(self, context):
            if self.skip:
                raise AirflowSkipException()
            if self.registry_secret:
                self.image_pull_secrets = [k8s.V1LocalObjectReference(name=self.registry_secret)]
            self.volumes = [k8s.V1Volume(name="conf", config_map=k8s.V1ConfigMapVolumeSource(name="conf"))]
            self.volume_mounts = [k8s.V1VolumeMount(name="conf", mount_path="/conf")]
            if STAGE == "prod":
                self.volume_mounts.append(k8s.V1VolumeMount(name="conf", mount_path="/prod"))
            super().execute(context)


    class Job(Base):
        def __init__(self, job, **kwargs):
            super().__init__(registry_secret="registry", **kwargs)
            self.job = job

        def execute(self, context):
            self.arguments = ["run", self.job, *self.arguments]
            self.env_vars.append(k8s.V1EnvVar(name="JOB", value=self.job))
            self.labels["job"] = self.job
            return super().execute(context)


    with DAG("jobs", schedule=None):
        Job(task_id="load", job="load", image="jobs:2", env_vars={"MODE": "full"}, arguments=["--fast"])
        Job(task_id="skipped", job="old", image="jobs:2", skip=True)
        Base(task_id="plain", image="base:1", image_pull_policy="Always")
"""


def test_two_levels_of_overrides_build_the_same_pod(tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "jobs.py").write_text(textwrap.dedent(SNIPPETS))
    airflow = _airflow_side(folder, [], {})
    assert airflow["skipped"] == {"raised": "AirflowSkipException"}
    _compare(airflow, _analyzer_side(folder, Config()))


TEMPLATED = """
    from airflow.sdk import DAG
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator


    class Refresh(KubernetesPodOperator):
        template_fields = (*KubernetesPodOperator.template_fields, "mode")

        def __init__(self, mode="{{ params.mode }}", note="{{ params.note }}", **kwargs):
            super().__init__(image="dbt:1", **kwargs)
            self.mode, self.note = mode, note

        def execute(self, context):
            self.arguments = ["run", "{{ params.mode }}"]
            if self.mode.lower() == "full":
                self.arguments.append("--full-refresh")
            if self.note:
                self.arguments += ["--note", self.note]
            super().execute(context)


    with DAG("refresh", schedule=None, params={"mode": "FULL", "note": ""}):
        Refresh(task_id="refresh")
"""


def test_execute_sees_template_fields_rendered_and_other_attributes_as_written(tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "refresh.py").write_text(textwrap.dedent(TEMPLATED))
    airflow = _airflow_side(folder, [], {}, render=True)["refresh"]
    # Airflow: `mode` (a template field) is rendered before execute; `note` is not, so its text goes on as written,
    # and Jinja written in execute is not rendered either.
    assert airflow["arguments"] == ["run", "{{ params.mode }}", "--full-refresh", "--note", "{{ params.note }}"]
    [graph] = analyze_paths([folder], config=Config()).graphs
    [task] = tasks(graph)
    ours = task.inherits.at_run["arguments"]
    # The analyzer keeps the side where `self.mode.lower() == "full"` holds (A120: not known at conversion) and
    # says what the KFP task would render that Airflow passes as written (M281 notes), never silently.
    assert ours == airflow["arguments"]
    assert any(f.code == "A120" and "self.mode.lower()" in f.message for f in graph.graph["findings"])
    notes = " ".join(message for kind, _, message in task.inherits.notes if kind == "not_carried")
    assert "`self.note` is not among its template_fields" in notes and "writes Jinja" in notes
