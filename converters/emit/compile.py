"""Compile an emitted ``pipeline.py`` with the real kfp compiler, in this process.

The module is checked by :func:`~af2kfp.converters.emit.safety.check_module` first, then run
as a fresh module (never ``__main__``, so its ``__main__`` block does not run); kfp
builds the pipeline spec and :func:`spec_yaml` writes it as ``Compiler.compile`` does.
Any failure is a finding.
"""

from __future__ import annotations

import ast
import atexit
import linecache
import logging
import os
import shutil
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from af2kfp.converters.emit import kfp_linear
from af2kfp.converters.emit.kfp_import import load_kfp
from af2kfp.converters.emit.safety import check_tree
from af2kfp.converters.emit.spec_tasks import group_list, spec_tasks
from af2kfp.converters.emit.yaml_text import dump_all
from af2kfp.converters.findings import CODES, Finding, Severity, register_code
from af2kfp.converters.runtime import FILES, file_text
from af2kfp.converters.text import visible

__all__ = ["CompileResult", "compile_pipeline", "module_folder", "prepare", "spec_yaml", "yaml_tasks", "COMPILE_FAILED", "UNSAFE_MODULE"]

log = logging.getLogger(__name__)
_MODULE = "af2kfp_generated_pipeline"
_FOLDER: Path | None = None

COMPILE_FAILED = register_code(
    "E301", Severity.ERROR, "Pipeline did not compile",
    "kfp.compiler rejected the emitted pipeline.py; pipeline.yaml was not written. Fix pipeline.py and compile it.",
).code
NOT_LOADABLE = register_code(
    "E311", Severity.ERROR, "Compiled pipeline.yaml would not load back",
    "kfp compiled the pipeline, but the YAML text would not load back with a safe loader as exactly the "
    "compiled spec (a value that YAML cannot carry faithfully), so pipeline.yaml was not written. "
    "Please report it with the DAG's parameters and arguments.",
).code
UNSAFE_MODULE = register_code(
    "E302", Severity.ERROR, "Emitted module failed the safety check",
    "The generated module would run code that af2kfp did not generate; it was not compiled. Please report this.",
).code


@dataclass
class CompileResult:
    """``yaml`` is the compiled text, or ``None`` with the reason in ``findings``.

    ``display`` (display name -> task key) and ``edges`` are what :func:`yaml_tasks` would
    read from ``yaml``, taken from the compiled spec itself (no second parse); see
    :mod:`af2kfp.converters.emit.spec_tasks` for tasks inside control-flow groups.
    """

    yaml: str | None
    findings: list[Finding] = field(default_factory=list)
    display: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    # Task key -> the control-flow groups around it, outermost first, as (id, label).
    groups: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # When kfp failed: its error, the line of the generated module it failed on (innermost frame),
    # and the display name (Airflow task id) of the task kfp was building, when it was building one.
    error: str | None = None
    line: int | None = None
    task: str | None = None


def _finding(code: str, message: str, file: str, line: int | None, dag_id: str) -> Finding:

    entry = CODES[code]
    return Finding(code=code, severity=entry.severity, message=message, suggestion=entry.help,
                   file=file, line=line, dag_id=dag_id)


def module_folder() -> Path:
    """The private folder generated modules run from, made once and removed when this process exits.

    It holds the files a generated module reads beside itself (``af2kfp.converters.runtime``), as the
    output folder does. Call it before forking workers: a folder made in a forked worker would outlive it.
    """
    global _FOLDER
    if _FOLDER is None:
        _FOLDER = Path(tempfile.mkdtemp(prefix="af2kfp-compile-"))
        atexit.register(shutil.rmtree, _FOLDER, True)
        for name in FILES:
            (_FOLDER / name).write_text(file_text(name), encoding="utf-8")
    return _FOLDER


def _module_file() -> Path:
    """This process's file that every generated module runs from (forked workers get their own).

    kfp calls ``inspect.stack()`` in each task setter; for a frame whose file is not yet
    known, ``inspect.getmodule`` walks all of ``sys.modules``. One fixed file under one fixed
    module name is walked for once, then found in inspect's cache.
    """
    return module_folder() / f"{os.getpid()}.py"


