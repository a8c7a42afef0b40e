"""Compile an emitted ``pipeline.py`` with the real kfp compiler, in this process.

The module is checked by :func:`~converters.emit.safety.check_module` first, then run
as a fresh module (never ``__main__``); kfp reads component sources through
``linecache``, so nothing is written until the YAML exists. Any failure is a finding.
"""

from __future__ import annotations

import builtins
import linecache
import logging
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from converters.emit.safety import check_module
from converters.findings import CODES, Finding, Severity, register_code

__all__ = ["CompileResult", "compile_pipeline", "yaml_tasks", "COMPILE_FAILED", "UNSAFE_MODULE"]

log = logging.getLogger(__name__)

COMPILE_FAILED = register_code(
    "E301", Severity.ERROR, "Pipeline did not compile",
    "kfp.compiler rejected the emitted pipeline.py; pipeline.yaml was not written. Fix pipeline.py and compile it.",
).code
UNSAFE_MODULE = register_code(
    "E302", Severity.ERROR, "Emitted module failed the safety check",
    "The generated module would run code that af2kfp did not generate; it was not compiled. Please report this.",
).code


@dataclass
class CompileResult:
    """``yaml`` is the compiled text, or ``None`` with the reason in ``findings``."""

    yaml: str | None
    findings: list[Finding] = field(default_factory=list)


def _finding(code: str, message: str, file: str, line: int | None, dag_id: str) -> Finding:

    entry = CODES[code]
    return Finding(code=code, severity=entry.severity, message=message, suggestion=entry.help,
                   file=file, line=line, dag_id=dag_id)


def compile_pipeline(code: str, function: str, *, dag_id: str, file: str, line: int | None = None) -> CompileResult:
    """Compile ``code``'s pipeline function ``function``; never raises for a bad pipeline."""
    problems = check_module(code)
    if problems:
        return CompileResult(None, [_finding(UNSAFE_MODULE, "; ".join(problems), file, line, dag_id)])
    from kfp import compiler

    filename = f"<af2kfp pipeline {dag_id}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "af2kfp_generated", "__file__": filename, "__builtins__": builtins}
    try:
        with warnings.catch_warnings(record=True) as caught, tempfile.TemporaryDirectory() as tmp:
            warnings.simplefilter("always")
            exec(compile(code, filename, "exec", dont_inherit=True), namespace)  # checked above: literals and generated defs only
            target = Path(tmp) / "pipeline.yaml"
            compiler.Compiler().compile(pipeline_func=namespace[function], package_path=str(target))
            text = target.read_text(encoding="utf-8")
        for warning in caught:
            log.info("kfp compiler warning for %s: %s", dag_id, warning.message)
    except Exception as exc:  # noqa: BLE001 - any compiler failure is reported, not raised
        log.debug("compile failed", exc_info=True)
        message = f"kfp.compiler failed: {type(exc).__name__}: {exc}"
        return CompileResult(None, [_finding(COMPILE_FAILED, message, file, line, dag_id)])
    finally:
        linecache.cache.pop(filename, None)
    return CompileResult(text)


def yaml_tasks(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """From compiled YAML: display name -> KFP task name, and ``(upstream, downstream)`` task names."""
    spec = next(iter(yaml.safe_load_all(text)), None) or {}
    tasks = spec.get("root", {}).get("dag", {}).get("tasks", {})
    display = {body.get("taskInfo", {}).get("name", name): name for name, body in tasks.items()}
    edges = sorted((up, name) for name, body in tasks.items() for up in body.get("dependentTasks", []))
    return display, edges
