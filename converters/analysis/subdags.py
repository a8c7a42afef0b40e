"""SubDAGs flattened into task groups: ``SubDagOperator(subdag=factory(...))`` becomes the sub-DAG's tasks.

Airflow 2 runs a SubDagOperator as a nested DAG run; KFP has no such thing, and Airflow 3
removed the operator in favour of TaskGroups. So the analyzer does what a TaskGroup would:
the operator's task is replaced in its parent DAG by the sub-DAG's tasks, ids prefixed
``<operator task_id>.`` and grouped under that id; the operator's upstream tasks lead to the
sub-DAG's roots and the sub-DAG's leaves to the operator's downstream tasks. Each task keeps
the ``default_args`` it got from its own (sub-)DAG, as in Airflow. A consumed sub-DAG is no
pipeline of its own, although Airflow 2's DagBag lists it as ``parent.child`` (``is_subdag``):
:mod:`af2kfp.bridge.airflow_truth` flattens it the same way, so ``af2kfp verify`` compares like with like.

Two steps: :class:`SubDagTasks` remembers, while the file is interpreted, the DAG each
SubDagOperator runs (or says why it cannot, A118); :func:`flatten_subdags` rewrites the DAGs
once the interpretation is over, when every task and dependency is known (A117).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import libcst as cst

from af2kfp.converters.analysis import codes
from af2kfp.converters.analysis.model import DagObj, GroupObj, TaskObj
from af2kfp.converters.findings import CODES, Finding
from af2kfp.converters.graph import Mapped
from af2kfp.converters.values import Call, Symbolic, TaskRef

__all__ = ["SUBDAG_OPERATORS", "SubDagTasks", "flatten_subdags"]

# Canonical names (``airflow.operators.subdag_operator`` of 1.10 is mapped onto the first by ``names``).
SUBDAG_OPERATORS = frozenset({"airflow.operators.subdag.SubDagOperator", "airflow.operators.SubDagOperator"})
_MAX_DEPTH = 20


class SubDagTasks:
    """Mixin of :class:`~af2kfp.converters.analysis.semantics.AirflowSemantics`: a SubDagOperator's sub-DAG."""

    def create_task(
        self,
        operator: str,
        imported_as: str,
        args: list[Any],
        kwargs: dict[str, Any],
        node: cst.Call,
        star_unknown: bool = False,
        mapped: Mapped | None = None,
        mapped_raw: Any = None,
    ) -> Any:
        task = super().create_task(  # type: ignore[misc]  # TaskBuilder, next in the MRO
            operator, imported_as, args, kwargs, node, star_unknown, mapped, mapped_raw
        )
        if operator in SUBDAG_OPERATORS and isinstance(task, TaskObj):
            self.note_subdag(task, args, kwargs, node)
        return task

    def note_subdag(self, task: TaskObj, args: list[Any], kwargs: dict[str, Any], node: cst.Call) -> None:
        """Keep the sub-DAG on the task, or report (A118) why the operator stays one task."""
        value = kwargs.get("subdag", next((a for a in args if isinstance(a, DagObj)), None))
        if isinstance(value, DagObj) and task.mapped is None:
            task.subdag = value
            return
        expr = next(
            (self.source.code(a.value) for a in node.args if a.keyword is not None and a.keyword.value == "subdag"),
            None,
        )
        if task.mapped is not None:
            why = "a mapped SubDagOperator (`.expand`) cannot be flattened"
        elif expr is None:
            why = "it has no `subdag` argument the analyzer can see"
        elif isinstance(value, Symbolic) or value is None:
            why = (
                f"`subdag={expr}` is not a DAG the analyzer can build: it comes from code outside the scanned "
                "files or from values known only at run time"
            )
        else:
            why = f"`subdag={expr}` is not a DAG"
        self.finding(
            codes.SUBDAG_UNRESOLVED,
            f"SubDagOperator '{task.task_id}' at {task.file}:{task.line} is kept as one task: {why}",
            None,
            node,
            task_id=task.task_id,
            dag=task.dag,
        )


@dataclass
class _State:
    """DAGs already flattened, those being flattened (to catch a DAG nesting itself), sub-DAGs consumed."""

    done: set[int] = field(default_factory=set)
    active: set[int] = field(default_factory=set)
    consumed: list[DagObj] = field(default_factory=list)


