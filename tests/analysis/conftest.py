"""Helpers for analyzer tests: analyze dedented DAG snippets written to a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import networkx as nx
import pytest

from af2kfp.converters.analysis import Analysis, analyze_paths
from af2kfp.converters.config import Config


@pytest.fixture
def analyze(tmp_path: Path) -> Callable[..., Analysis]:
    """``analyze(code, files={"helpers/tasks.py": ...})`` writes ``dag.py`` and helpers, analyzes the folder."""

    def run(code: str, config: Config | None = None, files: dict[str, str] | None = None) -> Analysis:
        (tmp_path / "dag.py").write_text(textwrap.dedent(code), encoding="utf-8")
        for name, text in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return analyze_paths([tmp_path], config=config or Config())

    return run


def only_graph(analysis: Analysis) -> nx.DiGraph:
    assert len(analysis.graphs) == 1, [g.graph["dag"].dag_id for g in analysis.graphs]
    return analysis.graphs[0]


def edges(graph: nx.DiGraph) -> set[tuple[str, str]]:
    return set(graph.edges())


def codes_of(graph_or_analysis: object) -> list[str]:
    if isinstance(graph_or_analysis, nx.DiGraph):
        return [f.code for f in graph_or_analysis.graph["findings"]]
    return [f.code for f in graph_or_analysis.findings]  # type: ignore[attr-defined]
