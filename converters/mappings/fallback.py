"""Any operator without a native rule, run as it is: the original Airflow operator in an Airflow image.

The KFP task is a container on ``Config.airflow_image`` running af2kfp's runner
(``converters/runtime/airflow_operator_runner.py``, standard library and Airflow only, its text
carried by the pipeline: ``python -c <text>``) with the operator's qualified class name and its
resolved keyword arguments as JSON; the runner builds the operator and calls ``execute``. The
task is ``converted`` when the image has the class's provider (``airflow_image``: the official
image's list) and nothing of Airflow it needs is missing (``fallback_checks``); else ``review``
with M256/M257 saying what to add. Connections (``*conn_id`` arguments) come from Kubernetes Secrets named by
:func:`connection_secret` as ``AIRFLOW_CONN_<ID>`` variables, never as plaintext.

The ``unsupported`` rule sends a task here when :func:`fallback_blocker` finds nothing
against it: all arguments known, no Python callable, a class Airflow or a provider ships.
Sensors follow ``Config.sensors``: poke in the image, or ``skip`` (folded, with a warning).
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from af2kfp.converters.mappings import base, codes
from af2kfp.converters.mappings.airflow_image import package_of, provider_of
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.fallback_checks import (connection_hook, default_connection, differences, missing_package,
                                                  reads_run_dates)
from af2kfp.converters.mappings.model import FileText, Input, KfpTask, SecretEnv, Template
from af2kfp.converters.mappings.moved_operators import MOVED, replacement
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.runtime import RUNNER_CONSTANT, RUNNER_FILE
from af2kfp.converters.templating import ParamRef, PipelineParameter, TemplateContext, python_name, translate_template
from af2kfp.converters.values import Call, Deferred, Lambda, Symbolic, TaskRef, from_json, is_known, to_json

__all__ = [
    "RULES", "OPERATORS", "map_task", "EXAMPLES", "RUNNER", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS",
    "fallback_blocker", "placeholder", "connection_secret", "connection_env", "operator_kwargs", "is_sensor",
]

RULES = ("fallback",)
OPERATORS: dict[str, str] = {}
# The runner travels with the pipeline: its text, from a file af2kfp writes beside pipeline.py (af2kfp.converters.runtime).
RUNNER = ["python", "-c", FileText(name=RUNNER_CONSTANT, file=RUNNER_FILE)]
# Qualified-name prefixes of classes and functions the Airflow image can import and call.
IMPORTABLE = ("airflow.", "kubernetes.", "datetime.", "pendulum.")
# BaseOperator arguments KFP or the findings of ``base`` take care of: never passed to the operator.
NOT_PASSED = frozenset({
    "task_id", "dag", "task_group", "owner", "start_date", "end_date", "doc", "doc_md", "doc_rst", "doc_json",
    "doc_yaml", "task_display_name", "logger_name", "retries", "retry_delay", "retry_exponential_backoff",
    "max_retry_delay", "execution_timeout", "trigger_rule",
}) | base.SCHEDULER_ARGS
MAPPED_ARGS = ("every operator argument (as JSON, to the operator itself)", "retries", "retry_delay",
               "execution_timeout", "*conn_id (Kubernetes Secret)",
               "arguments not known at conversion (pipeline parameters, --set)",
               "a lambda reading only its parameters and builtins (compiled from its text in the container)")
DROPPED_ARGS = tuple(sorted(base.SCHEDULER_ARGS))
FLAGGED_ARGS = ("deferrable (runs non-deferrable)", "mode (sensors always poke)",
                "Jinja templates (rendered at run time)")
# Arguments that hold Python objects, not text or JSON: an unknown one cannot come from a pipeline parameter.
# (Not ``object``: GCS and S3 operators name a bucket's object, a text, ``object``/``source_object``.)
_OBJECT_ARGUMENT = re.compile(r"(?:^|_)(?:callable|callbacks?|check|filter|fn|func|function|hook|subdag|dag|class|"
                              r"cls|factory|obj)$")
# ``{{ conn.my_db.host }}`` in a template reads connection ``my_db``.
_TEMPLATE_CONN = re.compile(r"{{[^}]*?\bconn\.([A-Za-z_][\w-]*)")


def is_sensor(operator: str) -> bool:
    """Sensor classes by Airflow's naming: a ``sensors`` module or a ``...Sensor`` class."""
    return ".sensors." in operator or operator.rsplit(".", 1)[-1].endswith("Sensor")