def flatten_subdags(dags: list[DagObj]) -> list[DagObj]:
    """Flatten every SubDagOperator of ``dags`` in place (nested ones first); return the consumed sub-DAGs."""
    state = _State()
    for dag in dags:
        _flatten(dag, state, 0)
    return state.consumed


def _flatten(dag: DagObj, state: _State, depth: int) -> None:
    if id(dag) in state.done:
        return
    state.done.add(id(dag))
    state.active.add(id(dag))
    for op in [t for t in dag.tasks.values() if t.subdag is not None]:
        sub = op.subdag
        assert sub is not None
        if depth < _MAX_DEPTH and id(sub) not in state.active:
            _flatten(sub, state, depth + 1)
        problem = _problem(dag, op, sub, state, depth)
        if problem is not None:
            dag.findings.append(
                _finding(
                    codes.SUBDAG_UNRESOLVED,
                    op,
                    dag,
                    f"SubDagOperator '{op.task_id}' at {op.file}:{op.line} is kept as one task: {problem}",
                )
            )
            continue
        count = _replace(dag, op, sub)
        if all(s is not sub for s in state.consumed):
            state.consumed.append(sub)
        clashes = _merge_params(dag, sub)
        dag.findings.append(
            _finding(codes.SUBDAG_FLATTENED, op, dag, _flattened_message(op, sub, count, clashes, dag.dag_id))
        )
    state.active.discard(id(dag))


def _flattened_message(op: TaskObj, sub: DagObj, count: int, clashes: list[str], dag_id: str) -> str:
    """The A117 text: what was flattened, and what did not carry over."""
    notes = []
    own = sorted(k for k in op.args if k != "subdag" and k not in op.from_default_args)
    if own:
        notes.append(f"the operator's own arguments ({', '.join(own)}) do not apply to them")
    expected = f"{dag_id}.{_given_id(op)}"
    if sub.dag_id != expected:
        notes.append(f"Airflow 2 refuses this SubDagOperator: its sub-DAG's dag_id must be '{expected}'")
    if clashes:
        notes.append(f"the sub-DAG's params {', '.join(clashes)} differ from the parent's, whose values are kept")
    return (
        f"SubDAG '{sub.dag_id}' (built at {sub.file}:{sub.line}) of SubDagOperator '{op.task_id}' flattened "
        f"into task group '{op.task_id}': {count} task(s) with the sub-DAG's default_args"
        + "".join(f"; {note}" for note in notes)
    )


def _merge_params(dag: DagObj, sub: DagObj) -> list[str]:
    """Add the sub-DAG's params to the parent's (its tasks' templates read them); return the clashing names."""
    theirs, ours = sub.kwargs.get("params"), dag.kwargs.get("params", {})
    if not isinstance(theirs, dict) or not theirs or not isinstance(ours, dict):
        return []
    dag.kwargs["params"] = {**theirs, **ours}  # a new dict: the given one may be a module constant shared elsewhere
    return sorted(str(k) for k, v in theirs.items() if k in ours and ours[k] != v)


def _problem(dag: DagObj, op: TaskObj, sub: DagObj, state: _State, depth: int) -> str | None:
    """Why ``op`` cannot be replaced by ``sub``'s tasks, or ``None``."""
    if sub is dag or id(sub) in state.active:
        return f"the sub-DAG '{sub.dag_id}' contains this operator itself"
    if depth >= _MAX_DEPTH:
        return f"SubDAGs nest deeper than {_MAX_DEPTH} levels"
    if not sub.tasks:
        return f"the sub-DAG '{sub.dag_id}' has no tasks"
    taken = sorted(f"{op.task_id}.{t}" for t in sub.tasks if f"{op.task_id}.{t}" in dag.tasks)
    if taken:
        return f"the flattened task id '{taken[0]}' is already used in DAG '{dag.dag_id}'"
    return None