class _CallerName:
    """What kfp needs of ``inspect`` in ``PipelineTask._ensure_container_spec_exists``.

    kfp 2.x calls ``inspect.stack()[1][3]`` in every container task setter only to name
    the setter in an error message; the full stack reads the source of every frame, about
    a third of a compile. This gives the same ``[1][3]`` (the caller's name) in O(1).
    """

    @staticmethod
    def stack() -> list[Any]:
        caller = sys._getframe(2)
        return [None, (caller, caller.f_code.co_filename, caller.f_lineno, caller.f_code.co_name)]


def _cheap_caller_names() -> None:
    """Let kfp's task setters name their caller without reading the whole stack's source."""
    load_kfp()
    from kfp.dsl import pipeline_task

    if pipeline_task.__dict__.get("inspect") not in (None, _CallerName):  # only the name kfp looks up there
        pipeline_task.inspect = _CallerName  # type: ignore[attr-defined]
    kfp_linear.install()


def prepare() -> None:
    """Import kfp's compiler now (a worker's initializer: it runs while the parent analyzes),
    so the first compile does not pay for it."""
    load_kfp()
    import kfp.compiler  # noqa: F401

    module_folder()
    _cheap_caller_names()


def _load(code: str, tree: ast.Module | None = None) -> ModuleType:
    """Run the checked module from the process's module file, never as ``__main__``.

    kfp reads component sources through ``linecache``, so the file's stale cache entry
    is dropped first; the module stays in ``sys.modules`` until the next one replaces it.
    """
    path = _module_file()
    path.write_text(code, encoding="utf-8")
    linecache.cache.pop(str(path), None)
    module = ModuleType(_MODULE)
    module.__file__ = str(path)
    sys.modules[_MODULE] = module
    # Checked first: literals and generated defs only. exec (not an import machinery call)
    # keeps importlib's frozen frames off the stack kfp inspects on every setter.
    exec(compile(tree if tree is not None else code, str(path), "exec", dont_inherit=True), module.__dict__)
    return module


def spec_yaml(pipeline: Any) -> str:
    """What ``kfp.compiler.Compiler().compile(pipeline, "pipeline.yaml")`` writes, as text."""
    return _spec_text(pipeline)[0]


def _spec_text(pipeline: Any) -> tuple[str, dict[str, Any]]:
    """:func:`spec_yaml`'s text, and the pipeline spec as JSON data.

    kfp's own steps for a ``.yaml`` path (override none of the names or parameters, header
    comments, the spec, the platform spec when there is one), then the YAML written by
    :func:`~af2kfp.converters.emit.yaml_text.dump_all` (PyYAML's bytes, faster) or by PyYAML as
    kfp does. A test compares the result with kfp's own file on every sample and example.
    """
    from google.protobuf import json_format
    from kfp.compiler import pipeline_spec_builder as builder
    from kfp.dsl import base_component
    from kfp.dsl.types import type_utils

    if not isinstance(pipeline, base_component.BaseComponent):
        raise ValueError(f"not a @dsl.pipeline: {type(pipeline).__name__}")
    with type_utils.TypeCheckManager(enable=True):
        spec = builder.modify_pipeline_spec_with_override(
            pipeline_spec=pipeline.pipeline_spec, pipeline_name=None, pipeline_parameters=None,
            pipeline_display_name=None)
    spec_dict = json_format.MessageToDict(spec)
    documents = [spec_dict]
    if len(pipeline.platform_spec.platforms) > 0:
        documents.append(json_format.MessageToDict(pipeline.platform_spec))
    text = dump_all(documents)
    if text is None:
        text = yaml.dump_all(documents, sort_keys=True)
    text = _header(spec_dict, pipeline.description) + text
    _check_loads_back(text, documents)
    return text, spec_dict


