"""The Airflow context inside a Python component: what the body reads, built at its top.

Each case maps a callable, checks the component's inputs and findings, then runs the
generated ``def`` (as its container would) with the values KFP passes and checks what the
unchanged body saw.
"""

from __future__ import annotations

import json

import textwrap

import pytest

from af2kfp.converters.config import Config
from af2kfp.converters.graph import PythonCallable
from af2kfp.converters.mappings import map_task
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.mappings.model import Input, Template
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.templating import ParamRef, PipelineParameter, PlaceholderRef

PYTHON = "airflow.providers.standard.operators.python.PythonOperator"
TASK = "airflow.sdk.task"
BRANCH = "airflow.providers.standard.operators.python.BranchPythonOperator"
PARAMS = {"limit": PipelineParameter(name="limit", type="int", default=10),
          "region": PipelineParameter(name="region", type="str", default="eu")}
# What KFP passes each kind of input in these tests.
RUN = {"ds": "2024-03-05", "ds_nodash": "20240305", "ts": "2024-03-05T00:00:00+00:00", "ts_nodash": "20240305T000000",
       "logical_date": "2024-03-05 00:00:00+00:00", "data_interval_start": "2024-03-05 00:00:00+00:00",
       "data_interval_end": "2024-03-05 00:00:00+00:00"}
PIPELINE = {"limit": 10, "region": "eu", "dag_run_conf": {"day": "monday"}}


def _map(source: str, *, imports=(), operator=PYTHON, line=1, **args):
    source = textwrap.dedent(source).lstrip()
    name = source.split("(")[0].split()[-1]
    python = PythonCallable(name=name, source=source, file="dags/f.py", line=line, imports=list(imports))
    task = example_task(operator, "use", python=python, python_callable=name, **args)
    kfp, ctx = map_task(task, dag_id="sales", config=Config(), params=PARAMS)
    assert kfp is not None and kfp.python is not None
    return kfp, ctx.findings


