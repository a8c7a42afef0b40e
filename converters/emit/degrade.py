"""When kfp's compiler rejects a pipeline, find the task it rejected, stand a placeholder in for it, compile again.

One task kfp cannot express must cost that task, not the whole DAG. The task is found
where kfp failed: the task kfp's spec builder was working on, the statement of the generated ``pipeline.py`` kfp's traceback ends in
(a task's call or setter, the ``dsl.ParallelFor`` header of its loop, or its component's
definition), else the component kfp's message names. Its stand-in
(:func:`af2kfp.converters.mappings.stand_in.stand_in`) keeps its outputs and conditions, so the
rest compiles unchanged; a stand-in kfp still rejects loses its loop. When no task can be
found, or nothing helps, the DAG keeps the first error (``E301``) and no stand-in.
"""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass, replace

from af2kfp.converters.config import Config
from af2kfp.converters.emit.compile import CompileResult, compile_pipeline
from af2kfp.converters.emit.names import Names, kfp_task_name
from af2kfp.converters.emit.pipeline_py import EmittedPipeline, render_pipeline
from af2kfp.converters.graph import dag_info
from af2kfp.converters.mappings.model import KfpTask, MappedDag
from af2kfp.converters.mappings.stand_in import stand_in

__all__ = ["Degraded", "compile_degrading", "culprit"]

log = logging.getLogger(__name__)

_NAMED = re.compile(r"\b(?:component|task) '([^']+)'")


@dataclass
class Degraded:
    """The mapping with its stand-ins, the module that compiled, and the compile result."""

    mapped: MappedDag
    emitted: EmittedPipeline
    compiled: CompileResult


def _innermost(body: list[ast.stmt], line: int) -> list[ast.stmt]:
    """The statements around ``line``, outermost first."""
    for stmt in body:
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        if start <= line <= (stmt.end_lineno or stmt.lineno):
            inner = getattr(stmt, "body", None)
            header = isinstance(stmt, ast.With) and line < stmt.body[0].lineno
            return [stmt] + ([] if header or not isinstance(inner, list) else _innermost(inner, line))
    return []


def _first_task(stmts: list[ast.stmt], tasks_of: dict[str, str]) -> str | None:
    for node in (n for stmt in stmts for n in ast.walk(stmt)):
        if isinstance(node, ast.Name) and node.id in tasks_of:
            return tasks_of[node.id]
    return None


def _is_pipeline(fn: ast.FunctionDef) -> bool:
    return any("dsl.pipeline" in ast.unparse(d) for d in fn.decorator_list)


def culprit(code: str, names: Names, compiled: CompileResult) -> tuple[str, bool] | None:
    """``(task_id, loop)``: the task kfp rejected, and whether its loop is what kfp rejected."""
    tasks_of = {var: task_id for task_id, var in names.variable.items()}
    if compiled.task in names.variable:  # kfp was building this task's spec
        return compiled.task, False
    if compiled.line is not None:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return None
        path = _innermost(tree.body, compiled.line)
        if path and isinstance(path[0], ast.FunctionDef) and not _is_pipeline(path[0]):
            users = [t for t, component in names.component.items() if component == path[0].name]
            if users:
                return users[0], False
        inner = path[-1] if path else None
        if isinstance(inner, ast.With) and compiled.line < inner.body[0].lineno:
            loop = "ParallelFor" in ast.unparse(inner.items[0].context_expr)
            task_id = _first_task(inner.body, tasks_of)
            if task_id is not None:
                return task_id, loop
        elif inner is not None and not isinstance(inner, ast.FunctionDef):
            targets = [t.id for t in getattr(inner, "targets", []) if isinstance(t, ast.Name)]
            task_id = next((tasks_of[t] for t in targets if t in tasks_of), None) or _first_task([inner], tasks_of)
            if task_id is not None:
                return task_id, False
    by_kfp_name = {kfp_task_name(component): t for t, component in reversed(list(names.component.items()))}
    for name in _NAMED.findall(compiled.error or ""):
        if name in by_kfp_name:
            return by_kfp_name[name], False
    return None


def compile_degrading(mapped: MappedDag, emitted: EmittedPipeline, failed: CompileResult,
                      config: Config) -> Degraded | None:
    """Stand placeholders in for the tasks kfp rejects until the pipeline compiles; ``None`` if it never does."""
    info = dag_info(mapped.graph)
    original = {t.task_id: t for t in mapped.tasks}
    level: dict[str, bool] = {}  # task id -> its stand-in dropped its loop
    compiled = failed
    for _ in range(2 * len(mapped.tasks)):
        found = culprit(emitted.code, emitted.names, compiled)
        if found is None:
            return None
        task_id, loop = found
        if task_id in level:
            if level[task_id] or not original[task_id].loops:
                return None  # its stand-in is rejected too: nothing more to take away
            loop = True
        level[task_id] = loop
        reason = compiled.error or "unknown error"
        task = mapped.graph.nodes[task_id]["task"]
        tasks = [stand_in(original[t.task_id], task, info.dag_id, config, reason, loop) if t.task_id == task_id
                 else t for t in mapped.tasks]
        mapped = replace(mapped, tasks=tasks)
        emitted = render_pipeline(mapped)
        log.info("%s: task %s rejected by kfp (%s); compiling with a placeholder", info.dag_id, task_id, reason)
        compiled = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id=info.dag_id, file=info.file,
                                    line=info.line)
        if compiled.yaml is not None:
            return Degraded(_settled(mapped, level), emitted, compiled)
    return None


def _settled(mapped: MappedDag, level: dict[str, bool]) -> MappedDag:
    """The stand-ins' fates and E306 findings in the mapping's own lists."""
    stand_ins: dict[str, KfpTask] = {t.task_id: t for t in mapped.tasks if t.task_id in level}
    fates = {**mapped.fates, **{task_id: "unsupported" for task_id in stand_ins}}
    findings = [*mapped.findings, *(t.findings[-1] for t in stand_ins.values())]
    return replace(mapped, fates=fates, findings=findings)
