"""PythonOperator and TaskFlow ``@task`` -> a lightweight Python component.

``@task.docker`` / ``@task.kubernetes`` run the same component on their image (with
their container settings); ``@task.virtualenv`` installs its ``requirements``.
"""

from __future__ import annotations

from af2kfp.converters.graph import PythonCallable
from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.base import apply_base, finish
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.docker import apply_docker_environment
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import SINGLE_OUTPUT, Decision, Input, KfpTask
from af2kfp.converters.templating import ParamRef
from af2kfp.converters.mappings.pod import POD_FLAGGED_ARGS, POD_IGNORED, POD_MAPPED_ARGS, apply_pod
from af2kfp.converters.mappings.context_shim import shim_parameters
from af2kfp.converters.mappings.pyfunc import build_function
from af2kfp.converters.mappings.templates import task_template_context
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.mappings.values import string, string_list, unexpected
from af2kfp.converters.values import TaskRef

__all__ = ["RULES", "OPERATORS", "map_task", "EXAMPLES", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS"]

PYTHON = "airflow.providers.standard.operators.python.PythonOperator"
TASK = "airflow.sdk.task"
RULES = ("PythonOperator", "task", "task.docker", "task.kubernetes", "task.virtualenv")
OPERATORS = {
    PYTHON: "PythonOperator",
    "airflow.operators.python.PythonOperator": "PythonOperator",
    "airflow.operators.python_operator.PythonOperator": "PythonOperator",
    "airflow.providers.standard.operators.python.PythonVirtualenvOperator": "task.virtualenv",
    "airflow.operators.python.PythonVirtualenvOperator": "task.virtualenv",
    # A ready-made interpreter: its `python` path is flagged (M202); the base image must match it.
    "airflow.providers.standard.operators.python.ExternalPythonOperator": "PythonOperator",
    "airflow.sdk.task.external_python": "task",
    "airflow.decorators.task.external_python": "task",
    TASK: "task",
    "airflow.sdk.task.python": "task",
    "airflow.decorators.task": "task",
    "airflow.decorators.task.python": "task",
    "airflow.sdk.task.docker": "task.docker",
    "airflow.decorators.task.docker": "task.docker",
    "airflow.sdk.task.kubernetes": "task.kubernetes",
    "airflow.decorators.task.kubernetes": "task.kubernetes",
    "airflow.sdk.task.virtualenv": "task.virtualenv",
    "airflow.decorators.task.virtualenv": "task.virtualenv",
}
IGNORED = frozenset({"show_return_value_in_logs", "python_version", "system_site_packages", "use_dill",
                     "serializer", "pip_install_options", "index_urls", "venv_cache_path"}) | POD_IGNORED


MAPPED_ARGS = ("python_callable -> lightweight component from its source",
               "op_args, op_kwargs -> arguments (exact values: JSON text where KFP would change them)",
               "requirements -> packages_to_install",
               "third-party imports -> packages_to_install (package table, [tool.af2kfp.packages])",
               "image (@task.docker/@task.kubernetes) -> base_image",
               "return value -> component output (native type where certain, else JSON text)",
               "multiple_outputs / -> dict, task_output[\"key\"] -> one NamedTuple output per key read",
               "module-level constants, values and self-contained functions the callable reads -> copied into it",
               "names imported from the repository's own modules -> their definitions copied into it (M266)",
               "Variable.get(\"x\") in the body -> served in the component: --variables value or pipeline parameter",
               "ti.xcom_pull(task_ids=\"x\") of a task with an output -> component input",
               "**context, get_current_context(), ds, ti, params, dag_run.conf... -> built at the top of the body "
               "from the run context, pipeline parameters and placeholders",
               "Airflow's exception classes (airflow.exceptions, airflow.sdk.exceptions) -> defined in the component; "
               "AirflowSkipException -> a not_skipped output the tasks after it test, as their trigger rules say",
               *POD_MAPPED_ARGS)
DROPPED_ARGS = tuple(sorted(IGNORED))
FLAGGED_ARGS = ("Airflow context the shim cannot build (ti.xcom_push, var, conn, other XCom keys...)", "templates_dict",
                "other module-level names in the callable (rebound names, decorated functions, __file__...)",
                "imports no package table knows (M260) or of the repository itself (M261)",
                "repository code that cannot be copied (M264) or clashes with the callable's names (M265)",
                "Variable.get with a computed key, Variable.set (M268)",
                "an XCom key the producer does not push (M262)",
                "callable source not found", "Jinja without a KFP translation (docs/templating.md)", *POD_FLAGGED_ARGS)
def _call(ctx: MapContext, rule: str) -> tuple[list, dict]:
    """Positional and keyword values the callable receives: op_args/op_kwargs or the TaskFlow call."""
    if ctx.has("python_callable") or rule == "PythonOperator":
        ctx.arg("python_callable")
        ctx.arg("provide_context")  # Airflow 1.10's switch for **context: the shim builds what the body reads
        if ctx.arg("templates_dict") is not None:
            ctx.add(codes.AIRFLOW_CONTEXT, "templates_dict is rendered by Airflow's Jinja; not available in KFP")
        op_args = ctx.arg("op_args") or []
        op_kwargs = ctx.arg("op_kwargs") or {}
        return (list(op_args) if isinstance(op_args, (list, tuple)) else [],
                dict(op_kwargs) if isinstance(op_kwargs, dict) else {})
    return list(ctx.task.call_args), dict(ctx.task.call_kwargs)


def _requirements(ctx: MapContext, rule: str) -> tuple[str, ...]:
    """What ``@task.virtualenv`` installs itself (``requirements``)."""
    if rule != "task.virtualenv":
        return ()
    found = []
    for requirement in string_list(ctx, ctx.arg("requirements"), "requirements"):
        if isinstance(requirement, str):
            found.append(requirement)
        else:
            unexpected(ctx, requirement, "requirements item")
    return tuple(found)


def map_task(ctx: MapContext, rule: str, decides: bool = False) -> KfpTask:
    """Map a Python task; without usable source it becomes a placeholder (``unsupported``).

    ``decides``: a branch or short circuit (:mod:`.branch` adapts what the callable returns)."""
    kfp = KfpTask(task_id=ctx.task.task_id, operator=ctx.task.operator, rule=rule, kind="python")
    apply_base(ctx, kfp)
    image = ctx.config.python_base_image
    if rule in ("task.docker", "task.kubernetes"):
        image = string(ctx, ctx.arg("image", image), "image")
    if rule == "task.docker":
        apply_docker_environment(ctx, kfp)
    if rule == "task.kubernetes":
        apply_pod(ctx, kfp)
    args, kwargs = _call(ctx, rule)
    built = build_function(ctx, ctx.task.python, args, kwargs, image, rule=rule,
                           requirements=_requirements(ctx, rule), decides=decides)
    if built is None:
        kfp.kind = "placeholder"
        kfp.image, kfp.command = ctx.config.bash_image, ["sh", "-c"]
        kfp.args = [f"echo 'af2kfp placeholder: {ctx.task.task_id} has no Python source' >&2; exit 1"]
        ctx.used.update(ctx.task.args)
        return finish(ctx, kfp, IGNORED)
    kfp.python, kfp.arguments = built
    if kfp.python.skip_output is not None:  # AirflowSkipException: what follows tests whether it ran
        flag = None if kfp.python.skip_output == SINGLE_OUTPUT else kfp.python.skip_output
        kfp.decision = Decision(mode="skip", flag=flag)
    kfp.run_context.update({v.key: v.key for v in kfp.arguments.values()
                            if isinstance(v, Input) and v.task_id == RUN_CONTEXT_ID})
    kfp.parameters.extend(shim_parameters(kfp.arguments, task_template_context(ctx).params))
    kfp.parameters.extend(p for p in kfp.python.parameters if p not in kfp.parameters)
    kfp.image = image
    return finish(ctx, kfp, IGNORED)


_EXTRACT = PythonCallable(
    name="extract",
    source='def extract(table: str, limit=10) -> dict:\n    """Read rows."""\n    return {"table": table, "n": len(json.dumps([limit]))}\n',
    file="example.py",
    line=5,
    imports=["import json", "from airflow.sdk import dag, task"],
)
_LOAD = PythonCallable(
    name="load",
    source="def load(rows, **context):\n    print(rows, context['ds'])\n",
    file="example.py",
    line=9,
)
_REPORT_CONTEXT = PythonCallable(
    name="day_report",
    source='def day_report():\n    ctx = get_current_context()\n    day = ctx["ds"]\n'
           '    ctx["ti"].xcom_push(key="day", value=day)\n    return ctx["dag_run"].conf.get("region")\n',
    file="example.py",
    line=6,
    imports=["from airflow.operators.python import get_current_context", "from airflow.sdk import DAG, task"],
)
_CHECK = PythonCallable(
    name="check",
    source="def check(auc: float) -> bool:\n    return auc >= MIN_AUC\n",
    file="example.py",
    line=3,
    constants={"MIN_AUC": "MIN_AUC = 0.8"},
)
_REPORT = PythonCallable(
    name="report",
    source="def report(rows: list) -> str:\n    return as_csv(rows)\n",
    file="example.py",
    line=8,
    imports=["import csv", "import io"],
    constants={"as_csv": "def as_csv(rows):\n    out = io.StringIO()\n    csv.writer(out).writerows(rows)\n"
                         "    return out.getvalue()"},
)
_DECIDE = PythonCallable(
    name="decide",
    source='def decide(ti=None) -> str:\n    scores = ti.xcom_pull(task_ids="compare")\n'
           '    return "promote" if scores["gain"] > 0 else "keep"\n',
    file="example.py",
    line=3,
)

EXAMPLES = [
    Example(
        title="PythonOperator: the callable's body in a component; imports move inside; op_kwargs become arguments; "
              "a returned dict travels as JSON text",
        airflow='PythonOperator(task_id="extract", python_callable=extract, op_kwargs={"table": "users"})',
        task=example_task(PYTHON, "extract", python=_EXTRACT, python_callable=_EXTRACT.name, op_kwargs={"table": "users"}),
        fields={"kind": "python", "arguments": {"table": "users"}, "image": "python:3.11"},
        kfp=(
            '@dsl.component(base_image="python:3.11")',
            "(table: str, limit: int = 10) -> str:",
            "    import json",
            '    return json.dumps({"table": table, "n": len(json.dumps([limit]))})',
            'table="users"',
        ),
    ),
    Example(
        title="@task: another task's return value is a data dependency; what **context reads is built in the component",
        airflow="@task\ndef load(rows, **context): ...\nload(extract())",
        task=example_task(TASK, "load", python=_LOAD, call_kwargs={"rows": TaskRef(task_id="extract")}),
        fields={"arguments": {"rows": Input(name="rows", task_id="extract"),
                              "ds": Input(name="ds", task_id=RUN_CONTEXT_ID, key="ds")},
                "run_context": {"ds": "ds"}},
        kfp=("(rows: str, ds: str):", '    context = {"ds": ds}', "rows = json.loads(rows)", "rows=extract_task.output",
             'ds=run_context_task.outputs["ds"]'),
        producers={"extract": "json"},
    ),
    Example(
        title="get_current_context() from any import path: the dict the component builds; dag_run.conf is a "
              "pipeline parameter; an XCom push is flagged on its line",
        airflow="@task\ndef day_report():\n    ctx = get_current_context()\n    ...",
        task=example_task(TASK, "day_report", python=_REPORT_CONTEXT),
        fields={"arguments": {"ds": Input(name="ds", task_id=RUN_CONTEXT_ID, key="ds"),
                              "dag_run_conf": ParamRef("dag_run_conf")}},
        kfp=('    ctx = {\n        "ds": ds,\n        "ti": SimpleNamespace(),\n        "dag_run": SimpleNamespace(conf=dag_run_conf),\n    }',
             'def example(dag_run_conf: dict = {}, logical_date: str = ""):'),
        codes=("M210",),
        fate="review",
    ),
    Example(
        title="A module-level constant the callable reads (a literal, bound once) is copied into the component",
        airflow='MIN_AUC = 0.8\n\ndef check(auc: float) -> bool:\n    return auc >= MIN_AUC\n\n'
                'PythonOperator(task_id="check", python_callable=check, op_kwargs={"auc": 0.9})',
        task=example_task(PYTHON, "check", python=_CHECK, python_callable=_CHECK.name, op_kwargs={"auc": 0.9}),
        fields={"arguments": {"auc": 0.9}},
        kfp=("(auc: float) -> bool:\n    MIN_AUC = 0.8\n\n    return auc >= MIN_AUC",),
    ),
    Example(
        title="A plain module-level function the callable calls is copied in when it reads only imports and constants",
        airflow='import csv\nimport io\n\ndef as_csv(rows):\n    out = io.StringIO()\n    csv.writer(out).writerows(rows)\n'
                '    return out.getvalue()\n\n@task\ndef report(rows: list) -> str:\n    return as_csv(rows)\n\n'
                'report([[1, 2]])',
        task=example_task(TASK, "report", python=_REPORT, call_kwargs={"rows": [[1, 2]]}),
        kfp=("    import csv\n    import io\n\n    def as_csv(rows):\n", "    return as_csv(rows)"),
    ),
    Example(
        title="ti.xcom_pull(task_ids=...) of a task with an output becomes an input; the unread ti goes away",
        airflow='def decide(ti=None) -> str:\n    scores = ti.xcom_pull(task_ids="compare")\n    ...\n\n'
                'PythonOperator(task_id="decide", python_callable=decide)',
        task=example_task(PYTHON, "decide", python=_DECIDE, python_callable=_DECIDE.name),
        fields={"arguments": {"compare_output": Input(name="compare_output", task_id="compare")}},
        kfp=("(compare_output: str) -> str:", "    compare_output = json.loads(compare_output)\n",
             "    scores = compare_output\n", "decide(compare_output=compare_task.output)"),
        producers={"compare": "json"},
    ),
    Example(
        title="@task.docker runs the function on the given image",
        airflow='@task.docker(image="python:3.12-slim", environment={"A": "1"})\ndef extract(table): ...',
        task=example_task("airflow.sdk.task.docker", "extract", python=_EXTRACT, call_kwargs={"table": "t"},
                          image="python:3.12-slim", environment={"A": "1"}),
        fields={"image": "python:3.12-slim", "env": {"A": "1"}},
        kfp=('@dsl.component(base_image="python:3.12-slim")',),
    ),
    Example(
        title="@task.kubernetes runs the function on the pod's image with its pod settings",
        airflow='@task.kubernetes(image="py:3.11", namespace="ml", node_selector={"pool": "cpu"})\ndef extract(table): ...',
        task=example_task("airflow.sdk.task.kubernetes", "extract", python=_EXTRACT, call_kwargs={"table": "t"},
                          image="py:3.11", namespace="ml", node_selector={"pool": "cpu"}),
        fields={"image": "py:3.11", "node_selector": {"pool": "cpu"}},
        kfp=('@dsl.component(base_image="py:3.11")', "kubernetes.add_node_selector("),
        codes=("M203",),
    ),
    Example(
        title="@task.virtualenv installs its requirements",
        airflow='@task.virtualenv(requirements=["pandas==2.2"])\ndef extract(table): ...',
        task=example_task("airflow.sdk.task.virtualenv", "extract", python=_EXTRACT, call_kwargs={"table": "t"},
                          requirements=["pandas==2.2"]),
        kfp=('packages_to_install=["pandas==2.2"]',),
    ),
    Example(
        title="A callable whose source is unknown becomes a placeholder",
        airflow='PythonOperator(task_id="t", python_callable=getattr(mod, "f"))',
        task=example_task(PYTHON, "t", python_callable=None),
        fields={"kind": "placeholder"},
        codes=("M211",),
        fate="unsupported",
    ),
]