def _replace(dag: DagObj, op: TaskObj, sub: DagObj) -> int:
    """Put copies of ``sub``'s tasks where ``op`` was: ids, groups, inner and outer edges, XCom references."""
    prefix = f"{op.task_id}."
    renamed = {t.task_id: prefix + t.task_id for t in sub.tasks.values()}
    groups = _Groups(dag, op, sub)
    copies: dict[int, TaskObj] = {}
    for task in sub.tasks.values():
        copies[id(task)] = replace(
            task,
            task_id=renamed[task.task_id],
            dag=dag,
            group=groups.clone(task.group),
            args=_retarget(task.args, renamed),
            call_args=_retarget(task.call_args, renamed),
            call_kwargs=_retarget(task.call_kwargs, renamed),
            mapped=_retarget_mapped(task.mapped, renamed),
            upstream=[],
            downstream=[],
            data_upstream=set(),
        )
    for task in sub.tasks.values():
        for down in task.downstream:
            if id(down) in copies:
                _link(copies[id(task)], copies[id(down)], data=id(task) in down.data_upstream)
    roots = [copies[id(t)] for t in sub.tasks.values() if not any(id(u) in copies for u in t.upstream)]
    leaves = [copies[id(t)] for t in sub.tasks.values() if not any(id(d) in copies for d in t.downstream)]
    for up in op.upstream:
        up.downstream = [d for d in up.downstream if d is not op]
        for root in roots:
            _link(up, root, data=False)
    for down in op.downstream:
        down.upstream = [u for u in down.upstream if u is not op]
        down.data_upstream.discard(id(op))
        for leaf in leaves:
            _link(leaf, down, data=False)
    entries = list(dag.tasks.items())
    dag.tasks.clear()
    for task_id, task in entries:
        if task is op:
            dag.tasks.update((c.task_id, c) for c in copies.values())
        else:
            dag.tasks[task_id] = task
    if op.group is not None:
        at = next(i for i, t in enumerate(op.group.tasks) if t is op)
        op.group.tasks[at : at + 1] = list(copies.values())
    dag.findings.extend(
        replace(f, dag_id=dag.dag_id, task_id=prefix + f.task_id if f.task_id else None) for f in sub.findings
    )
    op.dag, op.upstream, op.downstream = None, [], []
    return len(copies)


def _given_id(op: TaskObj) -> str:
    """The task id as written in the call, before its TaskGroup prefix (what Airflow 2 checks the sub-DAG id by)."""
    lead = op.group.child_id("") if op.group is not None else ""
    return op.task_id[len(lead) :] if lead and op.task_id.startswith(lead) else op.task_id


class _Groups:
    """The sub-DAG's groups re-rooted under a group named after the operator's task id."""

    def __init__(self, dag: DagObj, op: TaskObj, sub: DagObj) -> None:
        outer = op.group if op.group is not None else dag.root
        self.section = GroupObj(raw_id=_given_id(op), dag=dag, parent=outer, default_args=dict(sub.default_args))
        self.sub = sub
        self.clones: dict[int, GroupObj] = {}

    def clone(self, group: GroupObj | None) -> GroupObj:
        if group is None or group is self.sub.root or group.raw_id is None:
            return self.section
        found = self.clones.get(id(group))
        if found is None:
            found = self.clones[id(group)] = GroupObj(
                raw_id=group.raw_id,
                dag=self.section.dag,
                parent=self.clone(group.parent),
                prefix_group_id=group.prefix_group_id,
                default_args=dict(group.default_args),
            )
        return found


def _link(up: TaskObj, down: TaskObj, data: bool) -> None:
    if all(d is not down for d in up.downstream):
        up.downstream.append(down)
        down.upstream.append(up)
    if data:
        down.data_upstream.add(id(up))


def _retarget(value: Any, renamed: dict[str, str]) -> Any:
    """``value`` with XCom references to the sub-DAG's tasks renamed to their flattened ids."""
    if isinstance(value, TaskRef):
        return replace(value, task_id=renamed.get(value.task_id, value.task_id))
    if isinstance(value, Call):
        return replace(
            value,
            args=tuple(_retarget(a, renamed) for a in value.args),
            kwargs={k: _retarget(v, renamed) for k, v in value.kwargs.items()},
        )
    if isinstance(value, list):
        return [_retarget(v, renamed) for v in value]
    if isinstance(value, dict):
        return {k: _retarget(v, renamed) for k, v in value.items()}
    return value


def _retarget_mapped(mapped: Mapped | None, renamed: dict[str, str]) -> Mapped | None:
    if mapped is None:
        return None
    return Mapped(
        partial=_retarget(mapped.partial, renamed),
        expand=_retarget(mapped.expand, renamed),
        expand_kwargs=_retarget(mapped.expand_kwargs, renamed),
    )


def _finding(code: str, op: TaskObj, dag: DagObj, message: str) -> Finding:
    entry = CODES[code]
    return Finding(
        code=code,
        severity=entry.severity,
        message=message,
        suggestion=entry.help,
        file=op.file,
        line=op.line,
        dag_id=dag.dag_id,
        task_id=op.task_id,
    )