def _run(kfp):
    """Call the generated component with the values KFP would pass its inputs; a value the component
    returns as JSON text (its carrier is ``json``) is decoded, as its reader would."""
    values = {}
    for name, argument in kfp.arguments.items():
        if isinstance(argument, Input) and argument.task_id == RUN_CONTEXT_ID:
            values[name] = RUN[argument.key]
        elif isinstance(argument, ParamRef):
            values[name] = PIPELINE[argument.name]
        elif isinstance(argument, Template):
            assert argument.parts == (PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"),)
            values[name] = "run-123"
        else:
            values[name] = argument
    namespace: dict = {}
    exec(kfp.python.code.replace("__AF2KFP_NAME__", "component"), namespace)  # generated code, not the DAG's
    returned = namespace["component"](**values)
    return json.loads(returned) if kfp.python.carrier == "json" else returned


def test_context_dict_gets_only_what_the_body_reads():
    kfp, found = _map('''
        def use(**context):
            """Load the day."""
            conf = context["dag_run"].conf
            return [context["ds"], context.get("logical_date").year, context["params"]["limit"], conf["day"],
                    context["run_id"], context["task"].task_id, context["dag"].dag_id]
    ''', provide_context=True)
    assert found == []
    assert kfp.arguments == {"ds": Input(name="ds", task_id=RUN_CONTEXT_ID, key="ds"),
                             "logical_date": Input(name="logical_date", task_id=RUN_CONTEXT_ID, key="logical_date"),
                             "limit": ParamRef("limit"), "dag_run_conf": ParamRef("dag_run_conf"),
                             "run_id": Template(name="run_id", parts=(PlaceholderRef("PIPELINE_JOB_ID_PLACEHOLDER"),))}
    assert kfp.run_context == {"ds": "ds", "logical_date": "logical_date"}
    assert {p.name for p in kfp.parameters} == {"limit", "dag_run_conf"}
    assert '    """Load the day."""\n    import json\n    from datetime import datetime\n' in kfp.python.code
    assert _run(kfp) == ["2024-03-05", 2024, 10, "monday", "run-123", "use", "sales"]


def test_named_context_parameters_are_inputs_or_built():
    kfp, found = _map('''
        def use(ds, logical_date, params, dag_run, ti, task_instance, run_id, ts_nodash=None):
            return [ds, str(logical_date.date()), params, dag_run.conf, ti.task_id, task_instance.map_index,
                    run_id, ts_nodash]
    ''')
    assert found == []
    assert kfp.python.code.splitlines()[1:10] == [
        "    import json",
        "    from datetime import datetime",
        "    from types import SimpleNamespace",
        "",
        "    def number(text):  # KFP carries a run's JSON numbers as floats: 25 arrives as 25.0",
        "        return int(float(text)) if float(text).is_integer() else float(text)",
        "",
        "    dag_run_conf = json.loads(json.dumps(dag_run_conf), parse_float=number)",
        "    logical_date = datetime.fromisoformat(logical_date)",
    ]
    assert _run(kfp) == ["2024-03-05", "2024-03-05", {"limit": 10, "region": "eu"}, {"day": "monday"}, "use", -1,
                         "run-123", "20240305T000000"]


@pytest.mark.parametrize("module", ["airflow.sdk", "airflow.operators.python", "airflow.decorators",
                                    "airflow.providers.standard.operators.python"])
def test_get_current_context_from_every_import_path(module):
    kfp, found = _map('''
        def use():
            context = get_current_context()
            return context["ds"], get_current_context()["ts"]
    ''', imports=[f"from {module} import get_current_context", "import json"], operator=TASK)
    assert found == []
    assert "get_current_context" not in kfp.python.code and "airflow" not in kfp.python.code
    assert '    context = {"ds": ds, "ts": ts}\n\n    return json.dumps((context["ds"], context["ts"]))\n' in kfp.python.code
    assert _run(kfp) == ["2024-03-05", "2024-03-05T00:00:00+00:00"]


def test_get_current_context_imported_inside_the_function():
    kfp, found = _map('''
        def use():
            from airflow.sdk import Variable, get_current_context

            return get_current_context()["params"].get("region")
    ''', operator=TASK)
    assert [f.code for f in found] == ["M221"]  # Variable still comes from Airflow
    assert "    from airflow.sdk import Variable\n" in kfp.python.code
    assert '    context = {"params": {"region": region}}\n' in kfp.python.code


def test_extra_keyword_arguments_stay_in_the_dict():
    kfp, found = _map('''
        def use(**kwargs):
            return kwargs["table"], kwargs["ds_nodash"]
    ''', op_kwargs={"table": "orders"})
    assert found == []
    assert '    kwargs = {**kwargs, "ds_nodash": ds_nodash}\n' in kfp.python.code
    assert _run(kfp) == ["orders", "20240305"]


def test_what_the_shim_cannot_build_is_flagged_on_its_line():
    kfp, found = _map('''
        def use(ti, **context):
            day = context["ds"]
            ti.xcom_push(key="day", value=day)
            token = context["var"]["value"].get("token")
            return context["ti"].try_number, context["logical_date"].add(days=1)
    ''', line=20)
    by_line = sorted((f.line, f.code, f.message) for f in found)
    assert [(line, code) for line, code, _ in by_line] == [(22, "M210"), (23, "M210"), (24, "M210"), (24, "M271")]
    assert "ti.xcom_push" in by_line[0][2] and "`var`" not in by_line[1][2] and "var" in by_line[1][2]
    assert "ti.try_number" in by_line[2][2] and "logical_date.add" in by_line[3][2]
    assert all(f.file == "dags/f.py" for f in found)
    assert kfp.fate == "review"


def test_context_passed_whole_gets_every_value_the_shim_can_build():
    kfp, found = _map('''
        def use(**kwargs):
            return describe(kwargs)

        def describe(context):
            return context["ds"]
    ''')
    assert [f.code for f in found] == ["M210", "M212"]
    assert "the context passed whole" in found[0].message
    for key in ("ds", "ts", "logical_date", "run_id", "params", "dag_run", "ti", "task", "dag"):
        assert f'"{key}": ' in kfp.python.code


def test_shim_names_do_not_shadow_the_bodys():
    kfp, found = _map('''
        def use(logical_date):
            return datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc) < logical_date
    ''', imports=["import datetime"])
    assert found == []
    assert "from datetime import datetime as airflow_datetime" in kfp.python.code
    assert "    import datetime\n" in kfp.python.code
    assert _run(kfp) is True


def test_an_input_name_taken_by_a_module_constant_is_renamed():
    python = PythonCallable(name="use", source='def use(**context):\n    return ds, context["ds"]\n',
                            file="f.py", line=1, constants={"ds": 'ds = "fixed"'})
    task = example_task(PYTHON, "use", python=python, python_callable="use")
    kfp, ctx = map_task(task, dag_id="sales", config=Config())
    assert kfp.arguments == {"airflow_ds": Input(name="airflow_ds", task_id=RUN_CONTEXT_ID, key="ds")}
    assert _run(kfp) == ["fixed", "2024-03-05"]


def test_async_callable_reads_its_context_inside():
    kfp, found = _map('''
        async def use(**context):
            return context["ds"]
    ''')
    assert found == []
    assert _run(kfp) == "2024-03-05"


def test_branch_callable_reading_the_logical_date():
    kfp, found = _map('''
        def choose(**context):
            if context["logical_date"].weekday() < 5:
                return "weekday"
            return "weekend"
    ''', operator=BRANCH)
    assert found == []
    assert _run(kfp) == "weekday"  # 2024-03-05 is a Tuesday


def test_macros_in_a_callable():
    kfp, found = _map('''
        def use(macros, ds):
            return macros.ds_add(ds, -1), macros.ds_format(ds, "%Y-%m-%d", "%d/%m"), macros.uuid.uuid4() is not None
    ''')
    assert found == []
    assert _run(kfp) == ["2024-03-04", "05/03", True]


def test_finding_lines_are_the_dag_files_under_decorators(tmp_path):
    from af2kfp.converters.analysis import analyze_paths
    from af2kfp.converters.graph import tasks

    (tmp_path / "lines.py").write_text(textwrap.dedent("""
        from airflow.sdk import DAG, get_current_context, task

        with DAG("lines", schedule=None):
            @task(
                retries=1,
            )
            def push():
                ctx = get_current_context()
                ctx["ti"].xcom_push(key="k", value=1)

            push()
    """))
    (task,) = tasks(analyze_paths([tmp_path]).graphs[0])
    _, ctx = map_task(task, dag_id="lines", config=Config())
    assert [(f.code, f.line) for f in ctx.findings] == [("M210", 10)]
