"""Names in the emitted code: component functions, task variables, the pipeline itself.

Airflow ids may hold dots (TaskGroups), dashes and capitals; Python names and KFP task
names may not. Names are lower-case identifiers, unique, never a keyword or a name the
generated module already uses; KFP task names follow from them the way kfp derives them.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass

__all__ = ["Names", "assign_names", "kebab", "snake", "kfp_task_name", "unique"]

# Names the generated module uses or could shadow: its imports and every builtin.
_RESERVED = {"dsl", "compiler", "kubernetes", "Path", "kfp"} | set(dir(builtins))


def snake(text: str) -> str:
    """A lower-case Python identifier for ``text``."""
    name = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "task"
    if name[0].isdigit():
        name = f"t_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _RESERVED:
        name = f"{name}_"
    return name


def kebab(text: str) -> str:
    """A KFP pipeline name: lower-case letters, digits and dashes."""
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")[:128] or "pipeline"


def kfp_task_name(component: str) -> str:
    """The task name kfp's compiler gives a component function's first call."""
    return re.sub(r"-+", "-", re.sub(r"[^-0-9a-z]+", "-", component.lower())).lstrip("-").rstrip("-")


@dataclass(frozen=True)
class Names:
    """``component``/``variable``: airflow task id -> name; ``pipeline``: the pipeline function."""

    pipeline: str
    component: dict[str, str]
    variable: dict[str, str]


def unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... the first not in ``taken`` (which it joins)."""
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def assign_names(dag_id: str, task_ids: list[str], parameters: list[str] | tuple[str, ...] = (),
                 bases: dict[str, str] | None = None) -> Names:
    """Stable names: same input, same names (task ids in emit order).

    ``parameters`` are the pipeline function's parameters: no component or variable may shadow them;
    ``bases``: the name to start from for a task the conversion added (not its id).
    """
    taken = set(_RESERVED) | set(parameters)
    pipeline = unique(snake(dag_id), taken)
    bases = bases or {}
    component = {task_id: unique(bases.get(task_id) or snake(task_id), taken) for task_id in task_ids}
    variable = {task_id: unique(f"{component[task_id]}_task", taken) for task_id in task_ids}
    return Names(pipeline=pipeline, component=component, variable=variable)
