"""When the fallback runs an operator, when it gives a placeholder, and what it tells the user."""

from __future__ import annotations

import json

import pytest

from af2kfp.converters.config import Config, load_config
from af2kfp.converters.errors import InputError
from af2kfp.converters.graph import DagInfo, PythonCallable, add_edge, add_task, new_graph
from af2kfp.converters.mappings import map_graph, map_task
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.fallback import connection_env, connection_secret
from af2kfp.converters.templating import ParamRef
from af2kfp.converters.values import Call, Deferred, Duration, Lambda, Symbolic, TaskRef

SQL = "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator"
EXTERNAL = "airflow.providers.standard.sensors.external_task.ExternalTaskSensor"


def _map(task, config=None):
    kfp, _ = map_task(task, dag_id="d", config=config or Config())
    return kfp


def _codes(kfp):
    return sorted(f.code for f in kfp.findings)


@pytest.mark.parametrize(("args", "reason"), [
    ({"sql": "select 1", "parameters": {"x": TaskRef(task_id="up")}}, "argument `parameters` reads the XCom of 'up'"),
    ({"sql": "select 1", "hook_factory": Symbolic(source="make_hook")},
     "argument `hook_factory` is unknown at conversion (make_hook) and holds a Python object"),
    ({"sql": Call(func="helpers.make_sql")}, "argument `sql` calls helpers.make_sql"),
])
def test_unknown_arguments_give_a_placeholder_saying_why(args, reason):
    kfp = _map(example_task(SQL, "q", **args))
    assert kfp.kind == "placeholder" and kfp.fate == "unsupported" and _codes(kfp) == ["M201"]
    assert reason in kfp.findings[0].message


def test_an_unknown_argument_is_a_pipeline_parameter_not_a_placeholder():
    kfp = _map(example_task(SQL, "q", conn_id="dw", sql=Symbolic(source="build_sql(table)"),
                            parameters={"limit": Symbolic(source="{**base, **extra}")},
                            hook_params={"schema": Deferred(source='Variable.get("schema")',
                                                            template="{{ var.value.schema }}",
                                                            needs=("Variable schema",))}))
    assert kfp.rule == "fallback" and kfp.kind == "container"
    assert _codes(kfp) == ["M207", "M225", "M256", "M283", "M283", "M283"]  # M256: the type of "dw" is not known
    sets = [kfp.args[i:i + 3] for i, item in enumerate(kfp.args) if item in ("--set", "--set-json")]
    assert [(flag, pointer) for flag, pointer, _ in sets] == [
        ("--set", "/hook_params/schema"), ("--set-json", "/parameters/limit"), ("--set", "/sql")]
    assert [value.parts for _, _, value in sets] == [(ParamRef("schema"),), (ParamRef("q_parameters_limit"),),
                                                     (ParamRef("q_sql"),)]
    assert {p.name: (p.kind, p.type) for p in kfp.parameters} == {
        "schema": ("variable", "str"), "q_parameters_limit": ("argument", "str"), "q_sql": ("argument", "str")}
    assert "as JSON text of a dict" in next(f.message for f in kfp.findings if "limit" in f.message)


def test_callbacks_and_scheduler_settings_do_not_block_and_are_info():
    kfp = _map(example_task(SQL, "q", sql="select 1", on_failure_callback=Symbolic(source="alert"), queue="db",
                            priority_weight=3, executor_config={"KubernetesExecutor": {}}))
    assert kfp.rule == "fallback" and kfp.kind == "container"
    assert _codes(kfp) == ["M203", "M203", "M203", "M203", "M225", "M256"]  # M256: no connection, no known hook
    assert "on_failure_callback" not in json.loads(kfp.args[kfp.args.index("--kwargs") + 1])


def test_python_callables_and_repository_classes_are_not_run():
    python = PythonCallable(name="f", source="def f():\n    return 1\n", file="f.py", line=1)
    sensor = example_task("airflow.providers.standard.sensors.python.PythonSensor", "s",
                          python_callable=Symbolic(source="f"), python=python)
    assert "Python callable" in _map(sensor).findings[0].message
    team = _map(example_task("acme.ops.TeamOperator", "t", image="x"))
    assert team.kind == "placeholder" and 'map it to "fallback"' in team.findings[0].message


def test_user_class_mapped_to_fallback_runs_as_it_is_in_the_users_image():
    task = example_task("acme.ops.TeamOperator", "t", image="x", retries=2, retry_delay=Duration(seconds=60))
    config = Config(operators={"acme.ops.TeamOperator": "fallback"}, airflow_image="registry.example.com/acme:1")
    kfp = _map(task, config)
    assert kfp.kind == "container" and kfp.rule == "fallback" and kfp.retry.num_retries == 2
    assert _codes(kfp) == ["M216", "M225"] and kfp.fate == "converted"
    assert json.loads(kfp.args[kfp.args.index("--kwargs") + 1]) == {"image": "x"}
    stock = _map(task, Config(operators={"acme.ops.TeamOperator": "fallback"}))  # the official image has no acme
    assert _codes(stock) == ["M216", "M225", "M256"] and stock.fate == "review"
    assert "apache/airflow:3.3.2 does not have acme.ops: build an image FROM apache/airflow:3.3.2" in next(
        f.message for f in stock.findings if f.code == "M256")


