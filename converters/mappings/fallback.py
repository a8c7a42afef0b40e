"""Any operator without a native rule, run as it is: the original Airflow operator in an Airflow image.

The KFP task is a container on ``Config.airflow_image`` running ``python -m
airflow_plugins.fallback`` with the operator's qualified class name and its resolved
keyword arguments as JSON; the runner builds the operator and calls ``execute``.
Connections (``*conn_id`` arguments) come from Kubernetes Secrets named by
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

from converters.mappings import base, codes
from converters.mappings.context import MapContext
from converters.mappings.example import Example, example_task
from converters.mappings.model import Input, KfpTask, SecretEnv
from converters.run_context import RUN_CONTEXT_ID
from converters.values import Call, Symbolic, TaskRef, to_json

__all__ = [
    "RULES", "OPERATORS", "map_task", "EXAMPLES", "RUNNER", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS",
    "fallback_blocker", "placeholder", "connection_secret", "connection_env", "operator_kwargs", "is_sensor",
]

RULES = ("fallback",)
OPERATORS: dict[str, str] = {}
RUNNER = ["python", "-m", "airflow_plugins.fallback"]
# Qualified-name prefixes of classes and functions the Airflow image can import and call.
IMPORTABLE = ("airflow.", "kubernetes.", "datetime.", "pendulum.")
# BaseOperator arguments KFP or the findings of ``base`` take care of: never passed to the operator.
NOT_PASSED = frozenset({
    "task_id", "dag", "task_group", "owner", "start_date", "end_date", "doc", "doc_md", "doc_rst", "doc_json",
    "doc_yaml", "task_display_name", "logger_name", "retries", "retry_delay", "retry_exponential_backoff",
    "max_retry_delay", "execution_timeout", "trigger_rule",
}) | base.SCHEDULER_ARGS
MAPPED_ARGS = ("every operator argument (as JSON, to the operator itself)", "retries", "retry_delay",
               "execution_timeout", "*conn_id (Kubernetes Secret)")
DROPPED_ARGS = tuple(sorted(base.SCHEDULER_ARGS))
FLAGGED_ARGS = ("deferrable (runs non-deferrable)", "mode (sensors always poke)",
                "Jinja templates (rendered at run time)")
_EXTERNAL = ("ExternalTaskSensor", "ExternalTaskMarker")
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
    if isinstance(value, Symbolic):
        return f"is unknown without running the DAG ({value.source[:60]})"
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
    return None


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
    blocker = fallback_blocker(ctx, explicit=rule == RULES[0])
    if blocker is not None:
        return placeholder(ctx, rule, blocker)
    rule = RULES[0]
    kfp = KfpTask(task_id=task.task_id, operator=task.operator, rule=rule, kind="container")
    base.apply_base(ctx, kfp)
    kwargs = operator_kwargs(task.args)
    ctx.used.update(task.args)
    notes = []
    if kwargs.get("deferrable") is True:
        kwargs["deferrable"] = False
        notes.append("it runs with deferrable=False")
    if sensor:
        notes.append("the sensor pokes inside the container until its timeout (mode=poke)")
    if name in _EXTERNAL:
        notes.append("it needs Airflow's API to see the other DAG's runs; without it, consider sensors = \"skip\"")
    templated = _templates(kwargs)
    if templated:
        notes.append(f"templates in {', '.join(templated)} are rendered at run time with the run context's dates")
    connections = sorted({v for k, v in kwargs.items() if k.endswith("conn_id") and isinstance(v, str) and v}
                         | set(_TEMPLATE_CONN.findall(json.dumps(to_json(kwargs)))))
    for conn_id in connections:
        secret = connection_secret(conn_id)
        kfp.secret_env.append(SecretEnv(secret_name=secret, key_to_env={"uri": connection_env(conn_id)}))
        ctx.add(codes.SECRET_REQUIRED, f"connection {conn_id!r} is read from Secret {secret!r} (key `uri`)",
                f"kubectl create secret generic {secret} --from-literal=uri='<connection URI>'")
    kfp.image = ctx.config.airflow_image
    kfp.command = list(RUNNER)
    kfp.args = ["--operator", task.operator, "--dag-id", ctx.dag_id, "--task-id", task.task_id,
                "--kwargs", json.dumps(to_json(kwargs), sort_keys=True)]
    if templated:  # Airflow renders them with the run's dates: the run context's, as every task's
        dates = {"ts": "--logical-date", "data_interval_start": "--data-interval", "data_interval_end": None}
        for key, flag in dates.items():
            kfp.args += ([flag] if flag else []) + [Input(name=key, task_id=RUN_CONTEXT_ID, key=key)]
            kfp.run_context[key] = key
    if task.task_id in ctx.consumers and task.args.get("do_xcom_push", True) is not False:
        kfp.args.append("--xcom-output")
        kfp.output = "xcom"
    detail = f"; {'; '.join(notes)}" if notes else ""
    ctx.add(codes.FALLBACK_OPERATOR, f"{name} runs as the original operator in {kfp.image}{detail}",
            f"Check that {kfp.image} has af2kfp and the provider of {task.operator} installed"
            + (f" and that Secret(s) {', '.join(connection_secret(c) for c in connections)} exist." if connections
               else "; connections the operator uses by default need a Secret each (docs/operators.md)."))
    return base.finish(ctx, kfp)


_SQL = "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator"
EXAMPLES = [
    Example(
        title="An operator without a rule runs as it is, its connection from a Kubernetes Secret",
        airflow='SQLExecuteQueryOperator(task_id="refresh", conn_id="warehouse", sql="delete from t", retries=2)',
        task=example_task(_SQL, "refresh", conn_id="warehouse", sql="delete from t", retries=2),
        fields={
            "kind": "container", "image": "apache/airflow:3.3.2", "command": RUNNER,
            "args": ["--operator", _SQL, "--dag-id", "example", "--task-id", "refresh",
                     "--kwargs", '{"conn_id": "warehouse", "sql": "delete from t"}'],
            "secret_env": [SecretEnv(secret_name="airflow-conn-warehouse",
                                     key_to_env={"uri": "AIRFLOW_CONN_WAREHOUSE"})],
        },
        kfp=('command=["python", "-m", "airflow_plugins.fallback"]', 'secret_name="airflow-conn-warehouse"'),
        codes=("M207", "M225"),
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
        fate="review",
    ),
]
