"""TriggerDagRunOperator -> a component that starts a KFP run of the target DAG's converted pipeline.

The component asks the KFP API of its cluster (``kfp.Client()``; ``KF_PIPELINES_ENDPOINT``
overrides) for the pipeline uploaded under the converted name of ``trigger_dag_id``
(``af2kfp deploy`` uploads each DAG's pipeline under it), runs its newest version with
``conf`` as ``dag_run_conf`` and ``logical_date`` when the pipeline takes them, and with
``wait_for_completion`` waits and fails unless the run ends in an allowed state, as Airflow
does. A target that is not among the DAGs converted together is a finding (M300).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import metadata
from typing import Any

from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.base import apply_base, finish
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.dataflow import output_id
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import Input, KfpTask, PythonFunction
from af2kfp.converters.mappings.pytypes import JSON, decode_source
from af2kfp.converters.mappings.templates import prepare_task, translate_task
from af2kfp.converters.mappings.values import describe, is_plain, text
from af2kfp.converters.templating import has_template
from af2kfp.converters.values import DateTime, TaskRef

__all__ = ["RULES", "OPERATORS", "map_task", "pipeline_name", "EXAMPLES", "MAPPED_ARGS", "DROPPED_ARGS",
           "FLAGGED_ARGS", "TARGET_NOT_CONVERTED", "TARGET_UNKNOWN", "CONF_UNKNOWN", "TRIGGER_SEMANTICS"]

TRIGGER = "airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator"
RULES = ("TriggerDagRunOperator",)
OPERATORS = {
    TRIGGER: "TriggerDagRunOperator",
    "airflow.operators.trigger_dagrun.TriggerDagRunOperator": "TriggerDagRunOperator",
    "airflow.operators.dagrun_operator.TriggerDagRunOperator": "TriggerDagRunOperator",
}
IGNORED = frozenset({"deferrable", "openlineage_inject_parent_info", "note", "reset_dag_run", "run_after"})

TARGET_NOT_CONVERTED = register_code(
    "M300", Severity.WARNING, "Triggered DAG is not among the converted DAGs",
    "The component runs the KFP pipeline named after the target DAG and fails when none is uploaded: convert "
    "and deploy the target DAG too (af2kfp convert/deploy over both folders), or correct trigger_dag_id.",
).code
TARGET_UNKNOWN = register_code(
    "M301", Severity.WARNING, "Triggered DAG is only known at run time",
    "trigger_dag_id is rendered per run; the component runs the KFP pipeline of that name, which must be the "
    "converted name of the DAG (lower case, dashes). Check that every DAG it can name is converted and deployed.",
).code
CONF_UNKNOWN = register_code(
    "M302", Severity.WARNING, "Part of the triggered run's conf cannot be passed",
    "A conf value is not known statically, is an XCom KFP cannot pass, or holds a Jinja template below the top "
    "level (kept as written); pass it as a top-level value or an upstream task's output.",
).code
TRIGGER_SEMANTICS = register_code(
    "M303", Severity.WARNING, "Trigger option with no KFP equivalent",
    "KFP starts a new run every time and has no Airflow run states besides success and failure: "
    "skip_when_already_exists, fail_when_dag_is_paused and states other than success/failed are not kept.",
).code

MAPPED_ARGS = ("trigger_dag_id -> the KFP pipeline of the converted DAG (its newest version)",
               "conf -> the run's dag_run_conf (exact JSON; templates and XComs per top-level key)",
               "logical_date -> the run's logical_date (the trigger time when not set, as Airflow)",
               "trigger_run_id -> the run's display name",
               "wait_for_completion, poke_interval -> wait, polling every poke_interval seconds",
               "allowed_states, failed_states (success, failed) -> the KFP states the wait accepts or fails on")
DROPPED_ARGS = tuple(sorted(IGNORED))
FLAGGED_ARGS = ("a target DAG not converted with this one (M300) or only known at run time (M301)",
                "conf values not known statically or templates nested below the top level (M302)",
                "skip_when_already_exists, fail_when_dag_is_paused, states other than success/failed (M303)")

# Airflow's DagRunState -> the KFP run state that ends the same way.
_STATES = {"success": "SUCCEEDED", "failed": "FAILED"}
_BODY = '''\
    """Airflow TriggerDagRunOperator: run the converted pipeline of another DAG.

    Runs the newest version of the pipeline uploaded as pipeline_name, passing conf as its
    dag_run_conf and logical_date when it takes them; with wait_for_completion, waits and
    fails unless the run ends in one of allowed_states.
    """
    import json
    import re
    import time

    # In a component kfp.client loads the compiler in an order that fails unless
    # component_factory comes first (kubeflow/pipelines#12522, kfp >= 2.15).
    import kfp.dsl.component_factory  # noqa: F401
    from kfp.client import Client

    conf = json.loads(conf)
{conf_lines}\
    client = Client()  # this cluster's KFP API (KF_PIPELINES_ENDPOINT overrides it)
    pipeline_id = client.get_pipeline_id(pipeline_name)
    if pipeline_id is None:
        raise RuntimeError(
            f"no pipeline {{pipeline_name!r}} in KFP: deploy the converted DAG first"
        )
    listed = client.list_pipeline_versions(
        pipeline_id, sort_by="created_at desc", page_size=1
    )
    version = listed.pipeline_versions[0]
    spec = version.pipeline_spec or {{}}
    spec = spec.get("pipeline_spec", spec)  # a spec with Kubernetes settings is wrapped
    takes = spec.get("root", {{}}).get("inputDefinitions", {{}}).get("parameters", {{}})
    arguments = {{}}
    if "dag_run_conf" in takes:
        arguments["dag_run_conf"] = conf
    if logical_date and "logical_date" in takes:
        arguments["logical_date"] = logical_date
    run = client.run_pipeline(
        experiment_id=client.create_experiment("Default").experiment_id,
        job_name=run_name,
        pipeline_id=pipeline_id,
        version_id=version.pipeline_version_id,
        params=arguments,
    )
    print(f"triggered run {{run.run_id}} of pipeline {{pipeline_name}}")
    if not wait_for_completion:
        return
    while run.state not in ("SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"):
        time.sleep(poke_interval)
        run = client.get_run(run.run_id)
    if run.state in failed_states or run.state not in allowed_states:
        raise RuntimeError(
            f"triggered run {{run.run_id}} of {{pipeline_name}} ended {{run.state}}"
        )
'''


@lru_cache(maxsize=1)
def kfp_requirement() -> str:
    """The kfp the component installs with its dependencies (the runtime's own kfp comes without the
    client's): the version converting, which compiles the pipeline too."""
    try:
        return f"kfp=={metadata.version('kfp')}"
    except metadata.PackageNotFoundError:
        return "kfp"


def pipeline_name(dag_id: str) -> str:
    """The name a DAG's converted pipeline has in KFP (``@dsl.pipeline(name=...)``, what deploy uploads), as
    :func:`af2kfp.converters.emit.names.kebab` writes it (a test keeps them equal): for a target mapped alone."""
    return re.sub(r"[^0-9a-z]+", "-", dag_id.lower()).strip("-")[:128] or "pipeline"


def _key_name(key: str, taken: set[str]) -> str:
    name = "conf_" + (re.sub(r"\W+", "_", key).strip("_").lower() or "value")
    while name in taken:
        name += "_"
    taken.add(name)
    return name


class _Conf:
    """The run's conf: its plain part as exact JSON text, and the values KFP gives per run (a rendered
    template, an upstream output) as inputs the component sets by key."""

    def __init__(self, ctx: MapContext) -> None:
        self.ctx = ctx
        self.plain: dict[str, Any] = {}
        self.lines: list[str] = []
        self.inputs: dict[str, tuple[str, Any]] = {}  # input name -> (carrier, value)

    def read(self, conf: Any) -> None:
        if conf is None:
            return
        if isinstance(conf, TaskRef):
            self.whole(conf)
        elif isinstance(conf, dict):
            for key, value in conf.items():
                self.value(str(key), value)
        elif isinstance(conf, str) and not has_template(conf):
            try:
                self.read(json.loads(conf))  # Airflow loads a JSON text conf
            except ValueError:
                self.ctx.add(CONF_UNKNOWN, f"conf {conf!r} is no JSON text (Airflow would fail); not passed")
        else:
            self.ctx.add(CONF_UNKNOWN, f"conf: {describe(conf)} is not a dict af2kfp can build; not passed")

    def whole(self, ref: TaskRef) -> None:
        carrier = self.ctx.producers.get(output_id(ref.task_id, ref.key))
        if carrier in (JSON, "str", "dict"):  # Airflow loads a text conf as JSON
            self.inputs["conf_value"] = ("dict" if carrier == "dict" else "str",
                                         Input(name="conf_value", task_id=ref.task_id, key=ref.key))
            loaded = "conf_value" if carrier == "dict" else "json.loads(conf_value)"
            self.lines.append(f"    conf = {loaded}")
        else:
            self.ctx.add(CONF_UNKNOWN, f"conf is XCom {ref.key!r} of {ref.task_id!r}, which KFP cannot pass as a "
                                       "dict; not passed")

    def value(self, key: str, value: Any) -> None:
        taken = set(self.inputs)
        if isinstance(value, TaskRef):
            carrier = self.ctx.producers.get(output_id(value.task_id, value.key))
            if not carrier:
                self.ctx.add(CONF_UNKNOWN, f"conf[{key!r}] is XCom {value.key!r} of {value.task_id!r}, which is no "
                                           "output KFP can pass; not passed")
                return
            name = _key_name(key, taken)
            self.inputs[name] = (carrier, Input(name=name, task_id=value.task_id, key=value.key))
            decode = decode_source(name, carrier)
            self.lines.append(f"    conf[{json.dumps(key)}] = {decode.split(' = ', 1)[1] if decode else name}")
            return
        if is_plain(value) and not _nested_template(value):
            if isinstance(value, str) and has_template(value):
                name = _key_name(key, taken)
                self.inputs[name] = ("str", value)  # rendered per run by the template pass
                self.lines.append(f"    conf[{json.dumps(key)}] = {name}")
            else:
                self.plain[key] = value
            return
        if is_plain(value):
            self.ctx.add(CONF_UNKNOWN, f"conf[{key!r}] holds a Jinja template below the top level; kept as written")
            self.plain[key] = value
            return
        rendered = value.iso if isinstance(value, DateTime) else None
        if rendered is not None:
            self.plain[key] = rendered  # Airflow's conf must be JSON: a datetime is refused there, text here
            return
        name = _key_name(key, taken)
        self.inputs[name] = ("str", _text(self.ctx, value, name))
        self.lines.append(f"    conf[{json.dumps(key)}] = {name}")


def _nested_template(value: Any) -> bool:
    if isinstance(value, dict):
        return any(isinstance(v, str) and has_template(v) or _nested_template(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, str) and has_template(v) or _nested_template(v) for v in value)
    return False


def _text(ctx: MapContext, value: Any, what: str) -> Any:
    """A str argument: text (a template is rendered per run by the template pass), an upstream ``str``
    output, else the value's text with a finding (:func:`~af2kfp.converters.mappings.values.text`)."""
    found = text(ctx, value, what)
    if not isinstance(found, TaskRef):
        return found
    if ctx.producers.get(output_id(found.task_id, found.key)) == "str":
        return Input(name=what, task_id=found.task_id, key=found.key)
    ctx.add(codes.XCOM_UNAVAILABLE, f"{what}: XCom {found.key!r} of {found.task_id!r} is no text output KFP can pass")
    return f"<xcom {found.task_id}.{found.key}>"


def _target(ctx: MapContext) -> tuple[Any, bool]:
    """The pipeline name to run: the converted name of a known target (M300 when it is not converted
    here), else the rendered dag id (M301), which the component turns into the converted name (``True``)."""
    dag_id = _text(ctx, ctx.arg("trigger_dag_id"), "pipeline_name")
    if not isinstance(dag_id, str) or has_template(dag_id) or dag_id != ctx.task.args.get("trigger_dag_id"):
        ctx.add(TARGET_UNKNOWN, f"trigger_dag_id {describe(ctx.task.args.get('trigger_dag_id'))} is known only "
                                "when the task runs; the component runs the converted pipeline of the DAG it names")
        return dag_id, True
    if ctx.pipelines is not None and dag_id not in ctx.pipelines:
        ctx.add(TARGET_NOT_CONVERTED, f"DAG {dag_id!r} is not among the DAGs converted with this one; the "
                                      f"component runs KFP pipeline {pipeline_name(dag_id)!r}, which must be deployed")
    return (ctx.pipelines.get(dag_id, pipeline_name(dag_id)) if ctx.pipelines else pipeline_name(dag_id)), False


def _states(ctx: MapContext, name: str, default: list[str]) -> list[str]:
    """Airflow run states as the KFP states that end the same way; others are flagged (M303)."""
    given = ctx.arg(name)
    if given is None or given == [] and name == "allowed_states":
        return default
    found = []
    for state in given if isinstance(given, (list, tuple)) else [given]:
        source = getattr(state, "source", state)  # DagRunState.SUCCESS, or its value
        plain = source.rsplit(".", 1)[-1].lower() if isinstance(source, str) else None
        if plain in _STATES:
            found.append(_STATES[plain])
        else:
            ctx.add(TRIGGER_SEMANTICS, f"{name}: {describe(state)} is no KFP run state (only success and failed "
                                       "are kept)")
    return found


def map_task(ctx: MapContext, rule: str) -> KfpTask:
    """Map one TriggerDagRunOperator to a Python component that runs the target's pipeline."""
    ctx.task = prepare_task(ctx.task, ctx.config.environment)
    kfp = KfpTask(task_id=ctx.task.task_id, operator=ctx.task.operator, rule=rule, kind="python")
    apply_base(ctx, kfp)
    target, rendered = _target(ctx)
    conf = _Conf(ctx)
    if rendered:  # the name af2kfp gives the DAG's pipeline (pipeline_name), from the dag id rendered per run
        conf.lines.append('    pipeline_name = re.sub(r"[^0-9a-z]+", "-", pipeline_name.lower()).strip("-")')
    conf.read(ctx.arg("conf"))
    dag_id = ctx.task.args.get("trigger_dag_id")
    run_name = ctx.arg("trigger_run_id") or (f"{dag_id} " if isinstance(dag_id, str) else "") + (
        f"(triggered by {ctx.dag_id}.{kfp.task_id})")
    logical_date = ctx.arg("logical_date")
    wait = ctx.arg("wait_for_completion", False)
    poke = ctx.arg("poke_interval", 60)
    for flag in ("skip_when_already_exists", "fail_when_dag_is_paused"):
        if ctx.arg(flag):
            ctx.add(TRIGGER_SEMANTICS, f"{flag}=True has no KFP equivalent (KFP starts a new run every time); dropped")
    allowed = _states(ctx, "allowed_states", ["SUCCEEDED"])
    failed = _states(ctx, "failed_states", ["FAILED"])
    inputs: list[tuple[str, str, Any]] = [
        ("pipeline_name", "str", target),
        ("conf", "str", json.dumps(conf.plain)),
        *[(name, carrier, value) for name, (carrier, value) in conf.inputs.items()],
        ("logical_date", "str", "" if logical_date is None else _text(ctx, logical_date, "logical_date")),
        ("run_name", "str", _text(ctx, run_name, "run_name")),
        ("wait_for_completion", "bool", wait if isinstance(wait, bool) else _text(ctx, wait, "wait_for_completion")),
        ("poke_interval", "int", poke if isinstance(poke, int) and not isinstance(poke, bool) else 60),
        ("allowed_states", "list", allowed),
        ("failed_states", "list", failed),
    ]
    if not isinstance(wait, bool):  # a template: Airflow renders it, any non-empty text is true
        inputs[-4] = ("wait_for_completion", "str", inputs[-4][2])
        conf.lines.append('    wait_for_completion = wait_for_completion not in ("", "False", "false")')
    if not (isinstance(poke, int) and not isinstance(poke, bool)):
        ctx.add(codes.UNRESOLVED_VALUE, f"poke_interval: {describe(poke)} is not a known integer; 60 s is used")
    # The conf text is exact JSON; translate only the values rendered per run (the template pass).
    kfp.arguments = {name: value for name, _, value in inputs if name != "conf"}
    translate_task(ctx, kfp)
    kfp.arguments = {name: kfp.arguments.get(name, value) for name, _, value in inputs}
    # The emitter writes the signature from ``params``; the body is the same for every trigger.
    code = "def trigger():\n" + _BODY.format(conf_lines="".join(f"{line}\n" for line in conf.lines))
    kfp.python = PythonFunction(code=code, params=[(name, carrier, None) for name, carrier, _ in inputs],
                                base_image=ctx.config.python_base_image, packages=[kfp_requirement()])
    kfp.image = ctx.config.python_base_image
    return finish(ctx, kfp, IGNORED)


EXAMPLES = [
    Example(
        title="A run of the target DAG's converted pipeline with its conf; waits and fails when the run fails",
        airflow='TriggerDagRunOperator(task_id="refresh", trigger_dag_id="daily_report",\n'
                '                      conf={"region": "eu", "limit": 5}, wait_for_completion=True)',
        task=example_task(TRIGGER, "refresh", trigger_dag_id="daily_report", conf={"region": "eu", "limit": 5},
                          wait_for_completion=True),
        fields={"kind": "python", "image": "python:3.11"},
        kfp=('pipeline_name="daily-report"', 'conf=\'{"region": "eu", "limit": 5}\'', "wait_for_completion=True",
             "    client = Client()", 'allowed_states=["SUCCEEDED"]'),
    ),
    Example(
        title="Templates in conf and logical_date are rendered per run; an upstream output fills a key",
        airflow='TriggerDagRunOperator(task_id="load", trigger_dag_id="loader", logical_date="{{ logical_date }}",\n'
                '                      conf={"day": "{{ ds }}", "files": list_files.output})',
        task=example_task(TRIGGER, "load", trigger_dag_id="loader", logical_date="{{ logical_date }}",
                          conf={"day": "{{ ds }}", "files": TaskRef(task_id="list_files")}),
        producers={"list_files": "list"},
        kfp=('    conf["day"] = conf_day', '    conf["files"] = json.loads(conf_files)', "conf_files=list_files_task.output",
             'logical_date=run_context_task.outputs["logical_date"]'),
    ),
    Example(
        title="Options KFP has no equivalent for are flagged",
        airflow='TriggerDagRunOperator(task_id="t", trigger_dag_id="other", skip_when_already_exists=True,\n'
                '                      reset_dag_run=True, allowed_states=["success", "queued"])',
        task=example_task(TRIGGER, "t", trigger_dag_id="other", skip_when_already_exists=True, reset_dag_run=True,
                          allowed_states=["success", "queued"]),
        codes=("M303", "M303", "M203"),
        fate="review",
    ),
]
