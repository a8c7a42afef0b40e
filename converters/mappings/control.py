"""Control flow over the whole DAG: conditions as KFP blocks, and trigger rules as KFP flags.

:mod:`.conditions` says what each task needs to run; this turns that into ``KfpTask.arms``
that nest as ``dsl.If`` blocks (an arm whose decider sits elsewhere is dropped, ``M255``),
marks the tasks that run after failed upstream tasks (``.ignore_upstream_failure()``, the
``dsl.ExitHandler`` exit task), and chooses the deciders whose arms become sub-pipelines:
a task outside a decider's arms that waits for a task inside them (the join after a
branch) cannot ``.after()`` into a ``dsl.If`` in KFP, so the arms are emitted as a
sub-pipeline the join waits for (``MappedDag.subpipelines``).
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import networkx as nx

from af2kfp.converters.findings import CODES, Finding
from af2kfp.converters.graph import AirflowTask, dag_info
from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.base import decide_fate
from af2kfp.converters.mappings.conditions import Condition, arms, conditions, trigger_rule
from af2kfp.converters.mappings.model import Arm, Decision, Input, KfpTask
from af2kfp.converters.mappings.pytypes import INT_ITEMS, JSON, JSON_ITEMS

__all__ = ["apply_control_flow"]

_FINISHED = {"all_done", "always", "all_done_setup_success", "all_done_min_one_success"}
_JOINS = {"none_failed", "none_failed_or_skipped", "none_failed_min_one_success", "one_success", "one_done"}


def _finding(graph: nx.DiGraph, kfp: KfpTask, code: str, message: str) -> Finding:
    task: AirflowTask = graph.nodes[kfp.task_id]["task"]
    entry = CODES[code]
    finding = Finding(code=code, severity=entry.severity, message=message, suggestion=entry.help, file=task.file,
                      line=task.line, dag_id=dag_info(graph).dag_id, task_id=kfp.task_id)
    kfp.findings.append(finding)
    decide_fate(kfp)
    return finding


def _arms(graph: nx.DiGraph, kfp: KfpTask, condition: Condition, wider: bool, decisions: dict[str, Decision],
          rank: dict[str, int], found: list[Finding]) -> tuple[Arm, ...]:
    """The task's arms, with findings for what Airflow decides that they cannot say."""
    placed, never, partial = arms(condition, decisions, rank)
    for decider in never:
        found.append(_finding(graph, kfp, codes.NEVER_RUNS,
                              f"needs arms of {decider!r} that exclude each other; Airflow always skips it"))
    if wider or partial:
        found.append(_finding(graph, kfp, codes.CONDITION_APPROXIMATED,
                              "Airflow runs it for some outcomes of the branches and short circuits before it that "
                              "KFP conditions cannot tell apart (one output compared with one value, only where the "
                              "deciding task ran); check when it should run"))
    return placed


# Airflow hands ``None`` for an output that was never pushed; JSON text can say so exactly.
_EMPTY = {"str": "", "int": 0, "float": 0.0, "bool": False, "dict": {}, "list": [], JSON: "null", JSON_ITEMS: [],
          INT_ITEMS: []}


def _drop_input(kfp: KfpTask, task_id: str) -> None:
    """Pass an empty value instead of an output read from a task that may not have run (``M253``).

    Airflow hands such a task ``None`` when the producer was skipped; KFP cannot read it at all.
    """
    types = {name: annotation for name, annotation, _ in (kfp.python.params if kfp.python else [])}
    for key, value in list(kfp.arguments.items()):
        if isinstance(value, Input) and value.task_id == task_id:
            kfp.arguments[key] = _EMPTY.get(types.get(key, "str"), "")
    kfp.command = ["" if isinstance(v, Input) and v.task_id == task_id else v for v in kfp.command]
    kfp.args = ["" if isinstance(v, Input) and v.task_id == task_id else v for v in kfp.args]


