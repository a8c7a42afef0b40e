"""The KFP pipeline the provider tests run: two real components, parameters shaped like the
ones af2kfp convert emits (``ds``, ``run_id``), and the local server's fate parameter.
No ``from __future__ import annotations``: the KFP compiler reads the annotations."""

from pathlib import Path

from kfp import compiler, dsl

NAME = "provider-test"


@dsl.component(base_image="python:3.11-slim")
def extract(ds: str) -> str:
    return ds


@dsl.component(base_image="python:3.11-slim")
def train(data: str) -> str:
    return data


@dsl.pipeline(name=NAME)
def pipeline(ds: str, run_id: str = "", af2kfp_fate: str = ""):
    first = extract(ds=ds).set_display_name("extract")
    train(data=first.output).set_display_name("train")


def compile_to(path: Path) -> Path:
    compiler.Compiler().compile(pipeline, str(path))
    return path