def _header(spec: dict[str, Any], description: str | None) -> str:
    """kfp's ``# Inputs:`` header comments, with user text (string defaults, the description, the name)
    made :func:`~af2kfp.converters.text.visible`: kfp writes them raw, and a line break in one would end the
    comment and start YAML (a key, or a whole document after ``---``)."""
    from kfp.compiler import pipeline_spec_builder as builder

    shown = dict(spec, pipelineInfo={**spec["pipelineInfo"], "name": visible(spec["pipelineInfo"]["name"])})
    root = spec.get("root", {})
    if "inputDefinitions" in root:
        inputs = root["inputDefinitions"]
        parameters = {
            name: {**body, "defaultValue": visible(body["defaultValue"])}
            if isinstance(body.get("defaultValue"), str) else body
            for name, body in inputs.get("parameters", {}).items()}
        shown["root"] = {**root, "inputDefinitions": {**inputs, "parameters": parameters}}
    lines = "\n".join(visible(line) for line in (description or "").splitlines())
    return builder.extract_comments_from_pipeline_spec(shown, lines)


class NotLoadable(ValueError):
    """The written YAML would not load back (with a safe loader) as exactly the compiled documents."""


def _check_loads_back(text: str, documents: list[dict[str, Any]]) -> None:
    """``pipeline.yaml`` must give back exactly what was compiled: anything else (a comment that became
    YAML, a value the dumper changed) means the file is not the pipeline af2kfp reports."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        loaded = list(yaml.load_all(text, Loader=loader))
    except yaml.YAMLError as exc:
        raise NotLoadable(f"the YAML does not load: {exc}") from None
    if loaded != documents:
        raise NotLoadable(f"the YAML loads as {len(loaded)} document(s) that differ from the compiled spec")


def _building(frames: list[tuple[Any, int]]) -> str | None:
    """The display name of the task kfp's spec builder was working on when it failed (its ``task`` local)."""
    for frame, _ in reversed(frames):
        task = frame.f_locals.get("task")
        if type(task).__name__ == "PipelineTask":
            name = getattr(getattr(task, "_task_spec", None), "display_name", None)
            return name if isinstance(name, str) else None
    return None


def compile_pipeline(code: str, function: str, *, dag_id: str, file: str, line: int | None = None) -> CompileResult:
    """Compile ``code``'s pipeline function ``function``; never raises for a bad pipeline."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:  # ValueError: a lone surrogate
        return CompileResult(None, [_finding(UNSAFE_MODULE, f"cannot parse: {type(exc).__name__}: {exc}", file,
                                             line, dag_id)])
    problems = check_tree(tree)
    if problems:
        return CompileResult(None, [_finding(UNSAFE_MODULE, "; ".join(problems), file, line, dag_id)])
    _cheap_caller_names()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipeline = getattr(_load(code, tree), function)
            text, spec = _spec_text(pipeline)
            tasks = spec_tasks(spec)
        for warning in caught:
            log.info("kfp compiler warning for %s: %s", dag_id, warning.message)
    except NotLoadable as exc:
        return CompileResult(None, [_finding(NOT_LOADABLE, f"pipeline.yaml not written: {exc}", file, line, dag_id)])
    except Exception as exc:  # noqa: BLE001 - any compiler failure is reported, not raised
        log.debug("compile failed", exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
        module = str(_module_file())
        frames = list(traceback.walk_tb(exc.__traceback__))
        failed = [n for frame, n in frames if frame.f_code.co_filename == module]
        return CompileResult(None, [_finding(COMPILE_FAILED, f"kfp.compiler failed: {error}", file, line, dag_id)],
                             error=error, line=failed[-1] if failed else None, task=_building(frames))
    display = {t.display: t.key for t in tasks}
    edges = sorted((up, t.key) for t in tasks for up in t.upstream)
    return CompileResult(text, display=display, edges=edges, groups={t.key: group_list(t) for t in tasks if t.groups})


def yaml_tasks(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """From compiled YAML: display name -> KFP task name, and ``(upstream, downstream)`` task names."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = next(iter(yaml.load_all(text, Loader=loader)), None) or {}
    tasks = spec_tasks(spec)
    return {t.display: t.key for t in tasks}, sorted((up, t.key) for t in tasks for up in t.upstream)