def connection_secret(conn_id: str) -> str:
    """The Kubernetes Secret holding connection ``conn_id`` as a URI under key ``uri``."""
    name = re.sub(r"[^a-z0-9.-]+", "-", conn_id.lower()).strip("-.")
    return f"airflow-conn-{name or 'default'}"


def connection_env(conn_id: str) -> str:
    """The variable Airflow reads connection ``conn_id`` from (``AIRFLOW_CONN_`` + upper-case id)."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def operator_kwargs(args: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments the runner passes to the operator's constructor."""
    return {name: value for name, value in args.items() if name not in NOT_PASSED}


def _blocker(value: Any) -> str | None:
    """Why a resolved argument cannot reach the operator; an unknown value can (a pipeline parameter)."""
    if isinstance(value, Symbolic):
        return None
    if isinstance(value, TaskRef):
        return f"reads the XCom of {value.task_id!r}"
    if isinstance(value, Call):
        if not value.func.startswith(IMPORTABLE):
            return f"calls {value.func}"
        return _blocker([*value.args, *value.kwargs.values()])
    if isinstance(value, (list, tuple)):
        return next((why for why in map(_blocker, value) if why), None)
    if isinstance(value, dict):
        return next((why for why in map(_blocker, value.values()) if why), None)
    return None


def fallback_blocker(ctx: MapContext, explicit: bool = False) -> str | None:
    """Why the original operator cannot run in the Airflow image, or ``None`` when it can.

    ``explicit``: the user mapped the class to ``fallback``, so it need not be an Airflow class.
    """
    task = ctx.task
    if ctx.config.fallback == "off" and not explicit:
        return 'fallback = "off" in [tool.af2kfp]'
    if task.python is not None or "python_callable" in task.args:
        return "it runs a Python callable defined with the DAG"
    if not explicit and not task.operator.startswith("airflow."):
        return (f"{task.operator} is not an Airflow or provider class; if your Airflow image has it installed, "
                f'map it to "fallback" in [tool.af2kfp.operators]')
    for name, value in sorted(operator_kwargs(task.args).items()):
        why = _blocker(value)
        if why:
            return f"argument `{name}` {why}"
        if _OBJECT_ARGUMENT.search(name) and not is_known(value) and not isinstance(value, (Deferred, Lambda)):
            return (f"argument `{name}` is unknown at conversion ({_source(value)}) and holds a Python object "
                    "(a callable, a DAG, a hook), which a pipeline parameter cannot carry")
    return None


def _source(value: Any) -> str:
    return value.source[:60] if isinstance(value, Symbolic) else "a value inside it"


def _unknowns(data: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """``(JSON pointer parts, the {"$symbolic": ...} node)`` for every unknown value in the kwargs' JSON form."""
    if isinstance(data, dict) and "$symbolic" in data:
        return [] if data.get("lambda") is True else [(path, data)]  # a lambda: the runner compiles its text
    if isinstance(data, dict):
        return [found for key, item in sorted(data.items()) for found in _unknowns(item, (*path, str(key)))]
    if isinstance(data, list):
        return [found for index, item in enumerate(data) for found in _unknowns(item, (*path, str(index)))]
    return []


def _pointer(path: tuple[str, ...]) -> str:
    """RFC 6901 JSON pointer: ``/cluster_config/worker_config/0``."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)


def _argument_path(path: tuple[str, ...]) -> str:
    """The argument as a reader writes it: ``cluster_config["worker"][0]`` (JSON tags left out)."""
    parts = [p for p in path if p not in ("$dict", "kwargs", "args")]
    return parts[0] + "".join(f"[{int(p)}]" if p.isdigit() else f"[{p!r}]" for p in parts[1:]) if parts else "?"


def _guess_type(source: str) -> str:
    """``dict``/``list`` when the unknown expression builds one (``{**a, **b}``, ``list(...)``); else ``str``."""
    text = source.strip()
    if text.startswith(("{", "dict(")):
        return "dict"
    if text.startswith(("[", "list(")):
        return "list"
    return "str"


def _parameter_for(ctx: MapContext, node: dict[str, Any], path: tuple[str, ...]) -> tuple[Template, list[Any], str]:
    """The pipeline parameter(s) standing for an unknown argument, the value passed, and its type.

    A value read from an Airflow Variable is that Variable's parameter (shared with every task reading
    it, as ``{{ var.value.x }}`` is); anything else gets a parameter of its own, named after the task and
    the argument, that the run must supply.
    """
    value = from_json(node)
    template = value.template if isinstance(value, Deferred) else None
    if template is not None:
        context = TemplateContext(dag_id=ctx.dag_id, task_id=ctx.task.task_id, params=ctx.params,
                                  environment=ctx.config.environment)
        translation = translate_template(template, context)
        if all(isinstance(part, (str, ParamRef)) for part in translation.parts) and not translation.findings:
            return Template(name="value", parts=translation.parts), list(translation.parameters_used), "str"
    kind = _guess_type(value.source)
    name = python_name(f"{ctx.task.task_id}_{'_'.join(p for p in path if p not in ('$dict', 'kwargs', 'args'))}")
    parameter = PipelineParameter(name=name, kind="argument", type="str",
                                  description=f"{ctx.task.operator.rsplit('.', 1)[-1]} argument "
                                              f"{_argument_path(path)} of task {ctx.task.task_id}: "
                                              f"{value.source[:80]}" + (" (JSON)" if kind != "str" else ""))
    return Template(name="value", parts=(ParamRef(parameter.name),)), [parameter], kind


def _pass_unknowns(ctx: MapContext, kfp: KfpTask, encoded: dict[str, Any]) -> None:
    """Each unknown argument becomes ``--set POINTER VALUE`` (``--set-json`` for lists and dicts) from a
    pipeline parameter: the runner puts it into the operator's arguments before it builds the operator."""
    for number, (path, node) in enumerate(_unknowns(encoded), start=1):
        template, parameters, kind = _parameter_for(ctx, node, path)
        for parameter in parameters:
            if all(p.name != parameter.name for p in kfp.parameters):
                kfp.parameters.append(parameter)
        kfp.args += ["--set-json" if kind != "str" else "--set", _pointer(path),
                     Template(name=f"argument_{number}", parts=template.parts)]
        names = ", ".join(f"`{p.name}`" + (f" ({p.airflow})" if p.airflow else "") for p in parameters)
        ctx.add(codes.FALLBACK_PARAMETER,
                f"argument {_argument_path(path)} is not known at conversion (`{node['$symbolic'][:60]}`): "
                f"passed from pipeline parameter {names}" + (f" as JSON text of a {kind}" if kind != "str" else ""))


