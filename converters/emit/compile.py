"""Compile an emitted ``pipeline.py`` with the real kfp compiler, in this process.

The module is checked by :func:`~converters.emit.safety.check_module` first, then
imported from a temporary folder as a fresh module (never ``__main__``, so its
``__main__`` block does not run); the output folder is written only once the YAML
exists. Any failure is a finding.
"""

from __future__ import annotations

import itertools
import logging
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import yaml

from converters.emit.safety import check_module
from converters.findings import CODES, Finding, Severity, register_code

__all__ = ["CompileResult", "compile_pipeline", "yaml_tasks", "COMPILE_FAILED", "UNSAFE_MODULE"]

log = logging.getLogger(__name__)
_COUNTER = itertools.count()

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


def _load(code: str, folder: Path, dag_id: str) -> ModuleType:
    """Import the checked module from a real file, never as ``__main__``.

    A real file in ``sys.modules`` lets kfp (which reads sources and calls
    ``inspect.stack()``) find it quickly; it is removed again by the caller.
    """
    path = folder / "pipeline.py"
    path.write_text(code, encoding="utf-8")
    name = f"af2kfp_generated_{next(_COUNTER)}"
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    # Checked first: literals and generated defs only. exec (not an import machinery call)
    # keeps importlib's frozen frames off the stack kfp inspects on every setter.
    exec(compile(code, str(path), "exec", dont_inherit=True), module.__dict__)
    return module


def compile_pipeline(code: str, function: str, *, dag_id: str, file: str, line: int | None = None) -> CompileResult:
    """Compile ``code``'s pipeline function ``function``; never raises for a bad pipeline."""
    problems = check_module(code)
    if problems:
        return CompileResult(None, [_finding(UNSAFE_MODULE, "; ".join(problems), file, line, dag_id)])
    from kfp import compiler

    module: ModuleType | None = None
    try:
        with warnings.catch_warnings(record=True) as caught, tempfile.TemporaryDirectory() as tmp:
            warnings.simplefilter("always")
            module = _load(code, Path(tmp), dag_id)
            target = Path(tmp) / "pipeline.yaml"
            compiler.Compiler().compile(pipeline_func=getattr(module, function), package_path=str(target))
            text = target.read_text(encoding="utf-8")
        for warning in caught:
            log.info("kfp compiler warning for %s: %s", dag_id, warning.message)
    except Exception as exc:  # noqa: BLE001 - any compiler failure is reported, not raised
        log.debug("compile failed", exc_info=True)
        message = f"kfp.compiler failed: {type(exc).__name__}: {exc}"
        return CompileResult(None, [_finding(COMPILE_FAILED, message, file, line, dag_id)])
    finally:
        if module is not None:
            sys.modules.pop(module.__name__, None)
    return CompileResult(text)


def yaml_tasks(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """From compiled YAML: display name -> KFP task name, and ``(upstream, downstream)`` task names."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = next(iter(yaml.load_all(text, Loader=loader)), None) or {}
    tasks = spec.get("root", {}).get("dag", {}).get("tasks", {})
    display = {body.get("taskInfo", {}).get("name", name): name for name, body in tasks.items()}
    edges = sorted((up, name) for name, body in tasks.items() for up in body.get("dependentTasks", []))
    return display, edges
