"""Apply :mod:`af2kfp.converters.templating` to a mapped task: its templated strings read pipeline parameters.

Runs around the rules whose strings Airflow renders with Jinja (bash, docker, pod,
Python): before the rule, an argument known only when Airflow parses the file (``Variable.get("x")``,
a :class:`~af2kfp.converters.values.Deferred`) becomes the template it equals at run time (``{{ var.value.x }}``) and a whole ``{{ ti.xcom_pull(...) }}`` an XCom; after it, every string of the command, args,
env and call arguments is translated; the dates read become outputs of the run context
(``KfpTask.run_context``). A shell script gets connection secrets as
``${VAR}``; other arguments as Kubernetes' ``$(VAR)``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.graph import AirflowTask
from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.environment import Environment, supply_hint, template_needs
from af2kfp.converters.mappings.dataflow import RETURN_VALUE, output_id
from af2kfp.converters.mappings.model import Input, KfpTask, SecretEnv, Template
from af2kfp.converters.run_context import RUN_CONTEXT_ID
from af2kfp.converters.templating import (
    SECRET_IN_ARGUMENT,
    TEMPLATE_IN_ENV,
    ContextRef,
    DataRef,
    SecretRef,
    TemplateContext,
    Translation,
    fold_supplied,
    has_template,
    merged_params,
    translate_template,
)
from af2kfp.converters.values import Deferred, TaskRef

__all__ = ["prepare_task", "translate_task", "task_template_context", "exportable", "ENV_EXPORTED"]

# Carriers a KFP string placeholder renders as Airflow's Jinja renders them (str(value)).
_TEXT_LIKE = frozenset({"str", "int", "float"})

_SHELLS = ("sh", "bash", "ash", "dash", "zsh")
ENV_EXPORTED = register_code(
    "M291", Severity.INFO, "Environment rendered per run is exported by a shell wrapper",
    "The value is a task input (another task's output or a run-time template); the container starts with "
    "`sh -c 'export NAME=\"$1\"; shift 1; exec \"$@\"'` before its own command, so the image needs `sh`.",
).code


def _whole_xcom(text: str) -> TaskRef | None:
    """``"{{ ti.xcom_pull(task_ids='a') }}"`` alone is an XComArg's text: the output of ``a``."""
    if "xcom_pull" not in text or not has_template(text):
        return None
    parts = translate_template(text, TemplateContext(dag_id="", task_id="")).parts
    if len(parts) == 1 and isinstance(parts[0], DataRef):
        return TaskRef(task_id=parts[0].task_id, key=parts[0].key)
    return None


def _variable_template(value: Any, environment: Environment) -> Any:
    if isinstance(value, str):
        return _whole_xcom(value) or fold_supplied(value, environment)
    if isinstance(value, Deferred) and value.template is not None:
        return value.template
    if isinstance(value, list):
        return [_variable_template(item, environment) for item in value]
    if isinstance(value, dict):
        return {key: _variable_template(item, environment) for key, item in value.items()}
    return value


def _supplied_params(params: Any, environment: Environment) -> Any:
    """The task's ``params`` with what was supplied at conversion folded into each Variable's value; the rest
    stays as it is: ``params`` is no templated field, ``templating.task_parameters`` reads it as Airflow renders
    ``{{ params.x }}`` (a value is not rendered again)."""
    if not isinstance(params, dict):
        return params
    out = {}
    for name, value in params.items():
        if isinstance(value, Deferred) and value.template is not None:
            folded = fold_supplied(value.template, environment)
            value = folded if not has_template(folded) else replace(value, template=folded)
        out[name] = value
    return out


def prepare_task(task: AirflowTask, environment: Environment | None = None) -> AirflowTask:
    """The task with Deferred arguments (``Variable.get("x")``, ``f"gs://{bucket}"``) read as the template that
    renders them (``{{ var.value.x }}``) and whole XCom templates as XComs.

    Same values: Airflow reads the Variable when it parses the file, the template when the
    task runs (both become the pipeline parameter ``x``); ``"{{ ti.xcom_pull(task_ids='a') }}"``
    alone is what ``str(XComArg)`` gives, so it is wired as the data edge it stands for. Variables and
    Connection fields supplied at conversion (``environment``) are the text Airflow renders, in every
    argument (an image too).
    """
    environment = environment or Environment()
    args = {name: _supplied_params(value, environment) if name == "params" else _variable_template(value, environment)
            for name, value in task.args.items()}
    call_args = _variable_template(task.call_args, environment)
    call_kwargs = _variable_template(task.call_kwargs, environment)
    if (args, call_args, call_kwargs) == (task.args, task.call_args, task.call_kwargs):
        return task
    return replace(task, args=args, call_args=call_args, call_kwargs=call_kwargs)


def task_template_context(ctx: MapContext) -> TemplateContext:
    """What the task's templates see: its DAG and id, what was supplied at conversion, and the params Airflow
    merges for it (the DAG's as pipeline parameters, the task's own ``params`` over them)."""
    base = TemplateContext(dag_id=ctx.dag_id, task_id=ctx.task.task_id, environment=ctx.config.environment)
    return replace(base, params=merged_params(ctx.params, ctx.task.args.get("params"), base))