def _templates(kwargs: dict[str, Any]) -> list[str]:
    return sorted(name for name, value in kwargs.items() if "{{" in json.dumps(to_json(value)))


def placeholder(ctx: MapContext, rule: str, blocker: str) -> KfpTask:
    """A task on ``Config.bash_image`` that prints what it replaces and exits 1 (``M201``)."""
    operator = ctx.task.operator
    message = f"af2kfp placeholder: Airflow task {ctx.task.task_id} ({operator}) was not converted"
    ctx.add(
        codes.UNSUPPORTED_OPERATOR,
        f"{operator.rsplit('.', 1)[-1]} has no KFP mapping and cannot run as it is: {blocker}; "
        "a placeholder keeps the pipeline's shape",
        f"Replace the placeholder component by hand, or map {operator} to a rule in [tool.af2kfp.operators].",
    )
    ctx.used.update(ctx.task.args)
    kfp = KfpTask(task_id=ctx.task.task_id, operator=operator, rule=rule, kind="placeholder")
    kfp.image = ctx.config.bash_image
    kfp.command = ["sh", "-c"]
    kfp.args = [f"echo {shlex.quote(message)} >&2; exit 1"]
    if ctx.task.task_id in ctx.consumers:  # readers of its XCom still compile (and fail with it when run)
        kfp.output = "xcom"
    kfp.findings.extend(ctx.findings)
    kfp.fate = "unsupported"
    return kfp


