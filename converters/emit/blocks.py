"""The nesting of a pipeline body: tasks inside ``dsl.If`` chains, sub-pipelines, an exit handler.

Pure structure, no code: :mod:`af2kfp.converters.emit.pipeline_py` renders it. Each task sits
under its arms (``KfpTask.arms``, outermost first). The arms of one decider at one level
form a chain (``dsl.If``/``dsl.Elif``/``dsl.Else``, or independent ``dsl.If`` blocks for a
branch that may follow several tasks). A chain is placed where its last task comes in
dependency order: tasks outside it never wait for tasks inside (KFP forbids it; the
mapper turned such arms into a sub-pipeline), so everything it needs is emitted before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import networkx as nx

from af2kfp.converters.mappings.model import Arm, Decision, KfpTask, Loop, MappedDag

__all__ = ["TaskItem", "ArmBlock", "ChainItem", "SubPipelineItem", "LoopItem", "Item", "body_items", "members",
           "waits_for"]


@dataclass
class TaskItem:
    task_id: str
    position: int


@dataclass
class ArmBlock:
    """One ``with dsl.If/Elif/Else`` block; ``kind`` is ``If``, ``Elif`` or ``Else``."""

    arm: Arm
    kind: str
    items: list["Item"]


@dataclass
class ChainItem:
    decider: str
    blocks: list[ArmBlock]
    position: int


@dataclass
class SubPipelineItem:
    """A decider's arms as a ``@dsl.pipeline`` called like a component (a join waits for it).

    ``arm`` is set when the sub-pipeline holds one arm of a branch that may follow several
    tasks: its arms are separate sub-pipelines, so a task of one arm can wait for another.
    """

    decider: str
    items: list["Item"]
    position: int
    task_ids: list[str] = field(default_factory=list)
    arm: Arm | None = None


@dataclass
class LoopItem:
    """A ``with dsl.ParallelFor`` block: a mapped task, or every task of a mapped task group."""

    loop: Loop
    items: list["Item"]
    position: int


Item = Union[TaskItem, ChainItem, SubPipelineItem, LoopItem]


def members(items: list[Item]) -> list[str]:
    """Every task id inside ``items``, nested ones included, in order."""
    out: list[str] = []
    for item in items:
        if isinstance(item, TaskItem):
            out.append(item.task_id)
        elif isinstance(item, ChainItem):
            for block in item.blocks:
                out += members(block.items)
        else:
            out += members(item.items)
    return out


def _scope(kfp: KfpTask) -> tuple[Arm | Loop, ...]:
    """The blocks around a task, outermost first: its conditions, then its loops."""
    return kfp.arms + kfp.loops


def _arm_order(decision: Decision, arm: Arm) -> tuple[int, str]:
    if decision.mode == "choice" and arm.value in decision.targets:
        return decision.targets.index(arm.value), ""
    if decision.mode == "set":
        names = list(decision.outputs.values())
        return (names.index(arm.output) if arm.output in names else len(names)), str(arm.output)
    return 0, str(arm.value)


def _chain(decider: str, decision: Decision, by_arm: dict[Arm, list[str]], depth: int,
           mapped: MappedDag, position: dict[str, int], deps: dict[str, set[str]]) -> list[ChainItem]:
    arms = sorted(by_arm, key=lambda a: _arm_order(decision, a))
    if decision.mode == "set":  # the arms do not exclude each other: a dsl.If each
        return [ChainItem(decider, [ArmBlock(arm, "If", _level(by_arm[arm], depth + 1, mapped, position, deps))],
                          max(position[t] for t in by_arm[arm])) for arm in arms]
    blocks = [ArmBlock(arm, "If" if i == 0 else "Elif", _level(by_arm[arm], depth + 1, mapped, position, deps))
              for i, arm in enumerate(arms)]
    every_target = decision.mode == "choice" and len(arms) == len(decision.targets) > 1
    if decision.exhaustive and every_target:
        blocks[-1].kind = "Else"
    tasks = [t for ids in by_arm.values() for t in ids]
    return [ChainItem(decider, blocks, max(position[t] for t in tasks))]


def _level(task_ids: list[str], depth: int, mapped: MappedDag, position: dict[str, int],
           deps: dict[str, set[str]]) -> list[Item]:
    by_id = {t.task_id: t for t in mapped.tasks}
    items: list[Item] = []
    grouped: dict[str, dict[Arm, list[str]]] = {}
    looped: dict[Loop, list[str]] = {}
    for task_id in task_ids:
        scope = _scope(by_id[task_id])
        if len(scope) <= depth:
            items.append(TaskItem(task_id, position[task_id]))
        elif isinstance(scope[depth], Loop):
            looped.setdefault(scope[depth], []).append(task_id)
        else:
            grouped.setdefault(scope[depth].decider, {}).setdefault(scope[depth], []).append(task_id)
    for loop, inside in looped.items():
        items.append(LoopItem(loop, _level(inside, depth + 1, mapped, position, deps),
                              max(position[t] for t in inside)))
    for decider, by_arm in grouped.items():
        decision = by_id[decider].decision
        assert decision is not None
        chains: list[Item] = list(_chain(decider, decision, by_arm, depth, mapped, position, deps))
        if decider in mapped.subpipelines and decision.mode == "set":  # arms that may all run: one each
            chains = [SubPipelineItem(decider, [chain], chain.position, members([chain]), chain.blocks[0].arm)
                      for chain in chains if isinstance(chain, ChainItem)]
        elif decider in mapped.subpipelines:
            inside = [t for ids in by_arm.values() for t in ids]
            chains = [SubPipelineItem(decider, chains, max(position[t] for t in inside), members(chains))]
        items += chains
    return _ordered(items, deps)


def _ordered(items: list[Item], deps: dict[str, set[str]]) -> list[Item]:
    """Items in an order where each comes after every item it waits for (stable by position)."""
    owner = {task_id: i for i, item in enumerate(items) for task_id in members([item])}
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(items)))
    for task_id, i in owner.items():
        for upstream in deps.get(task_id, ()):
            if owner.get(upstream, i) != i:
                graph.add_edge(owner[upstream], i)
    try:
        order = list(nx.lexicographical_topological_sort(graph, key=lambda i: items[i].position))
    except nx.NetworkXUnfeasible:  # a join inside a region it waits for: compile reports it
        order = sorted(range(len(items)), key=lambda i: items[i].position)
    return [items[i] for i in order]


def waits_for(mapped: MappedDag) -> dict[str, set[str]]:
    """For each task, the tasks it waits for: its dependencies and the outputs it reads."""
    out: dict[str, set[str]] = {t.task_id: t.reads() for t in mapped.tasks}
    for u, v in mapped.edges:
        out.setdefault(v, set()).add(u)
    return out


def body_items(mapped: MappedDag) -> list[Item]:
    """The main pipeline body's items in emit order (the exit task, if any, stays a plain task)."""
    position = {t.task_id: i for i, t in enumerate(mapped.tasks)}
    return _level([t.task_id for t in mapped.tasks], 0, mapped, position, waits_for(mapped))
