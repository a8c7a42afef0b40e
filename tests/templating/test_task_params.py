"""Task-level params: ``{{ params.x }}`` in a task renders the params Airflow merges for that task.

Airflow renders a task's templates with the DAG's params, the task's ``params=`` and the
``params`` of its TaskGroups' or its own ``default_args`` over them (``process_params``). The
analyzer merges what the task sets, :func:`~af2kfp.converters.templating.merged_params` lays it over the
DAG's; a value known at conversion folds into the text as Jinja renders it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jinja2
import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.environment import Environment
from af2kfp.converters.graph import PythonCallable, dag_info, tasks
from af2kfp.converters.mappings import bash, python
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.model import Template
from af2kfp.converters.mappings.templates import prepare_task, translate_task
from af2kfp.converters.templating import (
    PARAM_UNKNOWN,
    UNDECLARED_PARAM,
    UNKNOWN_MACRO,
    ParamRef,
    PipelineParameter,
    TaskParam,
    TemplateContext,
    dag_parameters,
    merged_params,
    translate_template,
)
from af2kfp.converters.values import Call, Deferred, Symbolic

BASH = "airflow.providers.standard.operators.bash.BashOperator"
PYTHON = "airflow.providers.standard.operators.python.PythonOperator"
BASE = TemplateContext(dag_id="facilities", task_id="get_parks")
DAG_PARAMS = {"db": PipelineParameter(name="db", default="warehouse"), "limit": PipelineParameter(
    name="limit", type="int", default=100)}


def _variable(name: str) -> Deferred:
    """``Variable.get(name)`` as the analyzer leaves it when the Variable was not supplied."""
    return Deferred(source=f"Variable.get({name!r})", template=f"{{{{ var.value.{name} }}}}",
                    needs=(f"Variable {name}",))


def _translate(text: str, task_params: dict, environment: Environment | None = None):
    base = TemplateContext(dag_id=BASE.dag_id, task_id=BASE.task_id, environment=environment or Environment())
    ctx = TemplateContext(dag_id=base.dag_id, task_id=base.task_id, environment=base.environment,
                          params=merged_params(DAG_PARAMS, task_params, base))
    return translate_template(text, ctx)


def test_known_task_params_fold_into_the_text_over_the_dags():
    result = _translate("npm run get {{ params.source }} --db={{ params.db }} --limit={{ params.limit }}",
                        {"source": "dpr_parks", "db": "af_facdb"})
    assert result.parts == ("npm run get dpr_parks --db=af_facdb --limit=", ParamRef("limit"))
    assert [p.name for p in result.parameters_used] == ["limit"] and result.findings == ()


@pytest.mark.parametrize("value", [3, 2.5, True, None, "a b", {"table": "parks", "n": 2}, [1, "b"]])
def test_a_folded_value_is_the_text_jinja_renders(value):
    expected = jinja2.Environment().from_string("x={{ params.v }}").render(params={"v": value})
    assert _translate("x={{ params.v }}", {"v": value}).parts == (expected,)


def test_a_key_of_a_dict_param_folds_too():
    result = _translate("{{ params.target.table }}@{{ params['target']['schema'] }}",
                        {"target": {"table": "parks", "schema": "raw"}})
    assert result.parts == ("parks@raw",) and result.findings == ()
    missing = _translate("{{ params.target.other }}", {"target": {"table": "parks"}})
    assert [f.code for f in missing.findings] == [UNKNOWN_MACRO]


def test_a_param_holding_a_template_is_not_rendered_again():
    """Jinja renders once: ``{{ params.x }}`` of ``"{{ ds }}"`` is the text ``{{ ds }}``, as in Airflow."""
    result = _translate("echo '{{ params.day }}'", {"day": "{{ ds }}"})
    assert result.parts == ("echo '{{ ds }}'",) and result.findings == ()


def test_a_variable_not_supplied_is_its_pipeline_parameter():
    result = _translate("--user={{ params.ftp_user }} --dir={{ params.where }}",
                        {"ftp_user": _variable("FTP_USER"),
                         "where": Deferred(source="f'/data/{Variable.get(\"ROOT\")}'", template="/data/{{ var.value.ROOT }}",
                                           needs=("Variable ROOT",))})
    assert result.parts == ("--user=", ParamRef("FTP_USER"), " --dir=/data/", ParamRef("ROOT"))
    assert [(p.name, p.kind) for p in result.parameters_used] == [("FTP_USER", "variable"), ("ROOT", "variable")]
    assert result.findings == ()


def test_a_supplied_variable_folds():
    environment = Environment(variables={"FTP_USER": "svc-loader"})
    result = _translate("--user={{ params.ftp_user }}", {"ftp_user": _variable("FTP_USER")}, environment)
    assert result.parts == ("--user=svc-loader",) and result.parameters_used == ()


def test_a_task_param_object_renders_its_default_and_a_required_one_is_a_parameter():
    result = _translate("{{ params.mode }} {{ params.shards }} {{ params.since }}",
                        {"mode": Call(func="airflow.sdk.Param", args=("full",), kwargs={"enum": ["full", "delta"]}),
                         "shards": Call(func="airflow.sdk.Param", args=(4,), kwargs={"type": "integer"}),
                         "since": Call(func="airflow.sdk.Param", kwargs={"type": "string"})})
    assert result.parts == ("full 4 ", ParamRef("since"))
    (since,) = result.parameters_used
    assert (since.type, since.has_default) == ("str", False) and "param 'since' of task 'get_parks'" in since.description


def test_a_value_not_known_is_a_parameter_with_a_finding_only_where_it_is_read():
    params = {"source": Symbolic(source="pick_source()"), "db": "af_facdb"}
    assert _translate("--db={{ params.db }}", params).findings == ()
    result = _translate("{{ params.source }}", params)
    assert result.parts == (ParamRef("source"),) and [f.code for f in result.findings] == [PARAM_UNKNOWN]


def test_a_param_neither_declares_is_still_the_undeclared_finding():
    result = _translate("{{ params.nope }}", {"source": "x"})
    assert [f.code for f in result.findings] == [UNDECLARED_PARAM]
    assert "neither the DAG nor the task declares param 'nope'" in result.findings[0].message


def test_bash_task_reads_its_own_params_and_only_the_parameters_it_uses():
    task = example_task(BASH, "get_parks", bash_command="npm run get {{ params.source }} --user={{ params.ftp_user }}",
                        params={"source": "dpr_parks", "ftp_user": _variable("FTP_USER"), "db": "af_facdb"})
    ctx = MapContext(task=prepare_task(task), dag_id="facilities", config=Config(), params=dict(DAG_PARAMS))
    kfp = bash.map_task(ctx, "BashOperator")
    translate_task(ctx, kfp)
    assert kfp.args == [Template(name="template_1", parts=("npm run get dpr_parks --user=", ParamRef("FTP_USER")))]
    assert [p.name for p in kfp.parameters] == ["FTP_USER"] and [f.code for f in ctx.findings] == []


def test_python_shim_params_are_the_merged_params():
    show = PythonCallable(name="show", file="example.py", line=3, source=(
        "def show(**context):\n    p = context['params']\n    print(p['source'], p['db'], p['limit'], p['user'])\n"))
    task = example_task(PYTHON, "show_parks", python=show, python_callable="show",
                        params={"source": "dpr_parks", "db": "af_facdb", "user": _variable("FTP_USER")})
    ctx = MapContext(task=prepare_task(task), dag_id="facilities", config=Config(), params=dict(DAG_PARAMS))
    kfp = python.map_task(ctx, "PythonOperator")
    assert '"params": {"db": "af_facdb", "limit": limit, "source": "dpr_parks", "user": FTP_USER}' in " ".join(
        kfp.python.code.split())
    assert kfp.arguments == {"limit": ParamRef("limit"), "FTP_USER": ParamRef("FTP_USER")}
    assert [p.name for p in kfp.parameters] == ["limit", "FTP_USER"] and kfp.fate == "converted"


def test_python_shim_builds_a_text_param_from_its_variable():
    show = PythonCallable(name="show", file="example.py", line=3,
                          source="def show(params):\n    print(params['where'])\n")
    where = Deferred(source="f'/data/{Variable.get(\"ROOT\")}'", template="/data/{{ var.value.ROOT }}")
    task = example_task(PYTHON, "show_root", python=show, python_callable="show", params={"where": where})
    ctx = MapContext(task=prepare_task(task), dag_id="facilities", config=Config(), params={})
    kfp = python.map_task(ctx, "PythonOperator")
    assert kfp.arguments == {"where": Template(name="where", parts=("/data/", ParamRef("ROOT")))}
    assert [p.name for p in kfp.parameters] == ["ROOT"]


_SNIPPET = """
    from airflow.sdk import DAG, Param, TaskGroup, task
    from airflow.providers.standard.operators.bash import BashOperator

    with DAG("merged_params", params={"a": 1, "s": "dag"}, default_args={"params": {"s": "dag_default", "z": 9}},
             schedule=None):
        with TaskGroup("g", default_args={"params": {"b": 2, "s": "group"}}):
            BashOperator(task_id="t1", bash_command="x")
            BashOperator(task_id="t2", bash_command="x", params={"c": 3, "s": "task"})
            with TaskGroup("h", default_args={"params": {"h": 2}}):
                BashOperator(task_id="t6", bash_command="x", params={"s": "task"})
                BashOperator(task_id="t7", bash_command="x", default_args={"params": {"s": "own_default"}})
        BashOperator(task_id="t3", bash_command="x", params={"s": "task"},
                     default_args={"params": {"s": "task_default", "d": 4}})
        BashOperator.partial(task_id="t4", params={"s": "partial"}).expand(bash_command=["a"])
        BashOperator(task_id="t5", bash_command="x", params={"p": Param(5, type="integer"), "q": Param("x")})

        @task(params={"s": "flow", "n": None})
        def t8():
            pass

        t8()
"""
_AIRFLOW_PARAMS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import process_params
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
dag = bag.dags["merged_params"]
print(json.dumps({t.task_id: process_params(dag, t, None, suppress_exception=False) for t in dag.tasks}))
"""


def test_merged_params_match_airflows_process_params(tmp_path):
    (tmp_path / "merged_params.py").write_text(textwrap.dedent(_SNIPPET))
    env = {"AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", _AIRFLOW_PARAMS, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    airflow = json.loads(done.stdout.strip().splitlines()[-1])
    (graph,) = analyze_paths([tmp_path / "merged_params.py"]).graphs
    dag_params, _ = dag_parameters(dag_info(graph).params)
    ours = {}
    for t in tasks(graph):
        base = TemplateContext(dag_id="merged_params", task_id=t.task_id)
        merged = merged_params(dag_params, t.args.get("params"), base)
        ours[t.task_id] = {k: v.value if isinstance(v, TaskParam) else v.default for k, v in merged.items()}
    assert ours == airflow
