"""Every sample DAG converts, compiles, and keeps its dependencies (after folding) in the YAML."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
import yaml
from kfp import components

from af2kfp.converters.config import find_pyproject, load_config
from af2kfp.converters.emit.spec_tasks import spec_tasks
from af2kfp.converters.graph import graph_from_json

pytest.importorskip("af2kfp.converters.analysis")

from af2kfp.converters.convert import convert_paths  # noqa: E402

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


def _runs_after(spec: dict):
    """``(u, v) -> bool``: KFP starts task ``v`` only after task ``u`` (task keys of spec_tasks).

    At the first DAG where their group paths part (a dsl.If block, a loop, an exit handler,
    a sub-pipeline are each one node of the DAG around them), ``v``'s node must depend on
    ``u``'s node through ``dependentTasks``.
    """
    leaves = {t.key: t.path + (t.name,) for t in spec_tasks(spec)}
    components = spec.get("components") or {}
    graphs: dict[tuple[str, ...], nx.DiGraph] = {}

    def walk(tasks: dict, path: tuple[str, ...]) -> None:
        graph = graphs.setdefault(path, nx.DiGraph())
        for name, body in tasks.items():
            graph.add_node(name)
            for up in body.get("dependentTasks") or []:
                graph.add_edge(up, name)
            sub = ((components.get((body.get("componentRef") or {}).get("name", "")) or {}).get("dag") or {})
            if "tasks" in sub:
                walk(sub["tasks"], path + (name,))

    walk(spec["root"]["dag"]["tasks"], ())

    def runs_after(u: str, v: str) -> bool:
        pu, pv = leaves[u], leaves[v]
        i = next(i for i, (a, b) in enumerate(zip(pu, pv)) if a != b)
        graph = graphs[pu[:i]]
        return pu[i] in graph and pv[i] in graph and nx.has_path(graph, pu[i], pv[i])

    return runs_after


def test_every_airflow_ordering_survives_in_the_compiled_pipeline(report):
    out, data = report
    for dag in data["dags"]:
        graph = graph_from_json(dag["graph"])
        kept = {t["task_id"] for t in dag["airflow"]["tasks"] if t["kfp_task"]}  # not folded into the edges
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
        spec = next(yaml.safe_load_all((out / dag["kfp"]["yaml"]).read_text()))
        runs_after = _runs_after(spec)
        missing = [(u, v) for u, v in sorted(closure) if not runs_after(names[u], names[v])]
        assert not missing, dag["dag_id"]


def test_summary_adds_up_on_samples(report):
    _, data = report
    s = data["summary"]
    assert s["tasks"] == s["converted"] + s["folded"] + s["review"] + s["unsupported"]
    assert s["compiled"] == s["dags"]


def test_sample_pipelines_are_black_stable_and_safe(report):
    import black

    from af2kfp.converters.emit.safety import check_module

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


def test_every_fate_follows_the_one_rule(report):
    """converted = no finding above info about the task; review = a warning or error about it; unsupported =
    a placeholder; folded = merged into the edges with nothing above info (af2kfp.converters.mappings.base.fate_of)."""
    _, data = report
    for dag in data["dags"]:
        kinds = {t["display_name"]: t["kind"] for t in dag["kfp"]["tasks"]}
        for task in dag["airflow"]["tasks"]:
            about = [f for f in data["findings"]
                     if f["dag_id"] == dag["dag_id"] and f["file"] == dag["file"] and f["task_id"] == task["task_id"]]
            worst = max((("info", "warning", "error").index(f["severity"]) for f in about), default=0)
            kind = kinds.get(task["task_id"])
            expected = ("unsupported" if kind == "placeholder" else "review" if worst >= 1
                        else "folded" if kind is None else "converted")
            assert task["fate"] == expected, (dag["dag_id"], task["task_id"], [f["code"] for f in about])
