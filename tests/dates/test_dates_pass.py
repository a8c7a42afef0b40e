"""The whole DAG's dates: one run context when a task reads one, its override parameter, M272."""

from __future__ import annotations

from af2kfp.converters.config import Config
from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.graph import DagInfo, PythonCallable, add_task, new_graph
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.run_context import RUN_CONTEXT_ID, Timing

BASH = "airflow.providers.standard.operators.bash.BashOperator"
PYTHON = "airflow.providers.standard.operators.python.PythonOperator"


def _graph(schedule="@daily", params=None, **commands):
    graph = new_graph(DagInfo(dag_id="d", file="d.py", line=1, schedule=schedule, params=params or {}))
    for task_id, command in commands.items():
        add_task(graph, example_task(BASH, task_id, bash_command=command))
    return graph


def test_no_date_read_no_run_context():
    mapped = map_graph(_graph(a="echo {{ params.x }}", params={"x": 1}))
    assert mapped.run_context is None and [p.name for p in mapped.parameters] == ["x"]


def test_one_run_context_for_every_date_read():
    mapped = map_graph(_graph(a="echo {{ ds }}", b="echo {{ macros.ds_add(ds, 1) }} {{ ds }}"))
    plan = mapped.run_context
    assert plan.timing == Timing(cron="0 0 * * *")
    assert plan.outputs == {"ds": "ds", next(n for n in plan.outputs if n.startswith("ds_add")): "macros.ds_add(ds, 1)"}
    (parameter,) = mapped.parameters
    assert (parameter.name, parameter.default, parameter.airflow) == ("logical_date", "", "{{ ts }}")
    assert all(a.task_id == RUN_CONTEXT_ID for t in mapped.tasks for part in t.args for a in part.parts
               if not isinstance(a, str))


def test_a_dag_param_called_logical_date_keeps_its_name():
    mapped = map_graph(_graph(a="echo {{ ds }} {{ params.logical_date }}", params={"logical_date": "x"}))
    assert [p.name for p in mapped.parameters] == ["logical_date", "logical_date_"]
    assert mapped.run_context.parameter == "logical_date_"


def test_airflow_2_dates_on_airflow_3_dating_are_noted():
    graph = _graph(a="echo {{ prev_ds }} {{ execution_date }}")
    assert [(f.code, f.severity.value) for f in map_graph(graph).findings] == [("M272", "info")]
    assert map_graph(graph, Config(create_cron_data_intervals=True)).findings == []
    assert map_graph(_graph(a="echo {{ ds }}")).findings == []
    assert map_graph(_graph(schedule=None, a="echo {{ yesterday_ds }}")).findings == []  # nothing recurs


def test_the_exit_task_never_reads_the_run_context():
    """KFP's exit task may depend on no task: a one_failed alert reading a date is not made one."""
    graph = _graph(load="echo load")
    alert = PythonCallable(name="alert", source="def alert(ds):\n    print('failed', ds)\n", file="d.py", line=3)
    add_task(graph, example_task(PYTHON, "alert", python=alert, python_callable="alert", trigger_rule="one_failed"))
    graph.add_edge("load", "alert", kind="order")
    mapped = map_graph(graph)
    assert not any(t.exit_handler for t in mapped.tasks) and mapped.run_context is not None
    emitted = render_pipeline(mapped)
    assert compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="d", file="d.py").yaml is not None
