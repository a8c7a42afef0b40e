"""Which condition each task runs under, from Airflow's skip and trigger-rule semantics.

Airflow skips tasks at run time: a branch skips the direct downstream tasks it did not
choose (except those downstream of one it chose), a short circuit skips what follows it
(teardowns excepted), and each task's ``trigger_rule`` decides whether a skipped upstream
task skips it too. KFP decides the same statically, with ``dsl.If`` blocks around tasks.
This works out, on the Airflow graph (folded tasks included, since a folded join still
passes its trigger rule on), what the deciders must report for each task to run. Tasks
that need every upstream task combine their upstream conditions with *and*, tasks that
run after any of them with *or*, tasks that run even when all upstream tasks were skipped
drop them; a decider that was itself skipped skips nothing.

A task that raises ``AirflowSkipException`` (``Decision(mode="skip")``) skips itself only:
for the tasks after it, it succeeded when its condition held and it reported that it ran,
and each of them applies its own trigger rule to that, as to any skipped upstream task.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from af2kfp.converters.graph import AirflowTask
from af2kfp.converters.mappings.model import Arm, Decision

__all__ = ["Condition", "Key", "trigger_rule", "conditions", "arms"]

# Rules by what a skipped upstream task does to the task (Airflow's TriggerRule semantics).
_NEEDS_ALL = {"all_success", "none_skipped", "all_failed"}  # any skipped upstream skips it
_NEEDS_ONE = {"one_success", "one_done", "none_failed_min_one_success", "all_done_min_one_success", "one_failed"}
_RUNS_ANYWAY = {"none_failed", "none_failed_or_skipped", "all_done", "always", "all_done_setup_success",
                "all_skipped"}

# What a task needs for it to run: (decider, None) -> the values the decider must report
# (a single-choice branch's task ids, or True for a short circuit); (decider, target) ->
# {True}: a branch that may follow several tasks must follow ``target``.
Key = tuple[str, Any]
Condition = dict[Key, frozenset[Any]]


def trigger_rule(task: AirflowTask) -> str:
    """The task's trigger rule as Airflow names it (``TriggerRule.X`` resolved, teardown default)."""
    value = task.args.get("trigger_rule")
    if value is None:
        return "all_done_setup_success" if task.role == "teardown" else "all_success"
    text = str(value)
    return text.rsplit(".", 1)[-1].lower() if text.startswith("TriggerRule.") else text.lower()


def _and(conditions: list[Condition]) -> Condition:
    out: dict[Key, frozenset[Any]] = {}
    for condition in conditions:
        for key, values in condition.items():
            out[key] = out[key] & values if key in out else values
    return out


def _or(conditions: list[Condition]) -> tuple[Condition, bool]:
    """Runs when any of ``conditions`` holds: the common part, and whether that is exact."""
    if not conditions:
        return {}, True
    common = set(conditions[0]).intersection(*conditions[1:])
    merged = {k: frozenset().union(*(c[k] for c in conditions)) for k in common}
    differing = {k for k in common if len({c[k] for c in conditions}) > 1}
    exact = any(c == merged for c in conditions) or (  # same keys, values differing in one: a union
        len({frozenset(c) for c in conditions}) == 1 and len(differing) <= 1)
    return merged, exact


def _branch_condition(graph: nx.DiGraph, decider: str, decision: Decision, node: str) -> tuple[Condition, bool]:
    """What a branch must report for its direct downstream ``node`` not to be skipped.

    Airflow skips the direct downstream tasks it did not follow, except those downstream
    of a task it followed; the condition is exact unless a branch that may follow several
    tasks would need one of several.
    """
    tasks = list(decision.outputs) or [t for t in graph.successors(decider)]
    keep = {node} | {t for t in tasks if t != node and t in graph and node in nx.descendants(graph, t)}
    if decision.mode == "choice":
        return {(decider, None): frozenset(decision.selects.get(t, t) for t in keep)}, True
    if len(keep) == 1:
        return {(decider, node): frozenset({True})}, True
    return {}, False