class _Task:
    """Translation state of one task: counters, secrets, parameters used."""

    def __init__(self, ctx: MapContext, kfp: KfpTask) -> None:
        self.ctx, self.kfp = ctx, kfp
        self.template = task_template_context(ctx)
        self.count = 0

    def translate(self, text: str, what: str, uses_parameters: bool = True) -> Translation:
        """The translation of ``text``; ``uses_parameters``: the pipeline parameters it reads become the
        task's (a value kept verbatim reads none)."""
        result = translate_template(text, self.template)
        for issue in result.findings:
            self.ctx.add(issue.code, f"{what}: {issue.message}")
        for parameter in result.parameters_used if uses_parameters else ():
            if all(p.name != parameter.name for p in self.kfp.parameters):
                self.kfp.parameters.append(parameter)
        return result

    def secret(self, ref: SecretRef, env: str | None = None) -> None:
        env = env or ref.env
        for i, existing in enumerate(self.kfp.secret_env):
            if existing.secret_name == ref.secret_name:
                self.kfp.secret_env[i] = SecretEnv(secret_name=ref.secret_name,
                                                   key_to_env={**existing.key_to_env, ref.field: env})
                return
        self.kfp.secret_env.append(SecretEnv(secret_name=ref.secret_name, key_to_env={ref.field: env}))
        self.ctx.add(codes.SECRET_REQUIRED, f"connection {ref.conn_id!r} is read from Kubernetes Secret "
                                            f"{ref.secret_name!r} (one key per field, e.g. {ref.field!r})")

    def part(self, part: Any, what: str, shell: bool) -> Any:
        """A part as it can appear in a :class:`Template`: secrets become variable references,
        the run's dates outputs of the run context."""
        if isinstance(part, ContextRef):
            self.kfp.run_context[part.name] = part.python
            return Input(name=part.name, task_id=RUN_CONTEXT_ID, key=part.name)
        if isinstance(part, SecretRef):
            self.secret(part)
            if shell:
                return f"${{{part.env}}}"
            self.ctx.add(SECRET_IN_ARGUMENT, f"{what}: conn {part.conn_id}.{part.field} is passed as $({part.env}), "
                                             "which Kubernetes expands in container arguments")
            return f"$({part.env})"
        if isinstance(part, DataRef):
            carrier = self.ctx.producers.get(output_id(part.task_id, part.key))
            if carrier:
                if carrier not in _TEXT_LIKE:
                    self.ctx.add(codes.XCOM_AS_TEXT, f"{what}: renders {part.task_id!r}'s XCom {part.key!r}, "
                                                     "which travels as JSON text")
                suffix = "" if part.key == RETURN_VALUE else f"_{part.key}"
                return Input(name=f"xcom_{part.task_id}{suffix}", task_id=part.task_id, key=part.key)
            self.ctx.add(codes.XCOM_UNAVAILABLE, f"{what}: XCom {part.key!r} of {part.task_id!r} is not an output "
                                                 "KFP can pass")
            return f"<xcom {part.task_id}.{part.key}>"
        return part

    def value(self, text: Any, what: str, shell: bool = False) -> Any:
        """A string's replacement: the same string, a :class:`TaskRef` (whole XCom), an :class:`Input` (a
        whole date of the run context) or a :class:`Template`."""
        if not isinstance(text, str) or not has_template(text):
            return text
        result = self.translate(text, what)
        if result.is_static:
            return "".join(result.parts)
        if len(result.parts) == 1 and isinstance(result.parts[0], DataRef):
            ref = result.parts[0]
            return TaskRef(task_id=ref.task_id, key=ref.key)
        if len(result.parts) == 1 and isinstance(result.parts[0], ContextRef):  # a date alone: the output itself
            return self.part(result.parts[0], what, shell)
        parts: list[Any] = []
        for part in (self.part(p, what, shell) for p in result.parts):
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part
            else:
                parts.append(part)
        if all(isinstance(p, str) for p in parts):
            return "".join(parts)
        self.count += 1
        return Template(name=f"template_{self.count}", parts=tuple(parts))


def _shell_items(items: list[Any]) -> set[int]:
    """Indexes of items that are a shell script: the item after ``sh -c`` / ``bash -c``."""
    return {i + 2 for i in range(len(items) - 2)
            if isinstance(items[i], str) and os.path.basename(items[i]) in _SHELLS and items[i + 1] == "-c"}


def _nested_strings(value: Any) -> bool:
    if isinstance(value, str):
        return has_template(value)
    if isinstance(value, (list, tuple)):
        return any(_nested_strings(item) for item in value)
    if isinstance(value, dict):
        return any(_nested_strings(item) for item in value.values())
    return False


