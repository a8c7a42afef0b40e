"""Emitters: a mapped DAG -> readable KFP v2 ``pipeline.py`` -> compiled ``pipeline.yaml``."""

from converters.emit.compile import CompileResult, compile_pipeline, yaml_tasks
from converters.emit.pipeline_py import EmittedPipeline, operator_label, render_pipeline

__all__ = ["CompileResult", "compile_pipeline", "yaml_tasks", "EmittedPipeline", "operator_label", "render_pipeline"]
