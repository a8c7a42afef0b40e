"""A rule's worked example: an Airflow snippet, the task the analyzer makes of it, the KFP result.

Tests map ``task`` and compare ``fields`` (attributes of the :class:`KfpTask`), ``kfp``
(lines the emitted ``pipeline.py`` must contain) and ``codes`` (finding codes, exactly).
``docs/operators.md`` is generated from the same examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from af2kfp.converters.graph import AirflowTask, PythonCallable

__all__ = ["Example", "example_task"]


@dataclass(frozen=True, kw_only=True)
class Example:
    """One documented mapping; ``airflow`` and ``kfp`` are source snippets for people."""

    title: str
    airflow: str
    task: AirflowTask
    fields: dict[str, Any] = field(default_factory=dict)
    kfp: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    fate: str = "converted"
    # Upstream Python tasks whose output the example reads: task id -> KFP type.
    producers: dict[str, str] = field(default_factory=dict)
    # Direct downstream task ids (the tasks a branch example may follow).
    downstream: tuple[str, ...] = ()


def example_task(
    operator: str,
    task_id: str = "task",
    python: PythonCallable | None = None,
    call_kwargs: dict[str, Any] | None = None,
    **args: Any,
) -> AirflowTask:
    """An :class:`AirflowTask` as the analyzer would build it from an example snippet."""
    return AirflowTask(
        task_id=task_id,
        operator=operator,
        imported_as=operator,
        file="example.py",
        line=1,
        args={"task_id": task_id, **args},
        python=python,
        call_kwargs=call_kwargs or {},
    )
