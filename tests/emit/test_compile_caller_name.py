"""kfp's task setters still name themselves in their error after compile's cheaper stack lookup.

No ``from __future__ import annotations`` here: kfp reads the component annotations as types.
"""


import pytest
from kfp import dsl

from af2kfp.converters.emit.compile import prepare


def test_setter_on_a_sub_pipeline_names_the_setter():
    prepare()  # what every compile does before running a generated module

    @dsl.component(base_image="python:3.11")
    def step() -> str:
        return "x"

    @dsl.pipeline
    def inner():
        step()

    with pytest.raises(ValueError, match="^set_cpu_limit can only be used on single-step components"):

        @dsl.pipeline
        def outer():
            inner().set_cpu_limit("1")