def _ignore_upstream_failure(kfp: KfpTask) -> None:
    """Run after failed upstream tasks too; inputs they feed need a default (KFP's rule).

    kfp 2.17's ``ignore_upstream_failure()`` also fails on an input the call leaves to its
    default, so such parameters become assignments at the top of the body instead.
    """
    kfp.ignore_upstream_failure = True
    fed = {key for key, v in kfp.arguments.items() if isinstance(v, Input)}
    if kfp.python is None:
        return
    unpassed = [(n, d) for n, _, d in kfp.python.params if n not in kfp.arguments and d is not None]
    params = [(n, a, ("'null'" if a == JSON else "None") if n in fed and d is None else d)
              for n, a, d in kfp.python.params if n in kfp.arguments or d is None]
    kfp.python.params = sorted(params, key=lambda p: p[2] is not None)  # defaults last, as Python wants
    if unpassed:
        kfp.python.code = _assign_first(kfp.python.code, unpassed)


def _assign_first(code: str, values: list[tuple[str, str]]) -> str:
    """``name = default`` statements at the top of the function body (after its docstring)."""
    return _statement_first(code, "".join(f"{name} = {default}\n" for name, default in values))


def _statement_first(code: str, statements: str) -> str:
    """``statements`` (source) at the top of the function body, after its docstring."""
    module = cst.parse_module(code)
    fn = cst.ensure_type(module.body[0], cst.FunctionDef)
    body = list(cst.ensure_type(fn.body, cst.IndentedBlock).body)
    first = body[0] if body else None
    docstring = isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr) and isinstance(
        first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    added = list(cst.parse_module(statements).body)
    body = body[:1] + added + body[1:] if docstring else added + body
    return module.with_changes(body=[fn.with_changes(body=fn.body.with_changes(body=body))]).code


def _cross_reads(graph: nx.DiGraph, tasks: list[KfpTask], found: list[Finding]) -> None:
    """An output read from under a condition the reader is not under: an empty value (``M253``)."""
    inside = {t.task_id: {a.decider for a in t.arms} for t in tasks}
    for kfp in tasks:
        for source in sorted(kfp.reads()):
            if source in inside and inside[source] - inside[kfp.task_id]:
                found.append(_finding(graph, kfp, codes.OUTPUT_UNDER_CONDITION,
                                      f"reads the output of {source!r}, which runs only under a condition; "
                                      "it gets an empty value instead"))
                _drop_input(kfp, source)


def _subpipelines(tasks: list[KfpTask], edges: list[tuple[str, str]]) -> set[str]:
    """Deciders whose arms a task outside them waits for: their arms become a sub-pipeline."""
    by_id = {t.task_id: t for t in tasks}
    inside = {t.task_id: {a.decider for a in t.arms} for t in tasks}
    needed: set[str] = set()
    for u, v in edges:
        if u in by_id and v in by_id:
            needed |= inside[u] - inside[v]
    # Arms on a named output (a branch that may follow several tasks) run in a sub-pipeline too:
    # kfp.local resolves a condition on a task's named output only as a sub-pipeline input.
    needed |= {a.decider for t in tasks for a in t.arms if a.output is not None}
    return needed


def _late_members(tasks: list[KfpTask], edges: list[tuple[str, str]], subpipelines: set[str]
                  ) -> dict[str, set[Arm]]:
    """Tasks of a sub-pipeline that come after a task outside it which comes after another of its tasks.

    A sub-pipeline is one task of the pipeline around it: such a task would make it wait for
    itself. Returns each such task with the arms that put it in that sub-pipeline.
    """
    flow = nx.DiGraph(edges)
    for kfp in tasks:
        flow.add_edges_from((u, kfp.task_id) for u in kfp.reads())
    regions: dict[tuple[str, Any], dict[str, Arm]] = {}
    for kfp in tasks:
        for arm in kfp.arms:
            if arm.decider in subpipelines:
                regions.setdefault((arm.decider, arm.output), {})[kfp.task_id] = arm
    late: dict[str, set[Arm]] = {}
    for members in regions.values():
        after = set().union(*(nx.descendants(flow, m) for m in members if m in flow)) - set(members)
        behind = set().union(*(nx.descendants(flow, y) for y in after)) if after else set()
        for member in set(members) & behind:
            late.setdefault(member, set()).add(members[member])
    return late


def _nest(tasks: list[KfpTask]) -> dict[str, int]:
    """Order each task's arms so they nest as KFP blocks; returns the tasks that lost arms.

    A condition on a decider's output can only be written inside the blocks the decider
    itself sits in (KFP forbids reading into another ``dsl.If``): the decider's own arms
    must be the first arms of the task's. Arms are a conjunction, so their order is free;
    arms that fit nowhere are dropped (``M255``). Tasks come in dependency order, so a
    decider's arms are final before its dependents'.
    """
    own = {t.task_id: t for t in tasks}
    dropped: dict[str, int] = {}
    for kfp in tasks:
        placed: list[Arm] = []
        remaining = list(kfp.arms)
        while remaining:
            fits = next((a for a in remaining
                         if list(own[a.decider].arms) == placed[:len(own[a.decider].arms)]), None)
            if fits is None:
                break
            placed.append(fits)
            remaining.remove(fits)
        if remaining:
            dropped[kfp.task_id] = len(remaining)
        kfp.arms = tuple(placed)
    return dropped


def _trigger_rules(graph: nx.DiGraph, tasks: list[KfpTask], edges: list[tuple[str, str]],
                   needed: dict[str, Condition], exit_task: str | None, found: list[Finding]) -> None:
    upstream: dict[str, list[str]] = {}
    for u, v in edges:
        upstream.setdefault(v, []).append(u)
    for kfp in tasks:
        task: AirflowTask = graph.nodes[kfp.task_id]["task"]
        rule = trigger_rule(task)
        after_branch = any(set(needed.get(u, {})) - set(needed.get(kfp.task_id, {}))
                           for u in graph.predecessors(kfp.task_id))
        if kfp.task_id == exit_task and rule == "one_failed":
            _only_on_failure(kfp)
            found.append(_finding(graph, kfp, codes.TRIGGER_RULE_MAPPED,
                                  "trigger_rule='one_failed' alert that ends the DAG: the dsl.ExitHandler exit task, "
                                  "its body runs only when a task of the run failed (dsl.PipelineTaskFinalStatus); "
                                  "the run then ends failed, where Airflow marks it successful after the alert"))
        elif kfp.task_id == exit_task:
            found.append(_finding(graph, kfp, codes.TRIGGER_RULE_MAPPED,
                                  "teardown that ends the DAG: the dsl.ExitHandler exit task, run after every "
                                  "other task, failed or not"))
        elif rule == "always":
            if upstream.get(kfp.task_id) or kfp.reads():
                _ignore_upstream_failure(kfp)
            found.append(_finding(graph, kfp, codes.TRIGGER_RULE_DIFFERS,
                                  "trigger_rule='always': Airflow starts it at once, without waiting for its upstream "
                                  "tasks; KFP runs it after them, failed or not (.ignore_upstream_failure())"))
        elif rule in _FINISHED or task.role == "teardown":
            if upstream.get(kfp.task_id) or kfp.reads():
                _ignore_upstream_failure(kfp)
                found.append(_finding(graph, kfp, codes.TRIGGER_RULE_MAPPED,
                                      f"trigger_rule={rule!r}: runs when its upstream tasks finished, "
                                      "failed or not (.ignore_upstream_failure())"))
        elif rule in ("one_failed", "all_failed"):
            if upstream.get(kfp.task_id) or kfp.reads():
                _ignore_upstream_failure(kfp)
            found.append(_finding(graph, kfp, codes.TRIGGER_RULE_DIFFERS,
                                  f"trigger_rule={rule!r}: Airflow runs it only when upstream tasks failed; "
                                  "KFP runs it after them whether they failed or not"))
        elif rule == "all_skipped":
            found.append(_finding(graph, kfp, codes.TRIGGER_RULE_DIFFERS,
                                  "trigger_rule='all_skipped': KFP has no skipped state to wait for; "
                                  "the task runs after its upstream tasks succeed"))
        elif rule in _JOINS and after_branch:
            found.append(_finding(graph, kfp, codes.TRIGGER_RULE_MAPPED,
                                  f"trigger_rule={rule!r} joins branch arms: runs after the branch, "
                                  "whichever arm ran"))
        elif rule in ("one_success", "one_done") and len(list(graph.predecessors(kfp.task_id))) > 1:
            found.append(_finding(graph, kfp, codes.TRIGGER_RULE_DIFFERS,
                                  f"trigger_rule={rule!r}: Airflow starts it as soon as one upstream task "
                                  "finishes; KFP waits for all of them to succeed"))


def _possible(tasks: list[KfpTask], edges: list[tuple[str, str]], decisions: dict[str, Decision]
              ) -> list[tuple[str, str]]:
    """Drop orderings between arms of one branch that exclude each other: the two never both run."""
    arms = {t.task_id: {a.decider: a.value for a in t.arms if decisions[a.decider].mode == "choice"} for t in tasks}

    def exclusive(u: str, v: str) -> bool:
        return any(d in arms.get(v, {}) and arms[v][d] != value for d, value in arms.get(u, {}).items())

    return [(u, v) for u, v in edges if not exclusive(u, v)]


def _exit_handler(tasks: list[KfpTask], edges: list[tuple[str, str]], graph: nx.DiGraph) -> str | None:
    """The ``dsl.ExitHandler`` exit task: a task every other task leads to, reading no output, that
    is a teardown, or a Python ``one_failed`` alert returning nothing (it then checks the run's status)."""
    if len(tasks) < 2:
        return None
    sinks = {t.task_id for t in tasks} - {u for u, _ in edges}
    flow = nx.DiGraph(edges)
    for role in ("teardown", "alert"):
        for kfp in tasks:
            task: AirflowTask = graph.nodes[kfp.task_id]["task"]
            alert = (trigger_rule(task) == "one_failed" and kfp.python is not None and not kfp.python.returns
                     and kfp.kind == "python")
            if not (task.role == "teardown" if role == "teardown" else alert):
                continue
            if kfp.task_id not in sinks or kfp.arms or kfp.loops or kfp.reads():
                continue
            if sinks == {kfp.task_id} and kfp.task_id in flow and len(nx.ancestors(flow, kfp.task_id)) == len(tasks) - 1:
                return kfp.task_id
    return None


def _only_on_failure(kfp: KfpTask) -> None:
    """An exit task that runs its body only when the run failed (Airflow's ``one_failed`` alert)."""
    assert kfp.python is not None
    kfp.python.params = [("run_status", "dsl.PipelineTaskFinalStatus", None), *kfp.python.params]
    kfp.python.code = _statement_first(kfp.python.code, 'if run_status.state != "FAILED":  # only when a task failed\n'
                                                        "    return\n")


def apply_control_flow(graph: nx.DiGraph, tasks: list[KfpTask], edges: list[tuple[str, str]]
                       ) -> tuple[list[tuple[str, str]], set[str], list[Finding]]:
    """Set each task's arms and trigger-rule flags; returns the edges to emit, the deciders
    whose arms become sub-pipelines, and the findings."""
    found: list[Finding] = []
    decisions = {t.task_id: t.decision for t in tasks if t.decision is not None}
    needed, wider = conditions(graph, decisions)
    rank = {node: i for i, node in enumerate(nx.topological_sort(graph))} if nx.is_directed_acyclic_graph(graph) else {}
    for kfp in tasks:
        kfp.arms = _arms(graph, kfp, needed.get(kfp.task_id, {}), kfp.task_id in wider, decisions, rank, found)
    edges = _possible(tasks, edges, decisions)
    exit_task = _exit_handler(tasks, edges, graph)
    _trigger_rules(graph, tasks, edges, needed, exit_task, found)
    if exit_task is not None:
        next(t for t in tasks if t.task_id == exit_task).exit_handler = True
        edges = [(u, v) for u, v in edges if v != exit_task]
    approximated = set(_nest(tasks))
    subpipelines = _subpipelines(tasks, edges)
    for _ in tasks:  # a sub-pipeline must run as one unit: no task outside it between two of its tasks
        late = _late_members(tasks, edges, subpipelines)
        if not late:
            break
        for kfp in tasks:
            if kfp.task_id in late:
                kfp.arms = tuple(a for a in kfp.arms if a not in late[kfp.task_id])
        approximated |= set(late) | set(_nest(tasks))
        subpipelines = _subpipelines(tasks, edges)
    for kfp in tasks:
        if kfp.task_id in approximated and not any(f.code == codes.CONDITION_APPROXIMATED for f in kfp.findings):
            found.append(_finding(graph, kfp, codes.CONDITION_APPROXIMATED,
                                  "its conditions come from deciders on separate branch arms, which KFP blocks "
                                  "cannot nest; it runs whenever the others hold"))
    _cross_reads(graph, tasks, found)
    return edges, subpipelines, found
