"""Every task of a compiled pipeline spec, those inside control-flow groups and sub-pipelines too.

KFP names a task after its component, unique only within its own DAG: a ``dsl.If`` block
or a sub-pipeline has a DAG of its own, so two tasks of one spec may share a name. The
reports and the report JSON need one key per task: the name where it is unique in the
spec, else the names of the groups around it and its own, joined by ``/``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["SpecTask", "spec_tasks"]

# Component name prefixes the compiler gives control-flow groups -> how reports label them.
_GROUPS = {"condition-branches": "If/Elif/Else", "condition": "If", "for-loop": "ParallelFor",
           "exit-handler": "ExitHandler"}


@dataclass(frozen=True)
class SpecTask:
    """``groups``: labels of the groups around the task, outermost first (``"If condition-2"``);
    ``path``: the names of those group tasks, each in the DAG of the one before it."""

    key: str
    name: str
    display: str
    groups: tuple[str, ...]
    upstream: tuple[str, ...]
    path: tuple[str, ...] = ()


def _label(ref: str, name: str) -> str:
    for prefix, label in sorted(_GROUPS.items(), key=lambda kv: -len(kv[0])):
        if ref.startswith(f"comp-{prefix}-"):
            return f"{label} {name}"
    return f"sub-pipeline {name}"


def spec_tasks(spec: dict[str, Any]) -> list[SpecTask]:
    """The leaf tasks of ``spec`` (a pipeline spec as JSON data), in DAG order."""
    components = spec.get("components") or {}
    found: list[tuple[tuple[str, ...], tuple[str, ...], str, dict[str, Any]]] = []

    def walk(tasks: dict[str, Any], path: tuple[str, ...], groups: tuple[str, ...]) -> None:
        for name, body in (tasks or {}).items():
            ref = ((body or {}).get("componentRef") or {}).get("name", "")
            sub = ((components.get(ref) or {}).get("dag") or {}).get("tasks")
            if sub is not None:
                walk(sub, path + (name,), groups + (_label(ref, name),))
            else:
                found.append((path, groups, name, body or {}))

    walk(((spec.get("root") or {}).get("dag") or {}).get("tasks") or {}, (), ())
    counts = Counter(name for _, _, name, _ in found)
    keys = {(path, name): name if counts[name] == 1 else "/".join(path + (name,)) for path, _, name, _ in found}
    return [
        SpecTask(key=keys[(path, name)], name=name, display=(body.get("taskInfo") or {}).get("name", name),
                 groups=groups, upstream=tuple(keys[(path, u)] for u in body.get("dependentTasks") or []
                                               if (path, u) in keys), path=path)
        for path, groups, name, body in found
    ]
