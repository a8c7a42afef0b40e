"""The conversion pipeline: analyze -> map -> emit -> compile -> write, plus report.json.

``convert_paths(paths, out_dir)`` writes ``OUT/<dag_id>/pipeline.py``, ``pipeline.yaml``
(only when kfp compiled it), ``airflow_operator_runner.py`` (only when ``pipeline.py`` runs
original Airflow operators), ``schedule.json`` (the recurring run, ``docs/schedules.md``)
and ``OUT/report.json``, and returns the report. One bad
DAG never stops the others: every failure is a finding.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import networkx as nx

from af2kfp.converters.config import Config
from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.emit.compile import COMPILE_FAILED, CompileResult, module_folder, prepare
from af2kfp.converters.emit.degrade import compile_degrading
from af2kfp.converters.emit.names import kebab, kfp_task_name
from af2kfp.converters.emit.output import KEPT_EDITED, NOT_WRITTEN, Writer, folder_name, generated_name
from af2kfp.converters.emit.result import DagResult
from af2kfp.converters.files import write_text_atomic
from af2kfp.converters.findings import CODES, Finding, Severity, register_code
from af2kfp.converters.graph import dag_info
from af2kfp.converters.mappings import check_config, map_graph
from af2kfp.converters.report_json import build_report, summarize
from af2kfp.converters.run_context import RUN_CONTEXT_DISPLAY, RUN_CONTEXT_ID
from af2kfp.converters.runtime import FILES, file_text
from af2kfp.converters.schedule import recurring_run_spec

__all__ = ["convert_graph", "convert_graphs", "convert_paths", "pipeline_names", "default_jobs", "REPORT_NAME", "SCHEDULE_NAME",
           "Progress"]

log = logging.getLogger(__name__)

REPORT_NAME = "report.json"
SCHEDULE_NAME = "schedule.json"
Progress = Callable[[int, int, str], None]
_MIN_PARALLEL = 8  # below this, forking costs more than it saves
WORKER_TIMEOUT = 600  # seconds to wait for one DAG's compile in a live worker (a kfp compile that hangs)
POLL = 0.25  # seconds between looks at whether the worker compiling a DAG is still alive
RENDER_FAILED = register_code(
    "E303", Severity.ERROR, "Pipeline could not be generated",
    "af2kfp failed while generating this DAG's pipeline.py; nothing was written for it. Please report it.",
).code
NO_TASKS = register_code(
    "E305", Severity.WARNING, "Nothing left to run",
    "The DAG has no task the converter found (see the analyzer's findings), or every task was folded away (sensors "
    "with sensors = \"skip\"); KFP cannot compile an empty pipeline.",
).code
REPORTS_FAILED = register_code(
    "E310", Severity.ERROR, "Reports could not be written",
    "af2kfp failed while writing report.html or report.md; report.json and every DAG's files were written. "
    "Please report it with report.json.",
).code
WORKER_DIED = register_code(
    "E314", Severity.ERROR, "Compile worker died",
    "The process compiling this DAG ended without an answer (killed, out of memory, or a crash in native "
    "code), so pipeline.yaml was not written; pipeline.py was. Compile it by hand (python pipeline.py) to "
    "see why, or rerun with --jobs 1.",
).code
MAX_COMPILE_TASKS = 10_000  # compiling is linear (emit/kfp_linear.py), ~3 ms a task; Argo strains well before this
TOO_MANY_TASKS = register_code(
    "E315", Severity.ERROR, "Pipeline too large to compile",
    f"The pipeline has more than {MAX_COMPILE_TASKS:,} tasks: a KFP run of that size exceeds what Argo's workflow "
    "object holds (Kubernetes' object size limit), and compiling it takes minutes. pipeline.py was "
    "written, pipeline.yaml was not. Split the DAG, or loop over the varying part with a mapped task "
    "(expand: one task in KFP, a dsl.ParallelFor), then compile pipeline.py yourself if you must.",
).code
DUPLICATE_DAG = register_code(
    "E304", Severity.WARNING, "Two DAGs share a dag_id",
    "Airflow keeps only one of them; the second was written to a folder with a suffix.",
).code


def _shown(path: str) -> str:
    """A path relative to the current folder when it is under it (as the CLI prints it), else as it is."""
    try:
        resolved = Path(path).resolve()
        return os.path.relpath(resolved) if resolved.is_relative_to(Path.cwd().resolve()) else path
    except (OSError, ValueError):
        return path


def previous_written(report: Path) -> dict[str, str]:
    """What the last run recorded it wrote (``report.json``'s ``written``); nothing when unreadable."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    written = data.get("written") if isinstance(data, dict) else None
    if not isinstance(written, dict):
        return {}
    return {k: v for k, v in written.items() if isinstance(k, str) and isinstance(v, str)}


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
    if len(mapped.tasks) > MAX_COMPILE_TASKS:
        finding = _dag_finding(TOO_MANY_TASKS, graph, f"{len(mapped.tasks)} tasks, more than {MAX_COMPILE_TASKS}: "
                                                      "pipeline.py written, not compiled")
        return DagResult(graph=graph, mapped=mapped, emitted=emitted, yaml=None, findings=[finding])
    return DagResult(graph=graph, mapped=mapped, emitted=emitted, yaml=None)


def _compile_job(job: tuple[str, str, str, str, int | None]) -> CompileResult:
    code, function, dag_id, file, line = job
    return compile_pipeline(code, function, dag_id=dag_id, file=file, line=line)


_STARTED: Any = None  # in a worker: where it says which job it starts (see _Watch)


def _tracked_job(token: int, job: tuple[str, str, str, str, int | None]) -> CompileResult:
    """A worker's compile, announced first, so the parent knows whose death loses which DAG."""
    if _STARTED is not None:
        _STARTED.put((token, os.getpid()))
    return _compile_job(job)


class _Watch:
    """Which worker compiles which job, so a worker that dies is noticed within :data:`POLL` seconds.

    ``multiprocessing.Pool`` replaces a dead worker but never answers for the job it held.
    Each job says which process took it; while waiting, a job whose process is no longer a
    live child of this one is lost: a finding, not a wait for :data:`WORKER_TIMEOUT`.
    """

    def __init__(self, started: Any) -> None:
        self.started = started
        self.owner: dict[int, int] = {}

    def lost(self, token: int) -> int | None:
        """The pid of the dead worker that took job ``token``, else ``None``."""
        while not self.started.empty():
            taken, pid = self.started.get()
            self.owner[taken] = pid
        pid = self.owner.get(token)
        if pid is None or pid in {child.pid for child in multiprocessing.active_children()}:
            return None
        return pid


def _compile_args(result: DagResult) -> tuple[str, str, str, str, int | None] | None:
    """What to compile for a generated DAG, or ``None`` when it has nothing to compile."""
    if result.emitted is None or result.mapped is None or not 0 < len(result.mapped.tasks) <= MAX_COMPILE_TASKS:
        return None
    info = dag_info(result.graph)
    return result.emitted.code, result.emitted.names.pipeline, info.dag_id, info.file, info.line


def _finish(result: DagResult, compiled: CompileResult, config: Config | None = None) -> DagResult:
    """Add the compile outcome and the task names KFP uses (from the spec, or as kfp would name them).

    When kfp rejected the pipeline, the tasks it rejected get placeholders (:mod:`af2kfp.converters.emit.degrade`).
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
        context = multiprocessing.get_context("fork")
        started = context.SimpleQueue()
        pool = context.Pool(jobs - 1, initializer=_init_worker, initargs=(started,))
        pool.af2kfp_started = started  # type: ignore[attr-defined]
        return pool
    finally:
        if callable(handler):
            signal.signal(signal.SIGTERM, handler)


def _init_worker(started: Any = None) -> None:
    """Default signal handling, so ``Pool.terminate`` ends a worker even when the parent had
    installed its own SIGTERM/SIGINT handlers (a Python handler that returns would leave the
    worker blocked for ever), where to announce the jobs it takes, then the compile start-up."""
    global _STARTED
    _STARTED = started
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
    started = getattr(pool, "af2kfp_started", None)
    watch = _Watch(started) if started is not None else None
    pending = []
    for token, graph in enumerate(graphs):
        result = _generate(graph, config, pipelines)
        job = _compile_args(result)
        pending.append((token, result, None if job is None else pool.apply_async(_tracked_job, (token, job))))
    for token, result, compiling in pending:
        yield result if compiling is None else _finish(result, _outcome(result, compiling, watch, token), config)


def _outcome(result: DagResult, compiling: AsyncResult, watch: _Watch | None = None, token: int = -1) -> CompileResult:
    """The worker's compile result; a worker that died, one that never answers within
    :data:`WORKER_TIMEOUT`, or a result that cannot travel is a finding."""
    deadline = time.monotonic() + WORKER_TIMEOUT
    try:
        while True:
            try:
                return compiling.get(timeout=POLL if watch is not None else WORKER_TIMEOUT)
            except multiprocessing.TimeoutError:
                pid = watch.lost(token) if watch is not None else None
                if pid is not None:
                    message = (f"the compile worker (process {pid}) died while compiling this DAG, so it was not "
                               "compiled; the other DAGs were")
                    return CompileResult(None, [_dag_finding(WORKER_DIED, result.graph, message)])
                if watch is None or time.monotonic() > deadline:
                    raise
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
                   progress: Progress | None = None, jobs: int = 1, pool: Pool | None = None,
                   force: bool = False) -> dict:
    """Convert analyzed graphs, write every DAG's output and ``report.json``; return the report.

    ``jobs`` > 1 compiles in ``jobs - 1`` forked worker processes while this one maps and
    emits (same results, same order), or in ``pool`` when given. ``progress(done, total,
    dag_id)`` is called after each DAG. A file a user changed since the last run wrote it is
    kept, the new one written beside it (:mod:`af2kfp.converters.emit.output`), unless ``force``.
    """
    out_dir = Path(out_dir)
    writer = Writer(out_dir, previous=previous_written(out_dir / REPORT_NAME), force=force)
    taken: set[str] = set()
    seen_ids: set[str] = set()
    results = []
    graphs = list(graphs)
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(_workers(jobs, len(graphs)))
        for index, result in enumerate(_results(graphs, config, pool), 1):
            _collect(result, index, len(graphs), writer, taken, seen_ids, progress)
            results.append(result)
    report = build_report(results, files=files or [], file_findings=file_findings or [])
    report["config"] = _shown(config.source) if config is not None and config.source else None
    report["written"] = dict(sorted(writer.written.items()))
    from af2kfp.converters.reports import write_reports  # the static reports: report.html, report.md

    try:
        write_reports(report, out_dir)
    except Exception as exc:  # noqa: BLE001 - report.json (the record) is written whatever happens to the views
        log.debug("writing the reports failed", exc_info=True)
        entry = CODES[REPORTS_FAILED]
        finding = Finding(code=REPORTS_FAILED, severity=entry.severity, suggestion=entry.help, file=str(out_dir),
                          message=f"report.html / report.md not written: {type(exc).__name__}: {exc}")
        report["findings"].append(finding.to_json())
        report["summary"] = summarize(report["dags"], report["files"], report["findings"])
    write_text_atomic(out_dir / REPORT_NAME, json.dumps(report, indent=2, sort_keys=False) + "\n")
    return report


def _collect(result: DagResult, index: int, total: int, writer: Writer, taken: set[str], seen_ids: set[str],
             progress: Progress | None) -> None:
    """Name the DAG's output folder and write its files, in DAG order; a failed write is the DAG's finding."""
    graph = result.graph
    dag_id = dag_info(graph).dag_id
    if progress is not None:
        progress(index, total, dag_id)
    if dag_id in seen_ids:
        result.findings.append(_dag_finding(DUPLICATE_DAG, graph, f"dag_id {dag_id!r} is defined more than once"))
    seen_ids.add(dag_id)
    result.folder = folder_name(dag_id, taken)
    if result.emitted is None:
        return
    try:
        _write_dag(result, writer)
    except (OSError, UnicodeError) as exc:
        log.debug("writing %s failed", result.folder, exc_info=True)
        result.python = result.yaml_file = result.schedule = None
        result.findings.append(_dag_finding(NOT_WRITTEN, graph, f"{result.folder}/: {type(exc).__name__}: {exc}"))


def _write_dag(result: DagResult, writer: Writer) -> None:
    """pipeline.py (a user's edited one kept, :mod:`af2kfp.converters.emit.output`), pipeline.yaml (or the
    previous one removed) and schedule.json."""
    assert result.emitted is not None
    folder = result.folder
    result.python, kept = writer.keep_edited(f"{folder}/pipeline.py", result.emitted.code)
    yaml_file = generated_name(f"{folder}/pipeline.yaml") if kept else f"{folder}/pipeline.yaml"
    if result.yaml is not None:
        result.yaml_file = writer.put(yaml_file, result.yaml)
    else:
        writer.remove(yaml_file)
    for name in FILES:  # what pipeline.py reads beside itself (the fallback's runner), and only that
        if name in result.emitted.files:
            writer.put(f"{folder}/{name}", file_text(name))
        else:
            writer.remove(f"{folder}/{name}")
    if kept:
        message = (f"{folder}/pipeline.py changed since af2kfp wrote it: kept; the new output is in "
                   f"{result.python}" + (f" and {result.yaml_file}" if result.yaml_file else ""))
        result.findings.append(_dag_finding(KEPT_EDITED, result.graph, message))
    _write_schedule(result, writer)


def schedule_spec(result: DagResult) -> Any:
    """The recurring run of a generated DAG (``schedule.json``'s content and its findings)."""
    runs = tuple(p.name for p in result.mapped.parameters if p.kind == "run" and not p.has_default) if (
        result.mapped) else ()
    plan = result.mapped.run_context if result.mapped else None
    return recurring_run_spec(dag_info(result.graph), runs, plan.timing.describe() if plan else None)


def _write_schedule(result: DagResult, writer: Writer) -> None:
    """``schedule.json`` beside the pipeline; its findings join the DAG's."""
    spec = schedule_spec(result)
    result.findings.extend(spec.findings)
    result.schedule = writer.put(f"{result.folder}/{SCHEDULE_NAME}", json.dumps(spec.data, indent=2) + "\n")


def convert_paths(paths: Iterable[Path | str], out_dir: Path | str, config: Config | None = None,
                  progress: Progress | None = None, jobs: int = 1, cache: bool = False,
                  force: bool = False, file_progress: Progress | None = None) -> dict:
    """Analyze DAG files/folders and convert every DAG found (``InputError`` for a missing path).

    ``file_progress(done, total, file)`` follows the analysis, ``progress(done, total, dag_id)`` the DAGs.

    With ``jobs`` > 1 the workers start first and import kfp while this process analyzes.
    ``cache``: record what was read and written for the next run (:mod:`af2kfp.converters.cache`).
    """
    from af2kfp.converters.analysis import analyze_paths

    config = config or Config()
    check_config(config)
    paths = [Path(p) for p in paths]
    with _workers(jobs) as pool:
        analysis = analyze_paths(paths, config=config, progress=file_progress)
        report = convert_graphs(analysis.graphs, Path(out_dir), files=analysis.files, file_findings=analysis.findings,
                                config=config, progress=progress, pool=pool, force=force)
    if cache:
        from af2kfp.converters.cache import store

        store(paths, Path(out_dir), config, analysis.read)
    return report
