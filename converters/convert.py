"""The conversion pipeline: analyze -> map -> emit -> compile -> write, plus report.json.

``convert_paths(paths, out_dir)`` writes ``OUT/<dag_id>/pipeline.py``, ``pipeline.yaml``
(only when kfp compiled it), ``schedule.json`` (the recurring run, ``docs/schedules.md``)
and ``OUT/report.json``, and returns the report. One bad
DAG never stops the others: every failure is a finding.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import re
import signal
import threading
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Callable, Iterable, Iterator

import networkx as nx

from converters.config import Config
from converters.emit import compile_pipeline, render_pipeline
from converters.emit.compile import COMPILE_FAILED, CompileResult, module_folder, prepare
from converters.emit.degrade import compile_degrading
from converters.emit.names import kebab, kfp_task_name
from converters.emit.result import DagResult
from converters.files import write_text_atomic
from converters.findings import CODES, Finding, Severity, register_code
from converters.graph import dag_info
from converters.mappings import check_config, map_graph
from converters.report_json import build_report
from converters.run_context import RUN_CONTEXT_DISPLAY, RUN_CONTEXT_ID
from converters.schedule import recurring_run_spec

__all__ = ["convert_graph", "convert_graphs", "convert_paths", "pipeline_names", "default_jobs", "REPORT_NAME", "SCHEDULE_NAME",
           "Progress"]

log = logging.getLogger(__name__)

REPORT_NAME = "report.json"
SCHEDULE_NAME = "schedule.json"
Progress = Callable[[int, int, str], None]
_MIN_PARALLEL = 8  # below this, forking costs more than it saves
WORKER_TIMEOUT = 600  # seconds to wait for one DAG's compile in a worker (a lost worker never answers)
RENDER_FAILED = register_code(
    "E303", Severity.ERROR, "Pipeline could not be generated",
    "af2kfp failed while generating this DAG's pipeline.py; nothing was written for it. Please report it.",
).code
NO_TASKS = register_code(
    "E305", Severity.WARNING, "Nothing left to run",
    "The DAG has no task the converter found (see the analyzer's findings), or every task was folded away (sensors "
    "with sensors = \"skip\"); KFP cannot compile an empty pipeline.",
).code
DUPLICATE_DAG = register_code(
    "E304", Severity.WARNING, "Two DAGs share a dag_id",
    "Airflow keeps only one of them; the second was written to a folder with a suffix.",
).code


def _dag_finding(code: str, graph: nx.DiGraph, message: str) -> Finding:
    info = dag_info(graph)
    entry = CODES[code]
    return Finding(code=code, severity=entry.severity, message=message, suggestion=entry.help,
                   file=info.file, line=info.line, dag_id=info.dag_id)


def _generate(graph: nx.DiGraph, config: Config | None, pipelines: dict[str, str] | None = None) -> DagResult:
    """Map and emit one graph, not compiled yet; a generation failure or an empty pipeline is a finding.

    ``pipelines``: the DAGs converted together, dag_id -> KFP pipeline name (a trigger's target)."""
    info = dag_info(graph)
    try:
        mapped = map_graph(graph, config or Config(), pipelines)
        emitted = render_pipeline(mapped)
    except Exception as exc:  # noqa: BLE001 - one DAG's failure must not stop the run
        log.debug("generation failed for %s", info.dag_id, exc_info=True)
        finding = _dag_finding(RENDER_FAILED, graph, f"{type(exc).__name__}: {exc}")
        return DagResult(graph=graph, mapped=None, emitted=None, yaml=None, findings=[finding])
    if not mapped.tasks:
        finding = _dag_finding(NO_TASKS, graph, "the pipeline has no task after folding; not compiled")
        return DagResult(graph=graph, mapped=mapped, emitted=emitted, yaml=None, findings=[finding])
    return DagResult(graph=graph, mapped=mapped, emitted=emitted, yaml=None)


def _compile_job(job: tuple[str, str, str, str, int | None]) -> CompileResult:
    code, function, dag_id, file, line = job
    return compile_pipeline(code, function, dag_id=dag_id, file=file, line=line)


def _compile_args(result: DagResult) -> tuple[str, str, str, str, int | None] | None:
    """What to compile for a generated DAG, or ``None`` when it has nothing to compile."""
    if result.emitted is None or result.mapped is None or not result.mapped.tasks:
        return None
    info = dag_info(result.graph)
    return result.emitted.code, result.emitted.names.pipeline, info.dag_id, info.file, info.line


def _finish(result: DagResult, compiled: CompileResult, config: Config | None = None) -> DagResult:
    """Add the compile outcome and the task names KFP uses (from the spec, or as kfp would name them).

    When kfp rejected the pipeline, the tasks it rejected get placeholders (:mod:`converters.emit.degrade`).
    """
    assert result.mapped is not None and result.emitted is not None
    if compiled.yaml is None and compiled.error is not None:
        degraded = compile_degrading(result.mapped, result.emitted, compiled, config or Config())
        if degraded is not None:
            result.mapped, result.emitted, compiled = degraded.mapped, degraded.emitted, degraded.compiled
    mapped = result.mapped
    result.yaml = compiled.yaml
    result.findings.extend(compiled.findings)
    # The run context the conversion added (its display name is no task id) feeds the tasks that read dates.
    display = {t.task_id: t.task_id for t in mapped.tasks}
    edges = list(mapped.edges)
    if mapped.run_context is not None:
        display[RUN_CONTEXT_ID] = RUN_CONTEXT_DISPLAY
        edges += [(RUN_CONTEXT_ID, t.task_id) for t in mapped.tasks if t.run_context]
    if compiled.yaml is not None:
        result.kfp_names = {task_id: compiled.display[shown] for task_id, shown in display.items()
                            if shown in compiled.display}
        result.kfp_groups = {task_id: compiled.groups[key] for task_id, key in result.kfp_names.items()
                             if key in compiled.groups}
        result.kfp_edges = sorted({(result.kfp_names[u], result.kfp_names[v]) for u, v in edges
                                   if u in result.kfp_names and v in result.kfp_names})
    else:
        names = result.emitted.names.component
        result.kfp_names = {task_id: kfp_task_name(names[task_id]) for task_id in display}
        result.kfp_edges = sorted((result.kfp_names[u], result.kfp_names[v]) for u, v in edges)
    return result


def convert_graph(graph: nx.DiGraph, config: Config | None = None,
                  pipelines: dict[str, str] | None = None) -> DagResult:
    """Map, emit and compile one migration graph; writes nothing, never raises for bad input.

    ``pipelines``: the DAGs converted together, dag_id -> KFP pipeline name (``None``: not known)."""
    result = _generate(graph, config, pipelines)
    job = _compile_args(result)
    return result if job is None else _finish(result, _compile_job(job), config)


def _folder(dag_id: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", dag_id).strip(".") or "dag"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name.lower())
    return name


def _start_workers(jobs: int) -> Pool | None:
    """``jobs - 1`` forked compile workers that import kfp as they start (this process maps and
    emits: ``jobs`` processes in all), or ``None`` to do everything here.

    Started before the analysis, so the workers' imports run on the other CPUs meanwhile.
    """
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    if threading.active_count() > 1:
        # Forking copies other threads' locks in whatever state they are (logging, servers
        # of a host process): a child can hang on one for ever. Compile here instead.
        return None
    module_folder()  # made here, so this process removes it at exit
    # Workers fork with SIGTERM's default action: a host's handler that returns (Airflow, a test
    # runner) would otherwise swallow a terminate that reaches a worker before _init_worker runs.
    handler = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    if callable(handler):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        return multiprocessing.get_context("fork").Pool(jobs - 1, initializer=_init_worker)
    finally:
        if callable(handler):
            signal.signal(signal.SIGTERM, handler)


def _init_worker() -> None:
    """Default signal handling, so ``Pool.terminate`` ends a worker even when the parent had
    installed its own SIGTERM/SIGINT handlers (a Python handler that returns would leave the
    worker blocked for ever), then the compile start-up."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    prepare()


def pipeline_names(graphs: Iterable[nx.DiGraph]) -> dict[str, str]:
    """The DAGs converted together: dag_id -> the name of its KFP pipeline (what a trigger runs)."""
    return {dag_info(graph).dag_id: kebab(dag_info(graph).dag_id) for graph in graphs}


def _results(graphs: list[nx.DiGraph], config: Config | None, pool: Pool | None) -> Iterator[DagResult]:
    """Each graph's result, in order. With workers, this process maps and emits every DAG and
    hands each module to the workers to compile as soon as it is generated (only code, names
    and YAML cross between processes); without, everything happens here."""
    pipelines = pipeline_names(graphs)
    if pool is None:
        yield from (convert_graph(graph, config, pipelines) for graph in graphs)
        return
    pending = []
    for graph in graphs:
        result = _generate(graph, config, pipelines)
        job = _compile_args(result)
        pending.append((result, None if job is None else pool.apply_async(_compile_job, (job,))))
    for result, compiling in pending:
        yield result if compiling is None else _finish(result, _outcome(result, compiling), config)


def _outcome(result: DagResult, compiling: AsyncResult) -> CompileResult:
    """The worker's compile result; a lost worker or a result that cannot travel is a finding."""
    try:
        return compiling.get(timeout=WORKER_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - one DAG's failure must not stop the run
        message = f"kfp.compiler failed: the compile worker gave no result ({type(exc).__name__}: {exc})"
        return CompileResult(None, [_dag_finding(COMPILE_FAILED, result.graph, message)])


@contextlib.contextmanager
def _workers(jobs: int, count: int | None = None) -> Iterator[Pool | None]:
    """A worker pool (none for ``jobs`` <= 1, or for fewer than ``_MIN_PARALLEL`` DAGs when ``count`` is known)."""
    pool = _start_workers(jobs) if count is None or count >= _MIN_PARALLEL else None
    try:
        yield pool
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def default_jobs() -> int:
    """Processes by default (``--jobs``): the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def convert_graphs(graphs: Iterable[nx.DiGraph], out_dir: Path, *, files: list[str] | None = None,
                   file_findings: list[Finding] | None = None, config: Config | None = None,
                   progress: Progress | None = None, jobs: int = 1, pool: Pool | None = None) -> dict:
    """Convert analyzed graphs, write every DAG's output and ``report.json``; return the report.

    ``jobs`` > 1 compiles in ``jobs - 1`` forked worker processes while this one maps and
    emits (same results, same order), or in ``pool`` when given. ``progress(done, total,
    dag_id)`` is called after each DAG.
    """
    out_dir = Path(out_dir)
    taken: set[str] = set()
    seen_ids: set[str] = set()
    results = []
    graphs = list(graphs)
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(_workers(jobs, len(graphs)))
        for index, result in enumerate(_results(graphs, config, pool), 1):
            _collect(result, index, len(graphs), out_dir, taken, seen_ids, progress)
            results.append(result)
    report = build_report(results, files=files or [], file_findings=file_findings or [])
    write_text_atomic(out_dir / REPORT_NAME, json.dumps(report, indent=2, sort_keys=False) + "\n")
    from converters.reports import write_reports  # the static reports: report.html, report.md

    write_reports(report, out_dir)
    return report


def _collect(result: DagResult, index: int, total: int, out_dir: Path, taken: set[str], seen_ids: set[str],
             progress: Progress | None) -> None:
    """Name the DAG's output folder and write its files, in DAG order."""
    graph = result.graph
    dag_id = dag_info(graph).dag_id
    if progress is not None:
        progress(index, total, dag_id)
    if dag_id in seen_ids:
        result.findings.append(_dag_finding(DUPLICATE_DAG, graph, f"dag_id {dag_id!r} is defined more than once"))
    seen_ids.add(dag_id)
    result.folder = _folder(dag_id, taken)
    folder = out_dir / result.folder
    if result.emitted is not None:
        write_text_atomic(folder / "pipeline.py", result.emitted.code)
        if result.yaml is not None:
            write_text_atomic(folder / "pipeline.yaml", result.yaml)
        else:
            (folder / "pipeline.yaml").unlink(missing_ok=True)
        _write_schedule(result, folder)


def _write_schedule(result: DagResult, folder: Path) -> None:
    """``schedule.json`` beside the pipeline; its findings join the DAG's."""
    runs = tuple(p.name for p in result.mapped.parameters if p.kind == "run" and not p.has_default) if (
        result.mapped) else ()
    plan = result.mapped.run_context if result.mapped else None
    spec = recurring_run_spec(dag_info(result.graph), runs, plan.timing.describe() if plan else None)
    result.findings.extend(spec.findings)
    write_text_atomic(folder / SCHEDULE_NAME, json.dumps(spec.data, indent=2) + "\n")
    result.schedule = f"{result.folder}/{SCHEDULE_NAME}"


def convert_paths(paths: Iterable[Path | str], out_dir: Path | str, config: Config | None = None,
                  progress: Progress | None = None, jobs: int = 1) -> dict:
    """Analyze DAG files/folders and convert every DAG found (``InputError`` for a missing path).

    With ``jobs`` > 1 the workers start first and import kfp while this process analyzes.
    """
    from converters.analysis import analyze_paths

    config = config or Config()
    check_config(config)
    with _workers(jobs) as pool:
        analysis = analyze_paths([Path(p) for p in paths], config=config)
        return convert_graphs(analysis.graphs, Path(out_dir), files=analysis.files, file_findings=analysis.findings,
                              config=config, progress=progress, pool=pool)
