"""``report.json``: everything a conversion produced, enough to rebuild any report from it.

Documented field by field in ``docs/report-json.md``; ``schema_version`` changes when a
field changes meaning or goes away (adding a field does not change it). Paths of
generated files are relative to the folder holding ``report.json``.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterable

from af2kfp.converters.emit.pipeline_py import operator_label
from af2kfp.converters.emit.run_context import run_context_task
from af2kfp.converters.emit.result import DagResult
from af2kfp.converters.findings import Finding, Severity
from af2kfp.converters.graph import dag_info, graph_to_json, order_edges, tasks
from af2kfp.converters.mappings.model import FATES, FileText, Input, KfpTask, Template
from af2kfp.converters.mappings.values import is_secret_env
from af2kfp.converters.run_context import RUN_CONTEXT_DISPLAY, RUN_CONTEXT_ID
from af2kfp.converters.templating import ParamRef, PipelineParameter, PlaceholderRef
from af2kfp.converters.values import to_json

__all__ = ["SCHEMA_VERSION", "build_report", "summarize", "max_severity", "redacted_graph", "code_spans"]

SCHEMA_VERSION = 1
# Resolved values that must not be written out; a redacted value reads back as Symbolic.
REDACTED = {"$symbolic": "<redacted by af2kfp>"}
_SECRET_KEY = re.compile(r"(^|_)(password|passwd|token|api_key|apikey|private_key|secret_key|access_key|credentials?)$", re.I)


def _part(part: Any) -> Any:
    """One part of a template: text, or the reference it is built from."""
    if isinstance(part, ParamRef):
        return {"parameter": part.name}
    if isinstance(part, PlaceholderRef):
        return {"placeholder": part.constant}
    return _item(part)


def _item(value: Any) -> Any:
    if isinstance(value, Input):
        named = {"output": value.key} if value.key != "return_value" else {}
        return {"input": value.name, "from_task": value.task_id, **named}
    if isinstance(value, ParamRef):
        return {"parameter": value.name}
    if isinstance(value, Template):
        return {"template": [_part(p) for p in value.parts], "input": value.name}
    if isinstance(value, FileText):
        return {"file": value.file}
    return to_json(value)


def _parameter(parameter: PipelineParameter) -> dict[str, Any]:
    data = {"name": parameter.name, "kind": parameter.kind, "type": parameter.type, "airflow": parameter.airflow}
    return data | ({"default": to_json(parameter.default)} if parameter.has_default else {})


def _plain_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements inside ``with dsl.If/ParallelFor/ExitHandler`` blocks too, without the blocks."""
    out: list[ast.stmt] = []
    for stmt in body:
        out += _plain_statements(stmt.body) if isinstance(stmt, ast.With) else [stmt]
    return out


def code_spans(result: DagResult) -> dict[str, dict[str, list[int]]]:
    """Per Airflow task id: 1-based ``[first, last]`` lines of its component and its task in ``pipeline.py``.

    The task span starts at its ``# Airflow:`` comment and covers every statement on its variable.
    """
    if result.emitted is None or result.mapped is None:
        return {}
    try:
        tree = ast.parse(result.emitted.code)
    except SyntaxError:  # the compile step reports the module; no spans to show
        return {}
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    variables = set(result.emitted.names.variable.values())
    statements: dict[str, list[ast.stmt]] = {}
    pipelines = [fn for fn in defs.values() if any("pipeline" in ast.unparse(d) for d in fn.decorator_list)]
    for stmt in _plain_statements([s for fn in pipelines for s in fn.body]):  # owner: first task variable named
        used = [n for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id in variables]
        if used:
            owner = min(used, key=lambda n: (n.lineno, n.col_offset)).id
            statements.setdefault(owner, []).append(stmt)
    spans = {}
    for kfp in _kfp_tasks(result):
        fn = defs.get(result.emitted.names.component[kfp.task_id])
        own = statements.get(result.emitted.names.variable[kfp.task_id], [])
        spans[kfp.task_id] = {
            "component": [min([d.lineno for d in fn.decorator_list] + [fn.lineno]), fn.end_lineno or fn.lineno] if fn else [],
            "task": [min(s.lineno for s in own) - 1, max(s.end_lineno or s.lineno for s in own)] if own else [],
        }
    return spans


def _kfp_tasks(result: DagResult) -> list[KfpTask]:
    """The mapped tasks, after the run context when the conversion added one (it runs first)."""
    assert result.mapped is not None
    plan = result.mapped.run_context
    return ([run_context_task(plan, plan.base_image)] if plan is not None else []) + result.mapped.tasks


def _kfp_task(result: DagResult, kfp: KfpTask, spans: dict[str, dict[str, list[int]]]) -> dict[str, Any]:
    assert result.emitted is not None
    added = kfp.task_id == RUN_CONTEXT_ID
    return {
        "name": result.kfp_names.get(kfp.task_id),
        "groups": [list(group) for group in result.kfp_groups.get(kfp.task_id, [])],
        "display_name": RUN_CONTEXT_DISPLAY if added else kfp.task_id,
        "airflow_task_ids": [] if added else [kfp.task_id],
        **({"added_by": "af2kfp"} if added else {}),  # no Airflow task: the conversion added it
        "component": result.emitted.names.component[kfp.task_id],
        "kind": kfp.kind,
        "rule": kfp.rule,
        "image": kfp.image,
        "command": [_item(v) for v in kfp.command],
        "args": [_item(v) for v in kfp.args],
        "env": dict(kfp.env),
        "secrets": sorted({s.secret_name for s in kfp.secret_env} | {s.secret_name for s in kfp.secret_volumes}),
        "arguments": {k: _item(v) for k, v in kfp.arguments.items()},
        "lines": spans.get(kfp.task_id, {}),
    }