def _script_is_last(kfp: KfpTask, shell: set[int]) -> bool:
    """True when the task runs ``sh -c SCRIPT`` / ``bash -c SCRIPT`` with nothing after the script."""
    return len(kfp.command + kfp.args) - 1 in shell


def exportable(kfp: KfpTask) -> bool:
    """True when a value rendered per run can reach the task's environment: it runs a shell script
    last (the script exports it) or a known command (a ``sh -c`` wrapper exports it, then runs it)."""
    return kfp.kind == "container" and (bool(kfp.command) or _script_is_last(kfp, _shell_items(kfp.command + kfp.args)))


def _export_by_wrapper(kfp: KfpTask, exported: list[tuple[str, Any]]) -> None:
    """Values rendered per run exported by ``sh -c`` before the task's own command, as positional arguments:
    ``sh -c 'export A="$1"; shift 1; exec "$@"' sh <value of A> <command> <args>``."""
    names = " ".join(f'{name}="${i}"' for i, (name, _) in enumerate(exported, start=1))
    script = f'export {names}; shift {len(exported)}; exec "$@"'
    kfp.args = ["sh", *(value for _, value in exported), *kfp.command, *kfp.args]
    kfp.command = ["sh", "-c", script]


def _export_from_script(kfp: KfpTask, exported: list[tuple[str, Any]]) -> None:
    """Templated env values as the script's positional arguments, exported before it runs.

    KFP environment variables are constants, but arguments are rendered per run:
    ``bash -c 'export DAY="$1"; <script>' bash <rendered value>`` (``$0`` is the shell's name).
    """
    prefix = "".join(f'export {name}="${i}"\n' for i, (name, _) in enumerate(exported, start=1))
    items = kfp.command + kfp.args
    script = items[-1]
    if isinstance(script, Template):
        script = Template(name=script.name, parts=(prefix, *script.parts))
    else:
        script = prefix + script
    shell_name = os.path.basename(items[-3]) if len(items) >= 3 else "sh"
    extra = [shell_name, *(value for _, value in exported)]
    if kfp.args:
        kfp.args = [*kfp.args[:-1], script, *extra]
    else:
        kfp.command = [*kfp.command[:-1], script, *extra]


def translate_task(ctx: MapContext, kfp: KfpTask) -> None:
    """Translate every templated string of a mapped task in place (command, args, env, arguments).

    A templated env value of a shell-script task is exported by the script from an argument."""
    state = _Task(ctx, kfp)
    items = kfp.command + kfp.args
    shell = _shell_items(items)
    done = [state.value(item, "command" if i < len(kfp.command) else "args", i in shell)
            for i, item in enumerate(items)]
    kfp.command, kfp.args = done[:len(kfp.command)], done[len(kfp.command):]
    exported: list[tuple[str, Any]] = []
    wrapped: list[tuple[str, Any]] = []
    for name, text in list(kfp.env.items()):
        if not isinstance(text, str) or not has_template(text):
            continue
        result = state.translate(text, f"env {name}", uses_parameters=False)
        if len(result.parts) == 1 and isinstance(result.parts[0], SecretRef):
            state.secret(result.parts[0], env=name)
            del kfp.env[name]
        elif result.is_static:
            kfp.env[name] = "".join(result.parts)
        elif _script_is_last(kfp, shell):
            exported.append((name, state.value(text, f"env {name}")))  # its parameters are read by the script
            del kfp.env[name]
        elif exportable(kfp):
            wrapped.append((name, state.value(text, f"env {name}")))
            del kfp.env[name]
            ctx.add(ENV_EXPORTED, f"env {name}={text!r} is rendered per run in Airflow; exported from a task input "
                                  "by a `sh -c` wrapper before the command")
        else:
            needs = template_needs(text)
            hint = f"; supply {supply_hint(needs)} at conversion to make it a constant" if needs else ""
            ctx.add(TEMPLATE_IN_ENV, f"env {name}={text!r} is rendered per run in Airflow; kept verbatim{hint}")
    if exported:
        _export_from_script(kfp, exported)
    if wrapped:
        _export_by_wrapper(kfp, wrapped)
    for name, argument in list(kfp.arguments.items()):
        if isinstance(argument, str):
            converted = state.value(argument, f"argument `{name}`")
            if isinstance(converted, TaskRef):
                carrier = ctx.producers.get(output_id(converted.task_id, converted.key))
                if carrier == "str":
                    converted = Input(name=name, task_id=converted.task_id, key=converted.key)
                else:
                    ctx.add(codes.XCOM_AS_TEXT if carrier else codes.XCOM_UNAVAILABLE,
                            f"argument `{name}` renders XCom {converted.key!r} of {converted.task_id!r}" + (
                                " (Airflow passes str(value); here it travels as JSON text)" if carrier else ""))
                    converted = argument
            elif isinstance(converted, Template):
                converted = Template(name=name, parts=converted.parts)
            kfp.arguments[name] = converted
        elif _nested_strings(argument):
            ctx.add(codes.JINJA_TEMPLATE, f"argument `{name}` holds a Jinja template inside a list or dict, kept "
                                          "verbatim")
