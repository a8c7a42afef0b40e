"""A small real pipeline for the ``af2kfp run`` tests (no ``from __future__ import annotations``:
KFP reads the component annotations at decoration time)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def prepare(label: str, n: int) -> str:
    return f"{label}:{n}"


@dsl.component(base_image="python:3.11")
def crunch(text: str, items: list, flag: bool) -> str:
    return f"{text}:{len(items)}:{flag}"


@dsl.component(base_image="python:3.11")
def publish(text: str) -> str:
    return text


@dsl.pipeline(name="cli-run-demo", description="three tasks, typed parameters")
def cli_run_demo(label: str = "x", n: int = 1, items: list = [], flag: bool = False) -> str:
    first = prepare(label=label, n=n)
    second = crunch(text=first.output, items=items, flag=flag)
    return publish(text=second.output).output
