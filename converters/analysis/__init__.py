"""Static analysis of Airflow DAG files: one migration graph per DAG, no user code run.

``analyze_paths([Path("dags")], config=Config())`` parses every ``.py`` file with LibCST,
"runs" it symbolically (see :mod:`af2kfp.converters.analysis.semantics`) and returns an
:class:`Analysis`: the files scanned, one ``networkx.DiGraph`` per DAG (built with
``af2kfp.converters.graph``), and file-level findings. DAG and task findings live in each
graph's ``findings`` attribute.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import networkx as nx

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.build import build_graph
from af2kfp.converters.analysis.ignore import python_files
from af2kfp.converters.analysis.semantics import AirflowSemantics
from af2kfp.converters.analysis.source import check_file, might_contain_dag
from af2kfp.converters.analysis.subdags import flatten_subdags
from af2kfp.converters.config import Config
from af2kfp.converters.errors import InputError
from af2kfp.converters.findings import CODES, Finding

__all__ = ["analyze_paths", "Analysis"]

log = logging.getLogger(__name__)


@dataclass
class Analysis:
    """What the analyzer found: scanned files, one graph per DAG, file-level findings."""

    files: list[str] = field(default_factory=list)
    graphs: list[nx.DiGraph] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # Every file the analyzer ran (DAG files and the helper modules they import): what a cache keys on.
    read: list[str] = field(default_factory=list)


def _collect(paths: list[Path], ignore_syntax: str = "glob") -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(file, display) pairs to scan and (root folder, display) pairs for helper imports."""
    files: list[tuple[Path, str]] = []
    roots: list[tuple[Path, str]] = []
    for given in paths:
        if given.is_dir():
            roots.append((given.resolve(), given.as_posix()))
            found = python_files(given, ignore_syntax)
            if not found:
                raise InputError(f"{given}: no Python file (.py) in this folder or under it (.airflowignore "
                                 "applied); give the folder that holds the DAG files")
            for path in found:
                files.append((path, (given / path.relative_to(given)).as_posix()))
        elif given.is_file():
            if given.suffix != ".py":
                raise InputError(f"{given}: not a Python file; give DAG files (.py) or the folder that holds them")
            roots.append((given.resolve().parent, given.parent.as_posix()))
            files.append((given, given.as_posix()))
        else:
            raise InputError(f"{given}: no such file or folder")
    return files, roots


def _repository_roots(root: str | None, roots: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """``Config.root`` and its ``plugins/`` after the scanned folders: Airflow puts the DAGs folder, the
    plugins folder and AIRFLOW_HOME on ``sys.path``, so helper modules resolve from there too."""
    if root is None:
        return []
    base = Path(root).resolve()
    known = {path for path, _ in roots}
    found = []
    for folder in (base, base / "plugins"):
        if folder.is_dir() and folder not in known:
            try:
                display = os.path.relpath(folder) if folder.is_relative_to(Path.cwd()) else folder.as_posix()
            except (ValueError, OSError):
                display = folder.as_posix()
            found.append((folder, Path(display).as_posix()))
    return found


def analyze_paths(paths: list[Path], config: Config | None = None,
                  progress: Callable[[int, int, str], None] | None = None) -> Analysis:
    """Analyze DAG files and folders; bad files become findings, never exceptions.

    Helper modules resolve from the scanned folders, then from ``config.root`` and its ``plugins/``.
    ``progress(done, total, file)`` is called after each scanned file (each is also logged at INFO)."""
    config = config or Config()
    files, roots = _collect([Path(p) for p in paths], config.ignore_syntax)
    roots += _repository_roots(config.root, roots)
    engine = AirflowSemantics(config, roots)
    analysis = Analysis(files=sorted({display for _, display in files}))
    seen: set[Path] = set()
    ordered = sorted(files, key=lambda item: item[1])
    for done, (path, display) in enumerate(ordered, 1):
        if progress is not None:
            progress(done - 1, len(ordered), display)
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            if might_contain_dag(resolved):
                engine.run_file(resolved, display)
            else:  # as Airflow's safe mode: never a DAG file, so only check that it parses
                problem = check_file(resolved, display)
                if problem is not None:
                    analysis.findings.append(problem)
        except Exception as exc:  # noqa: BLE001 - one file's failure must not stop the others
            log.debug("analysis failed on %s", display, exc_info=True)
            engine.runs[resolved] = None
            analysis.findings.append(_internal(display, exc))
        log.info("analyzed %d/%d %s", done, len(ordered), display)
    if progress is not None and ordered:
        progress(len(ordered), len(ordered), "")
    analysis.read = sorted(str(Path(p).resolve()) for p in engine.runs)
    ran = [run for run in engine.runs.values() if run is not None]
    consumed = {id(sub) for sub in flatten_subdags([dag for run in ran for dag in run.dags])}
    for path in sorted(engine.runs, key=lambda p: engine.display_for(p)):
        run = engine.runs[path]
        if run is None:
            continue
        analysis.findings.extend(run.findings)
        for dag in run.dags:
            if id(dag) in consumed:
                continue  # a SubDAG lives on flattened in its parent's graph
            if not dag.registered:
                analysis.findings.append(
                    _finding(
                        codes.DETACHED,
                        dag.file,
                        dag.line,
                        f"DAG '{dag.dag_id}' is created but never used as a context manager nor bound at module "
                        "level; Airflow does not load it",
                    )
                )
                continue
            try:
                analysis.graphs.append(build_graph(dag))
            except Exception as exc:  # noqa: BLE001 - one DAG's failure must not stop the others
                log.debug("graph of %s failed", dag.dag_id, exc_info=True)
                analysis.findings.append(_internal(dag.file, exc, dag.line, dag.dag_id))
        if not run.dags and _mentions_airflow(run.source.text) and path in seen:
            analysis.findings.append(
                _finding(
                    codes.NO_DAG, run.source.display, None, f"{run.source.display}: imports Airflow but defines no DAG"
                )
            )
    for task in engine.detached:
        analysis.findings.append(
            _finding(
                codes.DETACHED,
                task.file,
                task.line,
                f"task '{task.task_id}' is not attached to any DAG; Airflow does not schedule it",
            )
        )
    analysis.findings.extend(engine.parse_findings[p] for p in sorted(engine.parse_findings, key=str))
    analysis.graphs.sort(key=lambda g: (g.graph["dag"].file, g.graph["dag"].line or 0, g.graph["dag"].dag_id))
    analysis.findings.sort(key=lambda f: (f.file, f.line or 0, f.code))
    log.debug("analyzed %d files: %d DAGs, %d file findings", len(files), len(analysis.graphs), len(analysis.findings))
    return analysis


def _mentions_airflow(text: str) -> bool:
    return "import airflow" in text or "from airflow" in text


def _internal(file: str, exc: BaseException, line: int | None = None, dag_id: str | None = None) -> Finding:
    """An analyzer failure (or a limit Python hit: recursion, memory) as the file's or the DAG's finding."""
    lost = f"DAG {dag_id!r} is missing, the file's other DAGs are kept" if dag_id else "this file's DAGs are missing"
    message = f"analyzer error ({type(exc).__name__}: {str(exc)[:200]}); {lost}"
    return _finding(codes.INTERNAL, file, line, message)


def _finding(code: str, file: str, line: int | None, message: str) -> Finding:
    entry = CODES[code]
    return Finding(code=code, severity=entry.severity, message=message, suggestion=entry.help, file=file, line=line)
