"""The analyzer against real Airflow: every DAG Airflow's ``DagBag`` builds from its bundled
examples (core and standard provider) and from ``samples/dags`` must have the same task ids
and edges in the migration graph, or a finding on that DAG that names why. None silent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import importlib.util

import networkx as nx
import pytest

from af2kfp.bridge.airflow_truth import load_with_airflow
from af2kfp.converters.analysis import Analysis, analyze_paths
from af2kfp.converters.graph import graph_from_json, graph_to_json
from af2kfp.converters.values import Call, TaskRef, is_known, to_json

# Located without importing Airflow into the test process (DagBag runs in a child process).
AIRFLOW_DIR = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])
EXAMPLES = [AIRFLOW_DIR / "example_dags", AIRFLOW_DIR / "providers" / "standard" / "example_dags"]
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dags"
# Findings that say "the graph may differ from Airflow's because of this dynamic construct".
EXPLAINING = {"A106", "A107", "A108", "A109", "A110", "A111", "A113", "A114", "A120", "A121"}
COMPARED_ARGS = ("image", "cmds", "command", "arguments", "env", "env_vars", "environment", "retries")


@pytest.fixture(scope="session")
def truth() -> dict[str, Any]:
    """What Airflow builds, loaded once per session in a separate process."""
    folders = [p for p in [*EXAMPLES, SAMPLES] if p.is_dir() and any(p.glob("*.py"))]
    return load_with_airflow(folders)


def _ours(paths: list[Path]) -> tuple[Analysis, dict[tuple[str, str], nx.DiGraph]]:
    analysis = analyze_paths(paths)
    return analysis, {(str(Path(g.graph["dag"].file).resolve()), g.graph["dag"].dag_id): g for g in analysis.graphs}


def _compare(
    truth: dict[str, Any], analysis: Analysis, ours: dict[tuple[str, str], nx.DiGraph], folders: list[Path]
) -> tuple[int, list[str]]:
    """(DAGs that match exactly, unexplained differences)."""
    roots = [str(folder.resolve()) for folder in folders]
    file_codes: dict[str, set[str]] = {}
    for finding in analysis.findings:
        file_codes.setdefault(str(Path(finding.file).resolve()), set()).add(finding.code)
    matched, problems = 0, []
    expected_keys = set()
    for file, dags in sorted(truth["files"].items()):
        if not file.startswith(tuple(roots)):
            continue
        for dag_id, built in sorted(dags.items()):
            expected_keys.add((file, dag_id))
            graph = ours.get((file, dag_id))
            name = f"{Path(file).name}:{dag_id}"
            if graph is None:
                if not file_codes.get(file, set()) & (EXPLAINING | {"A101", "A102"}):
                    problems.append(f"{name}: DAG missing from the analysis, no finding says why")
                continue
            same_tasks = set(graph.nodes) == set(built["tasks"])
            same_edges = set(graph.edges) == {tuple(e) for e in built["edges"]}
            if same_tasks and same_edges:
                matched += 1
                continue
            codes = {f.code for f in graph.graph["findings"]}
            if not codes & EXPLAINING:
                problems.append(
                    f"{name}: tasks only in Airflow {sorted(set(built['tasks']) - set(graph.nodes))}, only here "
                    f"{sorted(set(graph.nodes) - set(built['tasks']))}; edges only in Airflow "
                    f"{sorted({tuple(e) for e in built['edges']} - set(graph.edges))}, only here "
                    f"{sorted(set(graph.edges) - {tuple(e) for e in built['edges']})}"
                )
    for key, graph in ours.items():
        file = key[0]
        if key in expected_keys or file in truth["import_errors"]:
            continue  # a file Airflow itself cannot import (e.g. 1.10 paths) is still converted
        if not {f.code for f in graph.graph["findings"]} & EXPLAINING:
            problems.append(f"{Path(file).name}:{key[1]}: DAG found here but not by Airflow, no finding says why")
    return matched, problems


def test_bundled_example_dags_match_dagbag(truth):
    started = time.perf_counter()
    analysis, ours = _ours(EXAMPLES)
    elapsed = time.perf_counter() - started
    matched, problems = _compare(truth, analysis, ours, EXAMPLES)
    total = sum(len(d) for f, d in truth["files"].items() if not f.startswith(str(SAMPLES.resolve())))
    print(f"\nexample DAGs: {matched}/{total} identical to DagBag; analyzer {elapsed:.2f} s")
    assert total >= 100
    assert problems == []
    assert matched == total


def test_bundled_examples_resolve_args_like_airflow(truth):
    analysis, ours = _ours(EXAMPLES)
    compared, differences = _compare_args(truth, ours)
    assert compared >= 10
    assert differences == []


def test_samples_match_dagbag(truth):
    if not SAMPLES.is_dir() or not any(SAMPLES.glob("*.py")):
        pytest.skip("samples/dags not written yet")
    analysis, ours = _ours([SAMPLES])
    matched, problems = _compare(truth, analysis, ours, [SAMPLES])
    assert problems == []
    assert matched >= 1
    compared, differences = _compare_args(truth, ours)
    assert differences == []
    for file, error in truth["import_errors"].items():
        if file.startswith(str(SAMPLES.resolve())) and "SyntaxError" in error:
            assert any(f.code == "A101" and Path(f.file).resolve() == Path(file) for f in analysis.findings)


def test_every_graph_round_trips_through_json():
    paths = [*EXAMPLES, *([SAMPLES] if SAMPLES.is_dir() else [])]
    for graph in analyze_paths(paths).graphs:
        data = graph_to_json(graph)
        assert graph_to_json(graph_from_json(json.loads(json.dumps(data)))) == data


def _normal(key: str, value: Any) -> Any:
    """Our resolved value in the shape Airflow stores it (env dicts become V1EnvVar lists)."""
    if key == "env_vars" and isinstance(value, dict):
        return [{"name": k, "value": v, "value_from": None} for k, v in value.items()]
    if key == "env_vars" and isinstance(value, list):
        return [
            (
                {"name": c.kwargs.get("name"), "value": c.kwargs.get("value"), "value_from": None}
                if isinstance(c, Call)
                else c
            )
            for c in value
        ]
    return to_json(value)


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, dict) and "$task" in ours:
        return isinstance(theirs, str) and ours["$task"] in theirs
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs))
    return ours == theirs


def _compare_args(truth: dict[str, Any], ours: dict[tuple[str, str], nx.DiGraph]) -> tuple[int, list[str]]:
    compared, differences = 0, []
    for (file, dag_id), graph in ours.items():
        built = truth["files"].get(file, {}).get(dag_id)
        if built is None:
            continue
        for task_id in graph.nodes:
            task = graph.nodes[task_id]["task"]
            theirs = built["tasks"].get(task_id, {}).get("args", {})
            for key in COMPARED_ARGS:
                if key in task.args and key in theirs and is_known(task.args[key]):
                    compared += 1
                    value = task.args[key]
                    if isinstance(value, TaskRef) or not _same(_normal(key, value), theirs[key]):
                        if not (isinstance(value, TaskRef) and isinstance(theirs[key], str)):
                            differences.append(f"{dag_id}.{task_id}.{key}: {to_json(value)!r} != {theirs[key]!r}")
    return compared, differences