def map_task(ctx: MapContext, rule: str) -> KfpTask | None:
    """The original operator in ``Config.airflow_image``; a skipped sensor is folded (``None``).

    ``rule`` is ``fallback`` when the user mapped the class here, ``unsupported`` when no rule did.
    """
    task = ctx.task
    name = task.operator.rsplit(".", 1)[-1]
    sensor = is_sensor(task.operator)
    if sensor and ctx.config.sensors == "skip":
        ctx.used.update(task.args)
        ctx.add(codes.SENSOR_SKIPPED, f'{name} skipped (sensors = "skip"): downstream tasks no longer wait for it',
                'Make sure what it waited for is there when the pipeline starts, or set sensors = "fallback".')
        return None
    explicit = rule == RULES[0]
    blocker = fallback_blocker(ctx, explicit=explicit)
    if blocker is not None:
        return placeholder(ctx, rule, blocker)
    kfp = KfpTask(task_id=task.task_id, operator=task.operator, rule=RULES[0], kind="container")
    base.apply_base(ctx, kfp)
    ctx.used.update(task.args)
    operator, kwargs, needs = _replaced(ctx, operator_kwargs(task.args))
    notes = _notes(ctx, kwargs, sensor)
    _connections(ctx, kfp, operator, kwargs)
    kfp.image = ctx.config.airflow_image
    kfp.command = list(RUNNER)
    encoded = to_json(kwargs)
    kfp.args = ["--operator", operator, "--dag-id", ctx.dag_id, "--task-id", task.task_id,
                "--kwargs", json.dumps(encoded, sort_keys=True)]
    _pass_unknowns(ctx, kfp, encoded)
    if _templates(kwargs) or reads_run_dates(operator):  # Airflow gives the run's dates: the run context's
        dates = {"ts": "--logical-date", "data_interval_start": "--data-interval", "data_interval_end": None}
        for key, flag in dates.items():
            kfp.args += ([flag] if flag else []) + [Input(name=key, task_id=RUN_CONTEXT_ID, key=key)]
            kfp.run_context[key] = key
    if task.task_id in ctx.consumers and task.args.get("do_xcom_push", True) is not False:
        kfp.args.append("--xcom-output")
        kfp.output = "xcom"
    missing = missing_package(operator, ctx.config, explicit, needs)
    if missing is not None:
        ctx.add(codes.PROVIDER_NOT_IN_IMAGE, missing)
    for difference in differences(operator, kwargs):
        ctx.add(codes.NOT_AS_IN_AIRFLOW, difference)
    hook, served = connection_hook(operator, kwargs, ctx.config) if needs is None else (None, True)
    if not served and missing is None:  # the connection's type decides the hook: a task that may fail is for review
        ctx.add(codes.PROVIDER_NOT_IN_IMAGE, f"{name}: {hook}")
        hook = None
    detail = f"; {'; '.join(notes + ([hook] if hook else []))}" if notes or hook else ""
    provider = provider_of(operator)
    where = "" if missing is not None else " (Airflow itself has it)" if provider == "core" else (
        f" (with {package_of(provider)})" if provider else " (a custom image)")
    ctx.add(codes.FALLBACK_OPERATOR, f"{name} runs as the original operator in {kfp.image}{where}{detail}")
    return base.finish(ctx, kfp)


