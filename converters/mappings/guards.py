"""A repository operator's skip/fail guards as a guard component the task runs under (M320).

``LabPodOperator.execute`` raising ``AirflowSkipException`` when ``self.skip`` renders non-empty, or when a
Variable-driven flag is set, cannot be decided at conversion; the pipeline can decide it when it runs.
The guards the analyzer could turn into checks (:mod:`af2kfp.converters.analysis.guards`) become one lightweight
component, ``<task>_guard``, that evaluates them in the order ``execute`` does:

- a templated field is rendered with Airflow's Jinja semantics (a sandboxed environment with
  ``StrictUndefined`` and the ``do`` extension, or the native one when the DAG sets
  ``render_template_as_native_obj=True``) from the run's params, then tested with Python truthiness;
- ``Variable.get`` is served by the same stand-in as in Python tasks (:mod:`.variable_shim`);
- a skip guard that holds returns ``False``; a fail guard (``AirflowFailException``...) raises, so the
  guard task fails as the Airflow task would.

The guard reports like a Python task that raised ``AirflowSkipException`` (``Decision(mode="skip")``):
the container task runs under ``dsl.If(guard.output == True)`` and the tasks after it follow their
trigger rules (:mod:`.control`). A guard that cannot be built keeps M284 with the reason.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

import keyword

import jinja2
import libcst as cst
from jinja2 import meta, nodes

from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.graph import AirflowTask
from af2kfp.converters.mappings.model import SINGLE_OUTPUT, Decision, KfpTask, PythonFunction
from af2kfp.converters.mappings.variable_shim import build_variable_shim
from af2kfp.converters.templating import ParamRef, PipelineParameter, python_name
from af2kfp.converters.analysis.guards import RENDERED_PREFIX

__all__ = ["GUARD_EVALUATED", "GuardPlan", "plan_guards", "guard_task", "GUARD_SUFFIX"]

GUARD_EVALUATED = register_code(
    "M320", Severity.INFO, "Repository operator's skip/fail guard evaluated when the pipeline runs",
    "The class's execute (or pre_execute) skips or fails the task on a condition known only when the task runs "
    "(a templated field, an Airflow Variable). A small guard component evaluates it as Airflow would and the "
    "task runs under dsl.If on its output; the tasks after it follow their trigger rules as after a skip. "
    "Nothing to do; supply the Variables (--variables) to decide the condition at conversion instead.",
).code
GUARD_SUFFIX = "_guard"
_TYPES = {"str": "str", "int": "int", "float": "float", "bool": "bool"}
_PARSER = jinja2.Environment(extensions=["jinja2.ext.do"])
_INDENT, _WIDTH = "    ", 88


@dataclass
class GuardPlan:
    """The guards of one task a component evaluates, and the M284 notes left (with why)."""

    guards: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)  # Airflow param -> its KFP type
    left: dict[str, str] = field(default_factory=dict)  # M284 message -> why no guard evaluates it


def _params_read(template: str) -> list[str] | str:
    """The params a template reads (``params.x``, ``params['x']``), or why the guard cannot render it."""
    try:
        tree = _PARSER.parse(template)
    except jinja2.TemplateSyntaxError as exc:
        return f"its template does not parse ({exc.message})"
    other = sorted(meta.find_undeclared_variables(tree) - {"params"})
    if other:
        return f"its template reads {', '.join(other)}, which the guard component does not provide"
    found: list[str] = []
    whole = False
    for name in tree.find_all(nodes.Name):
        if name.name == "params":
            whole = True
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if isinstance(target, nodes.Name) and target.name == "params":
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if not isinstance(key, str):
                return "its template reads params with a key computed when it renders"
            found.append(key)
    if whole and not found:
        return "its template reads params as a whole"
    return list(dict.fromkeys(found))


def plan_guards(guards: list[dict[str, Any]], params: dict[str, PipelineParameter]) -> GuardPlan:
    """Which guards a component can evaluate: every param their templates read must be a pipeline parameter."""
    plan = GuardPlan()
    for guard in guards:
        reads: list[str] = []
        why = ""
        for template in guard["templates"].values():
            found = _params_read(template)
            if isinstance(found, str):
                why = found
                break
            reads += found
        missing = [name for name in reads if name not in params]
        untyped = [name for name in reads if name in params and params[name].type not in _TYPES]
        if not why and missing:
            why = f"its template reads params {', '.join(missing)}, which the DAG does not declare"
        if not why and untyped:
            why = f"its template reads params {', '.join(untyped)}, which are not text or numbers"
        if why:
            plan.left[guard["message"]] = why
            continue
        plan.guards.append(guard)
        plan.params.update({name: _TYPES[params[name].type] for name in reads})
    return plan


class _Quotes(cst.CSTTransformer):
    """String literals with black's double quotes where that needs no more escapes."""

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        text = updated.value
        if text[:1] == "'" and text[:3] != "'" * 3 and '"' not in text and "\\" not in text:
            return updated.with_changes(value='"' + text[1:-1] + '"')
        return updated


def _python(expression: str) -> str:
    """``expression`` spaced and quoted as black writes it."""
    return cst.parse_module(ast.unparse(ast.parse(expression, mode="eval"))).visit(_Quotes()).code.strip()