def test_fallback_off_keeps_placeholders():
    kfp = _map(example_task(SQL, "q", sql="select 1"), Config(fallback="off"))
    assert kfp.kind == "placeholder" and 'fallback = "off"' in kfp.findings[0].message


def test_connections_come_from_secrets_never_plaintext():
    kfp = _map(example_task(SQL, "q", conn_id="Ware_House", sql="select '{{ conn.audit_db.host }}'"))
    assert sorted((s.secret_name, s.key_to_env["uri"]) for s in kfp.secret_env) == [
        ("airflow-conn-audit-db", "AIRFLOW_CONN_AUDIT_DB"), ("airflow-conn-ware-house", "AIRFLOW_CONN_WARE_HOUSE")]
    assert kfp.env == {}
    assert connection_secret("my.db__prod") == "airflow-conn-my.db-prod" and connection_env("x_y") == "AIRFLOW_CONN_X_Y"


def test_sensors_skip_folds_them_with_a_warning_and_keeps_the_order():
    graph = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    bash = "airflow.providers.standard.operators.bash.BashOperator"
    add_task(graph, example_task(bash, "a", bash_command="true"))
    add_task(graph, example_task(EXTERNAL, "wait", external_dag_id="up", external_task_id=Symbolic(source="x")))
    add_task(graph, example_task(bash, "b", bash_command="true"))
    add_edge(graph, "a", "wait")
    add_edge(graph, "wait", "b")
    mapped = map_graph(graph, Config(sensors="skip"))
    assert mapped.fates == {"a": "converted", "wait": "review", "b": "converted"}  # folded, but M226: review
    assert mapped.edges == [("a", "b")]
    assert [f.code for f in mapped.findings] == ["M226"]


def test_external_task_sensor_fallback_says_it_needs_airflows_database():
    kfp = _map(example_task(EXTERNAL, "wait", external_dag_id="up", external_task_id="done", mode="reschedule"))
    assert kfp.rule == "fallback" and kfp.fate == "review" and _codes(kfp) == ["M225", "M257"]
    assert "pokes inside the container" in next(f.message for f in kfp.findings if f.code == "M225")
    why = next(f.message for f in kfp.findings if f.code == "M257")
    assert "metadata database" in why and 'sensors = "skip"' in why


def test_config_choices_are_validated(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.af2kfp]\nsensors = "skip"\nfallback = "off"\n')
    config = load_config(path)
    assert (config.sensors, config.fallback) == ("skip", "off")
    path.write_text('[tool.af2kfp]\nsensors = "ignore"\n')
    with pytest.raises(InputError, match="sensors = 'ignore'; expected one of fallback, skip"):
        load_config(path)


HTTP = "airflow.providers.http.operators.http.HttpOperator"
GCS_COPY = "airflow.providers.google.cloud.transfers.gcs_to_gcs.GCSToGCSOperator"


def test_a_self_contained_lambda_travels_as_its_text_to_the_runner():
    """``response_check=lambda response: ...`` reading only its parameter: the operator runs with it, the
    runner compiling its text in the container (no pipeline parameter, no placeholder)."""
    check = Lambda(source='lambda response: response.json()["code"] == 200')
    kfp = _map(example_task(HTTP, "refresh", http_conn_id="api", endpoint="/refresh", response_check=check))
    assert kfp.rule == "fallback" and kfp.kind == "container" and kfp.fate == "converted"
    assert "M283" not in _codes(kfp) and not kfp.parameters
    kwargs = json.loads(kfp.args[kfp.args.index("--kwargs") + 1])
    assert kwargs["response_check"] == {"$symbolic": check.source, "lambda": True}
    (note,) = [f.message for f in kfp.findings if f.code == "M225"]
    assert "the lambda of response_check is compiled from its source in the container" in note


def test_a_lambda_reading_names_of_the_dag_file_is_still_a_placeholder():
    kfp = _map(example_task(HTTP, "refresh", http_conn_id="api", response_check=Symbolic(source="<lambda>")))
    assert kfp.kind == "placeholder" and _codes(kfp) == ["M201"]


def test_a_bucket_object_name_is_text_not_a_python_object():
    """GCS operators call an object's name ``destination_object``: an unknown one is a pipeline parameter."""
    kfp = _map(example_task(GCS_COPY, "copy", source_bucket="raw", source_object="a.csv", destination_bucket="b",
                            destination_object=Symbolic(source="target_path(ds)")))
    assert kfp.kind == "container" and "M283" in _codes(kfp)
