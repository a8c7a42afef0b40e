"""Every task of a compiled pipeline spec, those inside control-flow groups and sub-pipelines too.

KFP names a task after its component, unique only within its own DAG: a ``dsl.If`` block
or a sub-pipeline has a DAG of its own, so two tasks of one spec may share a name. The
reports and the report JSON need one key per task: the name where it is unique in the
spec, else the names of the groups around it and its own, joined by ``/``.

The groups around a task are also labelled for the reports with what they do, read from
the spec (``If has-new-data == true``, ``ParallelFor over list-partitions``): the
compiler's own names (``condition-3``) mean nothing to a reader.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["SpecTask", "spec_tasks", "group_list"]

_CHANNEL = "pipelinechannel--"
# A parameter read in a condition, maybe cast: ``int(inputs.parameter_values['pipelinechannel--n-Output'])``.
_OPERAND = re.compile(r"(?P<cast>\w+\()?inputs\.parameter_values\['(?P<name>[^']+)'\](?(cast)\))")
_EXIT_STRATEGY = "ALL_UPSTREAM_TASKS_COMPLETED"
# Component name prefixes the compiler gives control-flow groups; any other group is a sub-pipeline.
_CONTROL_FLOW = ("comp-condition-", "comp-for-loop-", "comp-exit-handler-")


@dataclass(frozen=True)
class SpecTask:
    """``groups``: labels of the groups around the task, outermost first (``"If has-new-data == true"``);
    ``path``: the names of those group tasks, each in the DAG of the one before it."""

    key: str
    name: str
    display: str
    groups: tuple[str, ...]
    upstream: tuple[str, ...]
    path: tuple[str, ...] = ()


def _source(param: dict[str, Any], scope: dict[str, str]) -> str | None:
    """The readable name of what a group task's input parameter reads: ``producer`` (its
    ``Output``), ``producer.key``, or the name the enclosing scope gives the input it passes on."""
    produced = param.get("taskOutputParameter")
    if isinstance(produced, dict) and produced.get("producerTask"):
        key = produced.get("outputParameterKey", "Output")
        return produced["producerTask"] if key == "Output" else f"{produced['producerTask']}.{key}"
    passed = param.get("componentInputParameter")
    return scope.get(passed, _plain(passed)) if isinstance(passed, str) else None


def _plain(channel: str) -> str:
    """A channel name without the compiler's decorations (``pipelinechannel--list-partitions-Output``)."""
    name = channel.removeprefix(_CHANNEL)
    name = re.sub(r"-Output(?=$|-)", "", name)
    name = re.sub(r"^loop-item-param-\d+", "item", name).replace("-subvar-", ".")
    return re.sub(r"-loop-item$", " item", name)


def _scope(body: dict[str, Any], scope: dict[str, str]) -> dict[str, str]:
    """Input name -> readable name inside the DAG of group task ``body``."""
    params = ((body.get("inputs") or {}).get("parameters") or {})
    named = {name: _source(param or {}, scope) for name, param in params.items()}
    return {name: value for name, value in named.items() if value}


def _readable(expression: str, scope: dict[str, str]) -> str:
    return _OPERAND.sub(lambda m: scope.get(m["name"], _plain(m["name"])), expression).strip()


def _condition(expression: str, scope: dict[str, str]) -> str:
    """``If x == 1``; ``Elif x == 2`` and ``Else`` for the arms the compiler writes as the
    negations of the arms before (``!(a) && b``, ``!(a) && !(b)``)."""
    terms = [t.strip() for t in expression.split(" && ")] if expression else []
    own = [t for t in terms if not (t.startswith("!(") and t.endswith(")"))]
    if not own:
        return "Else" if terms else "If"
    keyword = "Elif" if len(own) < len(terms) else "If"
    return f"{keyword} {_readable(' && '.join(own), scope)}"