def _check_source(guard: dict[str, Any], renamed: dict[str, str]) -> str:
    """The guard's check with its ``rendered_<n>`` inputs renamed to the component's."""
    tree = ast.parse(guard["check"], mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in renamed:
            node.id = renamed[node.id]
    return _python(ast.unparse(tree))


def _fits(line: str) -> bool:
    return len(line) <= _WIDTH


def _assign(name: str, call: str, argument: str) -> list[str]:
    """``name = call(argument)`` on one line when it fits, else split at the bracket as black does."""
    line = f"{_INDENT}{name} = {call}({argument})"
    return [line] if _fits(line) else [f"{_INDENT}{name} = {call}(", f"{_INDENT * 2}{argument}", f"{_INDENT})"]


def _dict(name: str, entries: list[str]) -> list[str]:
    line = f"{_INDENT}{name} = {{{', '.join(entries)}}}"
    if _fits(line):
        return [line]
    return [f"{_INDENT}{name} = {{", *(f"{_INDENT * 2}{entry}," for entry in entries), f"{_INDENT}}}"]


def _if(check: str, comment: str, then: list[str]) -> list[str]:
    head = f"{_INDENT}if {check}:"
    opening = [head] if _fits(head) else [f"{_INDENT}if (", f"{_INDENT * 2}{check}", f"{_INDENT}):"]
    return [f"{_INDENT}# {comment}", *opening, *(_INDENT + line for line in then)]


def _body(renders: list[tuple[str, str]], inputs: dict[str, str], shim: list[str], native: bool,
          checks: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The component's body: the environment Airflow renders with, the Variable stand-in, the checks in order."""
    lines: list[str] = []
    if renders:
        kind = "jinja2.nativetypes.NativeEnvironment" if native else "jinja2.sandbox.SandboxedEnvironment"
        lines += [f"{_INDENT}import jinja2", f"{_INDENT}import {kind.rsplit('.', 1)[0]}", "",
                  f"{_INDENT}# Airflow renders the templated fields before execute, with this environment"
                  + (" (render_template_as_native_obj=True)" if native else ""),
                  f"{_INDENT}environment = {kind}(",
                  f'{_INDENT * 2}undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"]', f"{_INDENT})"]
        lines += _dict("params", [f"{json.dumps(airflow)}: {name}" for name, airflow in inputs.items()])
        lines += ["", f"{_INDENT}def render(template):",
                  f"{_INDENT * 2}return environment.from_string(template).render(params=params)", ""]
        for name, template in renders:
            lines += _assign(name, "render", _python(repr(template)))
    if shim:
        lines += [""]  # black's blank line before a nested class
        lines += [f"{_INDENT}{line}" if line else "" for line in shim]
    for check, guard in checks:
        where = f"{guard['method']} ({guard['where']}) raises {guard['raises']}"
        if guard["skips"]:
            then = [f"{_INDENT}return False"]
        else:
            then = [line.replace(" = ", " ", 1) for line in _assign("raise", "RuntimeError", _python(repr(where)))]
        lines += _if(check, where, then)
    return lines + [f"{_INDENT}return True"]


def guard_task(task: AirflowTask, plan: GuardPlan, params: dict[str, PipelineParameter],
               environment: Any, native: bool, task_id: str, base_image: str) -> KfpTask:
    """The guard component's task for the Airflow task ``task`` (see the module docstring)."""
    renders: list[tuple[str, str]] = []
    checks: list[tuple[str, dict[str, Any]]] = []
    for guard in plan.guards:
        renamed = {}
        for name, template in guard["templates"].items():
            renamed[name] = f"{RENDERED_PREFIX}{len(renders) + 1}"
            renders.append((renamed[name], template))
        checks.append((_check_source(guard, renamed), guard))
    inputs = {name if name.isidentifier() and not keyword.iskeyword(name) else f"param_{python_name(name)}": name
              for name in plan.params}
    taken = set(inputs) | {name for name, _ in renders} | {"environment", "params", "render", "jinja2"}
    shim = build_variable_shim(ast.parse("\n".join(check for check, _ in checks)), frozenset({"Variable"}),
                               environment, taken)
    signature = [(name, plan.params[airflow]) for name, airflow in inputs.items()]
    signature += [(name, "str") for name, _ in shim.inputs]
    operator = task.operator.rsplit(".", 1)[-1]
    head = f"def {_function_name(task_id)}({', '.join(f'{n}: {t}' for n, t in signature)}) -> bool:"
    doc = f'{_INDENT}"""Whether {task.task_id} runs: {operator}\'s run-method guards, as Airflow evaluates them."""'
    code = "\n".join([head, doc, *_body(renders, inputs, shim.statements, native, checks)]) + "\n"
    python = PythonFunction(code=code, params=[(name, kind, None) for name, kind in signature], returns="bool",
                            base_image=base_image, packages=["jinja2"] if renders else [],
                            skip_output=SINGLE_OUTPUT, parameters=list(shim.parameters))
    arguments: dict[str, Any] = {name: ParamRef(params[airflow].name) for name, airflow in inputs.items()}
    arguments.update({name: ref for name, ref in shim.inputs})
    skips = any(guard["skips"] for guard in plan.guards)
    guard_kfp = KfpTask(task_id=task_id, operator=task.operator, rule="guard", kind="python", python=python,
                        arguments=arguments, decision=Decision(mode="skip") if skips else None,
                        guard_of=task.task_id, image=base_image)
    guard_kfp.parameters = [params[airflow] for airflow in inputs.values()] + list(shim.parameters)
    return guard_kfp


def _function_name(task_id: str) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in task_id)
    return text if text[:1].isalpha() else f"task_{text}"