def conditions(graph: nx.DiGraph, decisions: dict[str, Decision]) -> tuple[dict[str, Condition], set[str]]:
    """For every Airflow task, what the deciders must report for it to run; and the tasks
    whose condition is not exactly Airflow's (see ``M255``)."""
    order = list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else list(graph.nodes)
    forced: dict[str, list[str]] = {}  # short circuits skip everything after them, teardowns excepted
    for decider, decision in decisions.items():
        if decision.mode == "short_circuit" and decider in graph:
            after = nx.descendants(graph, decider) if decision.skip_all_downstream else set(graph.successors(decider))
            for node in after:
                task = graph.nodes[node].get("task")
                if task is None or task.role != "teardown":
                    forced.setdefault(node, []).append(decider)
    result: dict[str, Condition] = {}
    wider: set[str] = set()

    def succeeded(task_id: str) -> Condition:
        """When ``task_id`` ran and was not skipped: its condition, and that it did not skip itself."""
        own = result.get(task_id, {})
        decision = decisions.get(task_id)
        return _and([own, {(task_id, None): frozenset({True})}]) if decision and decision.mode == "skip" else own

    for node in order:
        task = graph.nodes[node].get("task")
        rule = trigger_rule(task) if task is not None else "all_success"
        if rule == "always":  # Airflow starts it at once: no branch or short circuit can skip it
            result[node] = {}
            continue
        upstream = [succeeded(u) for u in graph.predecessors(node)]
        exact = True
        if rule in _NEEDS_ALL:
            condition = _and(upstream)
        elif rule in _NEEDS_ONE:
            condition, exact = _or(upstream)
        else:
            condition = {}
        own: list[Condition] = [condition]
        deciders = list(forced.get(node, []))
        for decider in deciders:
            own.append({(decider, None): frozenset({True})})
        for u in graph.predecessors(node):
            decision = decisions.get(u)
            if decision is not None and decision.mode not in ("short_circuit", "skip"):
                branch, branch_exact = _branch_condition(graph, u, decision, node)
                own.append(branch)
                deciders.append(u)
                exact = exact and branch_exact
        for decider in deciders:  # a decider that did not run skips nothing; KFP tests its output only where it ran
            needed = result.get(decider, {})
            if needed and _and([condition, needed]) != condition:
                exact = False
            own.append(needed)
        result[node] = {k: v for k, v in _and(own).items() if not _certain(decisions[k[0]], k, v)}
        if not exact:
            wider.add(node)
    return result, wider


def _certain(decision: Decision, key: Key, values: frozenset[Any]) -> bool:
    """True when every run of the decider reports one of ``values`` (no condition at all)."""
    return (key[1] is None and decision.mode == "choice" and decision.exhaustive
            and values >= set(decision.targets))


def arms(condition: Condition, decisions: dict[str, Decision], rank: dict[str, int]
         ) -> tuple[tuple[Arm, ...], list[str], bool]:
    """The ``dsl.If`` arms for one condition, outermost decider first; the deciders whose
    arms exclude each other (the task never runs in Airflow); and whether some part
    could not be written as an arm (several values of one decider)."""
    found: list[Arm] = []
    never: list[str] = []
    wider = False
    for key in sorted(condition, key=lambda k: (rank.get(k[0], 0), str(k[1]))):
        (decider, target), values, decision = key, condition[key], decisions[key[0]]
        if not values:
            never.append(decider)
        elif target is not None:
            found.append(Arm(decider=decider, value=True, output=decision.outputs[target]))
        elif decision.mode == "short_circuit":
            found.append(Arm(decider=decider, value=True))
        elif decision.mode == "skip":
            found.append(Arm(decider=decider, value=True, output=decision.flag))
        elif len(values) == 1:
            found.append(Arm(decider=decider, value=next(iter(values))))
        else:
            wider = True
    return tuple(found), never, wider
