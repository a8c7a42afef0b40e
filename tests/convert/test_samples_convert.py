"""Every sample DAG converts, compiles, and keeps its dependencies (after folding) in the YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kfp import components

from converters.config import find_pyproject, load_config
from converters.graph import graph_from_json

pytest.importorskip("converters.analysis")

from converters.convert import convert_paths  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dags"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples-out")
    config = load_config(find_pyproject(SAMPLES))
    return out, convert_paths([SAMPLES], out, config=config)


def test_every_sample_dag_compiles(report):
    out, data = report
    assert data["dags"], "no sample DAGs found"
    for dag in data["dags"]:
        assert dag["kfp"]["compiled"], (dag["dag_id"], [f for f in data["findings"] if f["dag_id"] == dag["dag_id"]])
        assert components.load_component_from_file(str(out / dag["kfp"]["yaml"])) is not None


def test_yaml_dependencies_equal_the_folded_migration_graph(report):
    out, data = report
    for dag in data["dags"]:
        graph = graph_from_json(dag["graph"])
        fates = {t["task_id"]: t["fate"] for t in dag["airflow"]["tasks"]}
        kept = {n for n in graph if fates[n] != "folded"}
        closure = set()
        for up in kept:  # ordering through folded tasks survives as a direct edge
            stack, seen = list(graph.successors(up)), set()
            while stack:
                node = stack.pop()
                if node in seen:
                    continue
                seen.add(node)
                if node in kept:
                    closure.add((up, node))
                else:
                    stack.extend(graph.successors(node))
        names = {t["task_id"]: t["kfp_task"] for t in dag["airflow"]["tasks"] if t["kfp_task"]}
        expected = sorted((names[u], names[v]) for u, v in closure)
        spec = next(yaml.safe_load_all((out / dag["kfp"]["yaml"]).read_text()))
        tasks = spec["root"]["dag"]["tasks"]
        actual = sorted((up, name) for name, body in tasks.items() for up in body.get("dependentTasks", []))
        assert actual == expected, dag["dag_id"]


def test_summary_adds_up_on_samples(report):
    _, data = report
    s = data["summary"]
    assert s["tasks"] == s["converted"] + s["folded"] + s["review"] + s["unsupported"]
    assert s["compiled"] == s["dags"]


def test_sample_pipelines_are_black_stable_and_safe(report):
    import black

    from converters.emit.safety import check_module

    out, data = report
    for dag in data["dags"]:
        code = (out / dag["kfp"]["python"]).read_text()
        assert black.format_str(code, mode=black.Mode()) == code, dag["dag_id"]
        assert check_module(code) == [], dag["dag_id"]


def test_samples_report_matches_its_json_schema(report):
    import json

    import jsonschema

    schema = json.loads((Path(__file__).parent / "report.schema.json").read_text())
    jsonschema.validate(report[1], schema)
