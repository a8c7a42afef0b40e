"""translate_template: parts, parameters, secrets, data refs and findings of one template."""

from __future__ import annotations

import ast

import pytest

from af2kfp.converters.templating import (
    PARAM_UNKNOWN,
    STATEMENT_KEPT,
    UNDECLARED_PARAM,
    UNKNOWN_MACRO,
    ContextRef,
    DataRef,
    ParamRef,
    PlaceholderRef,
    SecretRef,
    TemplateContext,
    dag_parameters,
    pipeline_expression,
    python_name,
    translate_template,
)
from af2kfp.converters.values import Call, DateTime, Symbolic

CTX = TemplateContext(dag_id="d", task_id="t")


def test_text_without_jinja_is_one_literal_part():
    assert translate_template("echo {x} }}", CTX).parts == ("echo {x} }}",)


def test_known_and_unknown_macros_mixed():
    result = translate_template("load {{ ds }} {{ ti.try_number }} {{ run_id }}{# note #} {{ foo(1) }}", CTX)
    assert result.parts == ("load ", ContextRef("ds", "ds"), " {{ ti.try_number }} ",
                            PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"), " {{ foo(1) }}")
    assert result.parameters_used == ()  # the run's dates come from the run context
    assert [(f.code, f.message) for f in result.findings] == [
        (UNKNOWN_MACRO, "{{ ti.try_number }} has no KFP translation; kept verbatim"),
        (UNKNOWN_MACRO, "{{ foo(1) }} has no KFP translation; kept verbatim"),
    ]


def test_whitespace_control_and_same_parameter_twice():
    result = translate_template("{{- ds -}}/{{ds}}", CTX)
    assert result.parts == (ContextRef("ds", "ds"), "/", ContextRef("ds", "ds")) and result.parameters_used == ()


def test_statements_keep_the_whole_string():
    text = "{% for i in range(3) %}{{ i }}{% endfor %} {{ ds }}"
    result = translate_template(text, CTX)
    assert result.parts == (text,) and [f.code for f in result.findings] == [STATEMENT_KEPT]


def test_syntax_error_is_a_finding_not_an_exception():
    result = translate_template("echo {{ ds ", CTX)
    assert result.parts == ("echo {{ ds ",) and [f.code for f in result.findings] == [UNKNOWN_MACRO]


def test_undeclared_param_is_a_str_parameter_with_a_finding():
    result = translate_template("{{ params.limit }}", CTX)
    (parameter,) = result.parameters_used
    assert (parameter.name, parameter.type, parameter.has_default) == ("limit", "str", False)
    assert [f.code for f in result.findings] == [UNDECLARED_PARAM]


def test_macro_expressions_get_distinct_names():
    (a,) = translate_template("{{ ds | replace('-', '') }}", CTX).parts
    (b,) = translate_template("{{ ds | replace('-', '/') }}", CTX).parts
    (c,) = translate_template("{{ macros.ds_add(ds, -7) }}", CTX).parts
    assert a.name != b.name and a.name.startswith("ds_replace_") and c.name.startswith("ds_add_ds_7_")
    assert (a.python, c.python) == ('str(ds).replace("-", "")', "macros.ds_add(ds, -7)")
    assert translate_template("{{ macros.evil(ds) }}", CTX).findings  # not a macros function Airflow has
    assert translate_template("{{ logical_date.add(days=1) }}", CTX).findings  # pendulum only: no datetime method


def test_per_run_values_the_pipeline_cannot_compute_stay_run_parameters():
    (parameter,) = translate_template("{{ prev_start_date_success }}", CTX).parameters_used
    assert (parameter.name, parameter.kind, parameter.has_default) == ("prev_start_date_success", "run", False)
    (conf,) = translate_template("{{ dag_run.conf['day'] }}", CTX).parameters_used
    assert (conf.name, conf.kind, conf.airflow) == ("day", "run", "{{ dag_run.conf['day'] }}")
    assert translate_template("{{ ds if dag_run.conf['x'] else '' }}", CTX).findings  # dates and conf mixed


def test_var_get_default_and_json_path():
    (value,) = translate_template("{{ var.value.get('bucket', 'raw') }}", CTX).parameters_used
    assert (value.name, value.default) == ("bucket", "raw")
    (json,) = translate_template("{{ var.json.cfg['region'] }}", CTX).parameters_used
    assert (json.name, json.has_default, json.airflow) == ("cfg_region", False, "{{ var.json.cfg['region'] }}")


def test_conn_is_a_secret_reference_only():
    result = translate_template("psql postgresql://{{ conn.pg_main.login }}:{{ conn.pg_main.password }}@h", CTX)
    assert result.secrets == (SecretRef("pg_main", "login"), SecretRef("pg_main", "password"))
    assert result.secrets[1].env == "AF2KFP_CONN_PG_MAIN_PASSWORD"
    assert result.secrets[1].secret_name == "airflow-conn-pg-main"


def test_xcom_pull_forms():
    assert translate_template("{{ ti.xcom_pull(task_ids='a', key='rows') }}", CTX).data_refs == (DataRef("a", "rows"),)
    assert translate_template("{{ task_instance.xcom_pull('a') }}", CTX).data_refs == (DataRef("a"),)
    many = translate_template("{{ ti.xcom_pull(task_ids=['a', 'b']) }}", CTX)
    assert many.data_refs == () and many.findings


def test_python_names():
    assert [python_name(n) for n in ("my-param", "2nd", "class", "dsl", "")] == [
        "my_param", "p_2nd", "class_", "dsl_", "param"]


PARAM = "airflow.sdk.Param"


@pytest.mark.parametrize("value,expected", [
    (Call(func=PARAM, args=(5,), kwargs={"type": "integer"}), ("int", 5)),
    (Call(func=PARAM, args=(5,), kwargs={"type": "number"}), ("float", 5.0)),
    (Call(func=PARAM, args=(True,), kwargs={"type": "boolean"}), ("bool", True)),
    (Call(func=PARAM, args=([1],), kwargs={"type": "array"}), ("list", [1])),
    (Call(func=PARAM, args=({"a": 1},), kwargs={"type": "object"}), ("dict", {"a": 1})),
    (Call(func=PARAM, kwargs={"default": "x", "type": ["null", "string"]}), ("str", "x")),
    (Call(func="airflow.models.param.Param", args=("a",), kwargs={"enum": ["a", "b"]}), ("str", "a")),
    (Call(func=PARAM, args=(DateTime(iso="2024-01-01T00:00:00"),)), ("str", "2024-01-01T00:00:00")),
    (2.5, ("float", 2.5)),
    ("text", ("str", "text")),
    ([1, 2], ("list", [1, 2])),
])
def test_dag_params_are_typed_with_defaults(value, expected):
    params, issues = dag_parameters({"p": value})
    assert issues == [] and (params["p"].type, params["p"].default) == expected


def test_param_without_default_is_required_and_enum_is_described():
    params, _ = dag_parameters({"must": Call(func=PARAM, kwargs={"type": "integer", "description": "rows"}),
                                "mode": Call(func=PARAM, args=("a",), kwargs={"enum": ["a", "b"]})})
    assert (params["must"].type, params["must"].has_default, params["must"].description) == ("int", False, "rows")
    assert params["mode"].description == "one of a, b"


def test_unknown_param_values_are_findings():
    params, issues = dag_parameters({"a": Symbolic(source="compute()"),
                                     "b": Call(func=PARAM, args=(Symbolic(source="x"),))})
    assert not params["a"].has_default and not params["b"].has_default
    assert [i.code for i in issues] == [PARAM_UNKNOWN, PARAM_UNKNOWN]
    assert dag_parameters(Symbolic(source="load()"))[1][0].code == PARAM_UNKNOWN


def test_pipeline_expression_is_a_valid_f_string_keeping_braces_and_quotes():
    parts = ("it's {x} \\ \"q\" ", ParamRef("ds"), "-", PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"), "/",
             DataRef("a"))
    source = pipeline_expression(parts, lambda ref: f"{ref.task_id}_task.output")
    namespace = {"ds": "2024-01-01", "dsl": type("dsl", (), {"PIPELINE_JOB_ID_PLACEHOLDER": "ID"}),
                 "a_task": type("t", (), {"output": "OUT"})}
    assert eval(compile(ast.parse(source, mode="eval"), "<x>", "eval"), namespace) == (
        "it's {x} \\ \"q\" 2024-01-01-ID/OUT")
    assert pipeline_expression((PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"),), str) == (
        "dsl.PIPELINE_JOB_ID_PLACEHOLDER")


def test_lone_reference_is_bare_only_when_it_is_a_string():
    assert pipeline_expression((ParamRef("ds"),), str, frozenset({"ds"})) == "ds"
    assert pipeline_expression((ParamRef("n"),), str, frozenset({"ds"})) == 'f"{n}"'
    assert pipeline_expression((DataRef("a"),), lambda r: "a_task.output") == 'f"{a_task.output}"'