def _loop(body: dict[str, Any], scope: dict[str, str]) -> str:
    iterator = body.get("parameterIterator") or body.get("artifactIterator") or {}
    items = iterator.get("items") or {}
    over = "ParallelFor"
    if "raw" in items:
        try:
            values = json.loads(items["raw"])
        except (TypeError, ValueError):
            values = None
        over += f" over {len(values)} items" if isinstance(values, list) else ""
    elif name := items.get("inputParameter") or items.get("inputArtifact"):
        over += f" over {scope.get(name, _plain(name))}"
    limit = (body.get("iteratorPolicy") or {}).get("parallelismLimit")
    return f"{over}, {limit} at a time" if limit else over


def _exit_task(group: str, siblings: dict[str, Any]) -> str | None:
    """The task of ``siblings`` that runs after ``group`` whatever its state: its exit task."""
    for name, body in siblings.items():
        body = body or {}
        if group in (body.get("dependentTasks") or []) and \
                (body.get("triggerPolicy") or {}).get("strategy") == _EXIT_STRATEGY:
            return name
    return None


def _branches(arms: dict[str, Any], scope: dict[str, str]) -> str:
    """``If/Elif/Else on pick``: the values the arms of a ``dsl.If``/``Elif``/``Else`` chain compare."""
    names: list[str] = []
    for arm in arms.values():
        for match in _OPERAND.finditer(((arm or {}).get("triggerPolicy") or {}).get("condition", "")):
            name = scope.get(match["name"], _plain(match["name"]))
            names += [] if name in names else [name]
    return f"If/Elif/Else on {', '.join(names)}" if names else "If/Elif/Else"


def _label(ref: str, name: str, body: dict[str, Any], *, siblings: dict[str, Any], inner: dict[str, Any],
           scope: dict[str, str]) -> str:
    """What group task ``name`` (component ``ref``, in DAG ``siblings``, holding DAG ``inner``) does,
    in the words of the KFP DSL; ``scope`` names the inputs its DAG reads."""
    kind = ref.removeprefix("comp-")
    if kind.startswith("condition-branches-"):
        return _branches(inner, scope)
    if kind.startswith("condition-"):
        return _condition((body.get("triggerPolicy") or {}).get("condition", ""), scope)
    if kind.startswith("for-loop-"):
        return _loop(body, scope)
    if kind.startswith("exit-handler-"):
        exit_task = _exit_task(name, siblings)
        return f"ExitHandler (exit task {exit_task})" if exit_task else "ExitHandler"
    return f"sub-pipeline {name}"


def spec_tasks(spec: dict[str, Any]) -> list[SpecTask]:
    """The leaf tasks of ``spec`` (a pipeline spec as JSON data), in DAG order."""
    components = spec.get("components") or {}
    found: list[tuple[tuple[str, ...], tuple[str, ...], str, dict[str, Any]]] = []

    def walk(tasks: dict[str, Any], path: tuple[str, ...], groups: tuple[str, ...], scope: dict[str, str]) -> None:
        for name, body in (tasks or {}).items():
            body = body or {}
            ref = (body.get("componentRef") or {}).get("name", "")
            sub = ((components.get(ref) or {}).get("dag") or {}).get("tasks")
            if sub is not None:
                inside = _scope(body, scope)
                label = _label(ref, name, body, siblings=tasks, inner=sub, scope=inside)
                # a sub-pipeline's DAG reads its own parameters, under the names its code gives them
                walk(sub, path + (name,), groups + (label,), inside if ref.startswith(_CONTROL_FLOW) else {})
            else:
                found.append((path, groups, name, body))

    walk(((spec.get("root") or {}).get("dag") or {}).get("tasks") or {}, (), (), {})
    counts = Counter(name for _, _, name, _ in found)
    keys = {(path, name): name if counts[name] == 1 else "/".join(path + (name,)) for path, _, name, _ in found}
    return [
        SpecTask(key=keys[(path, name)], name=name, display=(body.get("taskInfo") or {}).get("name", name),
                 groups=groups, upstream=tuple(keys[(path, u)] for u in body.get("dependentTasks") or []
                                               if (path, u) in keys), path=path)
        for path, groups, name, body in found
    ]


def group_list(task: SpecTask) -> list[tuple[str, str]]:
    """The groups around ``task``, outermost first, as ``(id, label)``: the id (group task names
    joined by ``/``) tells two groups with the same label apart."""
    return [("/".join(task.path[:depth + 1]), label) for depth, label in enumerate(task.groups)]