def _replaced(ctx: MapContext, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """The class the task runs (today's replacement of a class Airflow no longer has), its arguments, and the
    provider the old class came from when the replacement needs it too (its hook)."""
    operator = ctx.task.operator
    moved = replacement(operator, kwargs)
    if moved is None:
        return operator, kwargs, None
    new, kwargs, changes = moved
    old = MOVED[operator]
    ctx.add(codes.OPERATOR_REPLACED, f"{operator.rsplit('.', 1)[-1]} is gone from today's Airflow: the task runs its "
                                     f"replacement {new}" + (f" ({', '.join(changes)})" if changes else ""))
    for argument, why in sorted(old.gone.items()):
        if argument in kwargs:
            ctx.add(codes.NOT_AS_IN_AIRFLOW, f"argument `{argument}` is not taken by {new.rsplit('.', 1)[-1]}: {why}")
    return new, {k: v for k, v in kwargs.items() if k not in old.gone}, old.needs


def _notes(ctx: MapContext, kwargs: dict[str, Any], sensor: bool) -> list[str]:
    """How the runner runs it where that differs from a worker without changing the outcome."""
    notes = []
    if kwargs.get("deferrable") is True:
        kwargs["deferrable"] = False
        notes.append("it runs with deferrable=False")
    if sensor:
        notes.append("the sensor pokes inside the container until its timeout (mode=poke)")
    if ctx.task.operator.rsplit(".", 1)[-1] == "ExternalTaskMarker":
        notes.append("it does nothing when it runs; clearing it in Airflow also cleared the other DAG's task, "
                     "which KFP has no counterpart of")
    templated = _templates(kwargs)
    if templated:
        notes.append(f"templates in {', '.join(templated)} are rendered at run time with the run context's dates")
    lambdas = sorted(name for name, value in kwargs.items() if isinstance(value, Lambda))
    if lambdas:
        notes.append(f"the lambda of {', '.join(lambdas)} is compiled from its source in the container")
    return notes


def _connections(ctx: MapContext, kfp: KfpTask, operator: str, kwargs: dict[str, Any]) -> None:
    """Each connection the task reads, from its Kubernetes Secret as ``AIRFLOW_CONN_<ID>``: named ones must
    exist; the operator's default one is optional (without it, the operator sees no such connection, as an
    Airflow without it)."""
    def ids(args: dict[str, Any]) -> set[str]:
        return {v for k, v in args.items() if k.endswith("conn_id") and isinstance(v, str) and v}

    named = ids(ctx.task.args) | set(_TEMPLATE_CONN.findall(json.dumps(to_json(kwargs))))
    defaults = ids(kwargs) - named  # filled in for a class that moved (its old default)
    defaults |= {default_connection(operator, kwargs)} - {None}
    for conn_id in sorted(named | defaults):
        secret = connection_secret(conn_id)
        optional = conn_id not in named
        kfp.secret_env.append(SecretEnv(secret_name=secret, key_to_env={"uri": connection_env(conn_id)},
                                        optional=optional))
        how = (f"connection {conn_id!r} (the operator's default) is read from Secret {secret!r} (key `uri`) when it "
               "exists" if optional else f"connection {conn_id!r} is read from Secret {secret!r} (key `uri`)")
        ctx.add(codes.SECRET_REQUIRED, how, f"kubectl create secret generic {secret} --from-literal=uri='<connection URI>'")


_SQL = "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator"
EXAMPLES = [
    Example(
        title="An operator without a rule runs as it is in the official Airflow image, its connection from a Secret",
        airflow='SQLExecuteQueryOperator(task_id="refresh", conn_id="warehouse", sql="delete from t", retries=2)',
        task=example_task(_SQL, "refresh", conn_id="warehouse", sql="delete from t", retries=2),
        fields={
            "kind": "container", "image": "apache/airflow:3.3.2", "command": RUNNER,
            "args": ["--operator", _SQL, "--dag-id", "example", "--task-id", "refresh",
                     "--kwargs", '{"conn_id": "warehouse", "sql": "delete from t"}'],
            "secret_env": [SecretEnv(secret_name="airflow-conn-warehouse",
                                     key_to_env={"uri": "AIRFLOW_CONN_WAREHOUSE"})],
        },
        kfp=('command=["python", "-c", AIRFLOW_OPERATOR_RUNNER]', 'secret_name="airflow-conn-warehouse"'),
        # review until the connection's type (it decides the hook, so the provider) is supplied: --connections
        codes=("M207", "M225", "M256"),
        fate="review",
    ),
    Example(
        title="A provider the official image does not have: review, with the package to add",
        airflow='DatabricksRunNowOperator(task_id="score", databricks_conn_id="dbx", job_id=42)',
        task=example_task("airflow.providers.databricks.operators.databricks.DatabricksRunNowOperator", "score",
                          databricks_conn_id="dbx", job_id=42),
        fields={"kind": "container", "rule": "fallback", "image": "apache/airflow:3.3.2"},
        kfp=('"airflow.providers.databricks.operators.databricks.DatabricksRunNowOperator"',),
        codes=("M207", "M225", "M256"),
        fate="review",
    ),
    Example(
        title="An Airflow 1.10 import path runs as the class Airflow replaced it with",
        airflow='PostgresOperator(task_id="load", postgres_conn_id="dw", database="sales", sql="call load()")',
        task=example_task("airflow.operators.postgres_operator.PostgresOperator", "load", postgres_conn_id="dw",
                          database="sales", sql="call load()"),
        fields={"kind": "container", "args": [
            "--operator", _SQL, "--dag-id", "example", "--task-id", "load",
            "--kwargs", '{"conn_id": "dw", "hook_params": {"database": "sales"}, "sql": "call load()"}']},
        kfp=(f'"{_SQL}"',),
        codes=("M207", "M225", "M258"),
    ),
    Example(
        title="An argument unknown at conversion is passed from a pipeline parameter, not a placeholder",
        airflow='SQLExecuteQueryOperator(task_id="refresh", conn_id="warehouse", sql=build_sql(table))',
        task=example_task(_SQL, "refresh", conn_id="warehouse", sql=Symbolic(source="build_sql(table)")),
        fields={"kind": "container", "rule": "fallback"},
        kfp=('"--set"', '"/sql"', "refresh_sql: str"),
        codes=("M207", "M225", "M256", "M283"),
        fate="review",
    ),
    Example(
        title="A sensor pokes in the Airflow image; deferrable operators run non-deferrable",
        airflow='HttpSensor(task_id="up", http_conn_id="api", endpoint="health", deferrable=True, pool="web")',
        task=example_task("airflow.providers.http.sensors.http.HttpSensor", "up", http_conn_id="api",
                          endpoint="health", deferrable=True, pool="web"),
        fields={"secret_env": [SecretEnv(secret_name="airflow-conn-api", key_to_env={"uri": "AIRFLOW_CONN_API"})]},
        kfp=("""'{"deferrable": false, "endpoint": "health", "http_conn_id": "api"}'""",),
        codes=("M203", "M207", "M225"),
    ),
]
