"""One DAG converted in memory: what the report and the writer need to know about it."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from af2kfp.converters.emit.pipeline_py import EmittedPipeline
from af2kfp.converters.findings import Finding
from af2kfp.converters.graph import findings as graph_findings
from af2kfp.converters.mappings.model import MappedDag

__all__ = ["DagResult"]


@dataclass
class DagResult:
    """Mapping, emitted module and compiled YAML of one DAG, and the names KFP gave its tasks.

    ``findings`` are the emit/compile findings; :meth:`all_findings` adds the analyzer's
    and the mapping's. ``kfp_names``: Airflow task id -> KFP task name (read from the
    compiled YAML when there is one); ``kfp_edges``: ``(upstream, downstream)`` KFP names;
    ``folder``: the DAG's output folder, relative to the output root; ``schedule``, ``python``,
    ``yaml_file``: the written files, relative to the output root.
    """

    graph: nx.DiGraph
    mapped: MappedDag | None
    emitted: EmittedPipeline | None
    yaml: str | None
    findings: list[Finding] = field(default_factory=list)
    kfp_names: dict[str, str] = field(default_factory=dict)
    kfp_edges: list[tuple[str, str]] = field(default_factory=list)
    # Airflow task id -> the KFP control-flow groups around its task, as (id, label), outermost first.
    kfp_groups: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    folder: str = ""
    schedule: str | None = None
    # The written pipeline.py / pipeline.yaml, relative to the output root (``pipeline.generated.py``
    # when a user's edited file was kept, None when nothing was written).
    python: str | None = None
    yaml_file: str | None = None

    @property
    def compiled(self) -> bool:
        return self.yaml is not None

    def all_findings(self) -> list[Finding]:
        """Analyzer, mapping and emit findings about this DAG, in that order."""
        mapped = self.mapped.findings if self.mapped else []
        return [*graph_findings(self.graph), *mapped, *self.findings]