def _redact_env(value: Any) -> Any:
    """An environment (dict, or list of ``V1EnvVar`` call JSON) without the literals of secret-looking names."""
    if isinstance(value, dict) and "$call" not in value:
        return {k: dict(REDACTED) if is_secret_env(str(k), v) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_env(item) for item in value]
    if not isinstance(value, dict):
        return value
    args, kwargs = list(value.get("args") or []), dict(value.get("kwargs") or {})
    name = str(kwargs.get("name", args[0] if args else None))
    if is_secret_env(name, kwargs.get("value")):
        kwargs["value"] = dict(REDACTED)
    if len(args) > 1 and is_secret_env(name, args[1]):  # V1EnvVar(name, value)
        args[1] = dict(REDACTED)
    return {**value, "args": args, "kwargs": kwargs}


def _redact_args(args: dict[str, Any]) -> dict[str, Any]:
    """Argument JSON with secret values replaced (``private_environment`` values, password-like keys,
    environment values under secret-looking names)."""
    out = {}
    for key, value in args.items():
        if key == "private_environment" and isinstance(value, dict):
            out[key] = {k: dict(REDACTED) for k in value}
        elif key in ("environment", "env_vars", "env"):
            out[key] = _redact_env(value)
        elif _SECRET_KEY.search(key) and isinstance(value, str):
            out[key] = dict(REDACTED)
        else:
            out[key] = value
    return out


def redacted_graph(result: DagResult) -> dict[str, Any]:
    """``graph_to_json`` of the DAG, without secret values (never written to disk)."""
    data = graph_to_json(result.graph)
    data["dag"]["default_args"] = _redact_args(data["dag"].get("default_args") or {})
    for task in data["tasks"]:
        task["args"] = _redact_args(task.get("args") or {})
        task["call_kwargs"] = _redact_args(task.get("call_kwargs") or {})
        inherits = task.get("inherits")
        if inherits:  # what a repository operator's __init__ and execute give the class it derives from
            inherits["arguments"] = _redact_args(inherits.get("arguments") or {})
            inherits["at_run"] = _redact_args(inherits.get("at_run") or {})
    return data


def _dag(result: DagResult) -> dict[str, Any]:
    info = dag_info(result.graph)
    fates = result.mapped.fates if result.mapped else {}
    airflow_tasks = [
        {
            "task_id": t.task_id,
            "operator": t.operator,
            "label": operator_label(t.operator),
            "line": t.line,
            "group": list(t.group),
            "fate": fates.get(t.task_id, "unsupported"),
            "kfp_task": result.kfp_names.get(t.task_id),
        }
        for t in tasks(result.graph)
    ]
    spans = code_spans(result)
    kfp_tasks = [_kfp_task(result, t, spans) for t in _kfp_tasks(result)] if result.mapped and result.emitted else []
    written = result.emitted is not None and result.python is not None
    return {
        "dag_id": info.dag_id,
        "file": info.file,
        "line": info.line,
        "folder": result.folder,
        "airflow": {"tasks": airflow_tasks, "edges": [list(e) for e in order_edges(result.graph)]},
        "kfp": {
            "pipeline_name": result.emitted.pipeline_name if written else None,
            "tasks": kfp_tasks,
            "edges": [list(e) for e in result.kfp_edges],
            "python": result.python if written else None,
            "yaml": result.yaml_file if result.compiled else None,
            "compiled": result.compiled,
            "parameters": [_parameter(p) for p in result.mapped.parameters] if result.mapped else [],
            "schedule": result.schedule,
        },
        "graph": redacted_graph(result),
    }


def max_severity(findings: Iterable[Finding]) -> Severity | None:
    """The most severe finding's severity, ``None`` when there is none."""
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)


def summarize(dags: list[dict[str, Any]], files: list[str], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts that add up: ``tasks`` = sum of the fates, ``findings.total`` = sum of severities."""
    fates = {fate: 0 for fate in FATES}
    for dag in dags:
        for t in dag["airflow"]["tasks"]:
            fates[t["fate"]] += 1
    by_severity = {s.value: sum(1 for f in findings if f["severity"] == s.value) for s in Severity}
    return {
        "files": len(files),
        "dags": len(dags),
        "tasks": sum(fates.values()),
        **fates,
        "compiled": sum(1 for dag in dags if dag["kfp"]["compiled"]),
        "findings": {**by_severity, "total": len(findings)},
    }


def build_report(results: list[DagResult], *, files: list[str], file_findings: list[Finding]) -> dict[str, Any]:
    """The whole ``report.json`` document for one conversion run."""
    dags = [_dag(r) for r in results]
    all_findings = list(file_findings) + [f for r in results for f in r.all_findings()]
    findings = [f.to_json() for f in all_findings]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "af2kfp",
        "summary": summarize(dags, files, findings),
        "files": list(files),
        "dags": dags,
        "findings": findings,
    }
