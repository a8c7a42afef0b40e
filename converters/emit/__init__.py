"""Emitters: a mapped DAG -> readable KFP v2 ``pipeline.py`` -> compiled ``pipeline.yaml``.

Names are loaded on first use (PEP 562): reading a report (``spec_tasks``) or starting the
CLI must not import the emitter, the mappings and kfp's start-up with it.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CompileResult", "compile_pipeline", "yaml_tasks", "EmittedPipeline", "operator_label", "render_pipeline"]

_FROM = {"CompileResult": "compile", "compile_pipeline": "compile", "yaml_tasks": "compile",
         "EmittedPipeline": "pipeline_py", "operator_label": "pipeline_py", "render_pipeline": "pipeline_py"}


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)
    return value
