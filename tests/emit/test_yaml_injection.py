"""A parameter default, a description or an id cannot inject YAML or hide text: every separator is escaped.

kfp writes string defaults raw into ``pipeline.yaml``'s ``# Inputs:`` header; a line break there ends
the comment. For each character YAML, Python or a terminal treats as a line break or a reordering,
the written file must load back (safe loader) as exactly the compiled spec and carry no raw copy of it.
"""

from __future__ import annotations


import pytest
import yaml

from af2kfp.converters.emit.compile import NOT_LOADABLE, _check_loads_back, NotLoadable, compile_pipeline
from af2kfp.converters.text import UNSAFE, visible

# What breaks a YAML comment (PyYAML: \n \r \x85 \u2028 \u2029), what Python's splitlines() splits on
# besides, and the bidi controls of "Trojan Source".
SEPARATORS = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e",
              "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\x00", "\x1b"]
ATTACK = "x{sep}---{sep}pipelineInfo: {{name: evil}}{sep}root: {{}}{sep}evil: 1"

PIPELINE = '''
from kfp import dsl


@dsl.container_component
def echo(text: str):
    return dsl.ContainerSpec(image="bash:5.2", command=["echo"], args=[text])


@dsl.pipeline(name="inject", description={description!r})
def inject(sql: str = {default!r}):
    echo(text=sql).set_display_name({display!r})
'''


def _compile(default: str, description: str = "plain", display: str = "t"):
    code = PIPELINE.format(default=default, description=description, display=display)
    return compile_pipeline(code, "inject", dag_id="inject", file="dags/inject.py", line=1)


def _loaded(text: str) -> list:
    return list(yaml.load_all(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize("sep", SEPARATORS, ids=lambda c: f"U+{ord(c[0]):04X}" + ("+" if len(c) > 1 else ""))
def test_default_with_separator_cannot_inject(sep):
    attack = ATTACK.format(sep=sep)
    compiled = _compile(attack, description=f"line one{sep}evil: 2", display=f"t{sep}x")
    assert compiled.yaml is not None, [f.message for f in compiled.findings]
    documents = _loaded(compiled.yaml)
    assert len(documents) == 1 and documents[0]["pipelineInfo"]["name"] == "inject"
    assert "evil" not in documents[0] and "evil" not in documents[0]["root"]
    params = documents[0]["root"]["inputDefinitions"]["parameters"]
    assert params["sql"]["defaultValue"] == attack  # the value itself is kept exactly, in the YAML body
    header = compiled.yaml[: compiled.yaml.index("\ncomponents:")]
    lines = header.split("\n")
    assert all(line.startswith("#") and not UNSAFE.search(line) for line in lines)
    assert visible(attack) in header


def test_kfp_own_header_is_what_the_check_catches():
    """kfp's raw header (what af2kfp wrote before) loads as the attacker's document: the check refuses it."""
    from kfp.compiler import pipeline_spec_builder as builder

    compiled = _compile("plain")
    spec = _loaded(compiled.yaml)[0]
    spec["root"]["inputDefinitions"]["parameters"]["sql"]["defaultValue"] = ATTACK.format(sep="\n")
    raw = builder.extract_comments_from_pipeline_spec(spec, "d") + yaml.safe_dump(spec)
    with pytest.raises(NotLoadable):
        _check_loads_back(raw, [spec])


@pytest.mark.parametrize("text", ["1", "SELECT 1\nFROM t", "caf\u00e9 \u2603", "a'b\"c", "- x", "{a: 1}", "#x"])
def test_ordinary_defaults_load_back_exactly(text):
    compiled = _compile(text)
    assert compiled.yaml is not None and _loaded(compiled.yaml)[0]["root"]["inputDefinitions"]["parameters"][
        "sql"]["defaultValue"] == text
    assert NOT_LOADABLE not in [f.code for f in compiled.findings]


def test_visible_keeps_plain_text_and_escapes_the_rest():
    assert visible("plain text, caf\u00e9") == "plain text, caf\u00e9"
    assert visible("a\nb\u202ec\ud800") == "a\\nb\\u202ec\\ud800"
