"""Every row of the macro table translates as documented, and docs/templating.md holds the table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from af2kfp.converters.templating import (
    MACROS,
    ContextRef,
    DataRef,
    ParamRef,
    PipelineParameter,
    PlaceholderRef,
    SecretRef,
    TemplateContext,
    macro_table,
    translate_template,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "templating.md"
CTX = TemplateContext(dag_id="sales", task_id="load", params={"x": PipelineParameter(name="x", type="int", default=1)})
EXAMPLES = [(m.kind, example) for m in MACROS for example in m.examples]


def test_every_row_but_variable_get_has_examples():
    assert [m.airflow for m in MACROS if not m.examples] == ['Variable.get("x") (argument value)']


@pytest.mark.parametrize("kind,example", EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_example_translates_to_its_kind(kind, example):
    result = translate_template(example, CTX)
    refs = [p for p in result.parts if not isinstance(p, str)]
    if kind == "finding":
        assert result.findings and result.parts == (example,)
        return
    assert result.findings == ()
    if kind == "literal":
        assert result.is_static and "".join(result.parts) in ("sales", "load", "")
    elif kind == "param":
        assert refs == [ParamRef("x")] and result.parameters_used == (CTX.params["x"],)
    elif kind in ("run", "variable"):
        (parameter,) = result.parameters_used
        assert refs == [ParamRef(parameter.name)] and (parameter.type, parameter.kind) == ("str", kind)
        assert parameter.airflow == example  # what the caller passes renders the same expression
    elif kind == "date":
        (ref,) = refs
        assert isinstance(ref, ContextRef) and result.parameters_used == ()
    elif kind == "placeholder":
        assert refs == [PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER")]
    elif kind == "secret":
        assert len(refs) == 1 and isinstance(refs[0], SecretRef) and result.secrets == tuple(refs)
    elif kind == "data":
        assert refs == [DataRef("t")] and result.data_refs == (DataRef("t"),)
    else:  # pragma: no cover - a new kind needs a branch here
        pytest.fail(f"unknown kind {kind}")


def test_docs_table_is_current():
    text = DOC.read_text()
    head, rest = text.split("<!-- macros:begin -->\n")
    _, tail = rest.split("<!-- macros:end -->")
    expected = head + "<!-- macros:begin -->\n" + macro_table() + "<!-- macros:end -->" + tail
    if os.environ.get("AF2KFP_REGENERATE") == "1":
        DOC.write_text(expected)
    assert text == expected, "docs/templating.md is stale: run with AF2KFP_REGENERATE=1"
