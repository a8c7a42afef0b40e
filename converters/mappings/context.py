"""What a rule sees while it maps one task: the task, the config, and a findings sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from af2kfp.converters.config import Config
from af2kfp.converters.findings import CODES, Finding
from af2kfp.converters.graph import AirflowTask
from af2kfp.converters.mappings.dataflow import DataFlow

__all__ = ["MapContext"]


@dataclass(kw_only=True)
class MapContext:
    """Per-task mapping state.

    ``consumers``: ids of tasks whose output another task reads; ``producers``: ids of
    already mapped tasks with an output -> its carrier (:mod:`~af2kfp.converters.mappings.pytypes`;
    a KFP type, or how a JSON value travels), a named XCom key of a ``multiple_outputs``
    task as ``task[key]`` (:func:`~af2kfp.converters.mappings.dataflow.output_id`); ``flow``: what
    the whole DAG reads of each task (keys, iterated lists); ``used``: arguments consumed;
    ``params``: the DAG's params as pipeline parameters, by Airflow name (for ``{{ params.x }}``);
    ``downstream``: the task's direct downstream task ids (the tasks a branch may follow);
    ``pipelines``: the DAGs converted together, dag_id -> KFP pipeline name (``None``: not known,
    the task is mapped alone).
    """

    task: AirflowTask
    dag_id: str
    config: Config = field(default_factory=Config)
    consumers: set[str] = field(default_factory=set)
    producers: dict[str, str | None] = field(default_factory=dict)
    flow: DataFlow = field(default_factory=DataFlow)
    findings: list[Finding] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    params: dict[str, Any] = field(default_factory=dict)
    # Direct downstream task ids, in source order (the tasks a branch may follow).
    downstream: tuple[str, ...] = ()
    # Python task id -> the keys of the dict its callable returns, when known (env from an XCom).
    returned_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pipelines: dict[str, str] | None = None
    # The task runs once per item, in a dsl.ParallelFor (its .expand(), or a mapped task group's).
    looped: bool = False
    # The run-method guards a guard component evaluates (af2kfp.converters.mappings.guards.GuardPlan), when any.
    guards: Any = None
    # The DAG's schedule when a text known at conversion ("@daily", a cron): what dag.schedule reads.
    schedule: str | None = None

    def arg(self, name: str, default: Any = None) -> Any:
        """The resolved argument ``name`` (marked as used)."""
        self.used.add(name)
        return self.task.args.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.task.args

    def add(self, code: str, message: str, suggestion: str | None = None) -> None:
        """Attach a finding with the code's default severity to this task."""
        entry = CODES[code]
        self.findings.append(
            Finding(
                code=code,
                severity=entry.severity,
                message=message,
                suggestion=suggestion or entry.help,
                file=self.task.file,
                line=self.task.line,
                dag_id=self.dag_id,
                task_id=self.task.task_id,
            )
        )
