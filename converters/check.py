"""Findings of DAG files without compiling or writing anything: what ``af2kfp check`` reports.

A pre-commit hook runs ``check`` on one or two files many times a day, so it analyzes, maps and
emits each DAG as ``convert`` does (same findings, same order) but neither compiles with kfp
(never imported here) nor renders reports. What only compiling finds (E301 a pipeline kfp
rejects, E311 a spec that would not load back, the placeholders of tasks kfp rejected) is left
to ``convert`` or ``check --compile``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from af2kfp.converters.config import Config
from af2kfp.converters.findings import Finding, Severity

__all__ = ["check_paths"]


def check_paths(paths: Iterable[Path | str], config: Config | None = None) -> dict[str, Any]:
    """``{"summary": {"dags", "findings"}, "findings": [...]}`` for the DAGs under ``paths``, in
    ``report.json``'s shapes and ``convert``'s order, minus what only compiling finds."""
    from af2kfp.converters.analysis import analyze_paths
    from af2kfp.converters.convert import DUPLICATE_DAG, _dag_finding, _generate, pipeline_names, schedule_spec
    from af2kfp.converters.graph import dag_info
    from af2kfp.converters.mappings import check_config

    config = config or Config()
    check_config(config)
    analysis = analyze_paths([Path(p) for p in paths], config=config)
    pipelines = pipeline_names(analysis.graphs)
    found: list[Finding] = list(analysis.findings)
    seen: set[str] = set()
    for graph in analysis.graphs:
        result = _generate(graph, config, pipelines)
        info = dag_info(graph)
        if info.dag_id in seen:
            result.findings.append(_dag_finding(DUPLICATE_DAG, graph, f"dag_id {info.dag_id!r} is defined more than once"))
        seen.add(info.dag_id)
        if result.emitted is not None:  # what convert's schedule.json adds (it is written only when emitted)
            result.findings.extend(schedule_spec(result).findings)
        found += result.all_findings()
    findings = [f.to_json() for f in found]
    counts = {s.value: sum(1 for f in findings if f["severity"] == s.value) for s in Severity}
    return {"summary": {"dags": len(analysis.graphs), "findings": {**counts, "total": len(findings)}},
            "findings": findings}
