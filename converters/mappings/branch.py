"""Branch and short-circuit tasks: a Python component whose output the conditions test.

The callable becomes a lightweight component as any Python task does (:mod:`.python`);
only what it returns is adapted so KFP can compare it:

* ``choice``: every ``return`` gives one task id (or nothing) -> the component returns a
  ``str`` (``""`` for nothing) and the chosen tasks sit under ``dsl.If``/``dsl.Elif``
  (``dsl.Else`` when every run returns one of them).
* ``set``: the callable may return a list, or a value not known statically -> the user's
  function runs inside the component, which writes one ``bool`` output per downstream task
  (``dsl.OutputPath(bool)``; a NamedTuple return annotation is not black-stable when long).
* ``short_circuit``: the component returns ``bool(result)``; downstream tasks sit under
  ``dsl.If(... == True)``.

Which tasks go under which condition is :mod:`.control`'s job, on the whole graph.
"""

from __future__ import annotations

import json
import re
from typing import Any

import libcst as cst

from af2kfp.converters.mappings import codes, python
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.example import Example, example_task
from af2kfp.converters.mappings.model import Decision, KfpTask
from af2kfp.converters.graph import PythonCallable

__all__ = ["RULES", "OPERATORS", "map_task", "EXAMPLES", "MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS",
           "BRANCH_RULES", "SHORT_CIRCUIT_RULES"]

_STD = "airflow.providers.standard.operators.python"
BRANCH_RULES = ("BranchPythonOperator", "task.branch", "task.branch_virtualenv")
SHORT_CIRCUIT_RULES = ("ShortCircuitOperator", "task.short_circuit")
RULES = BRANCH_RULES + SHORT_CIRCUIT_RULES
OPERATORS = {
    f"{_STD}.BranchPythonOperator": "BranchPythonOperator",
    "airflow.operators.python.BranchPythonOperator": "BranchPythonOperator",
    f"{_STD}.BranchExternalPythonOperator": "BranchPythonOperator",
    "airflow.operators.python.BranchExternalPythonOperator": "BranchPythonOperator",
    f"{_STD}.BranchPythonVirtualenvOperator": "task.branch_virtualenv",
    "airflow.operators.python.BranchPythonVirtualenvOperator": "task.branch_virtualenv",
    f"{_STD}.ShortCircuitOperator": "ShortCircuitOperator",
    "airflow.operators.python.ShortCircuitOperator": "ShortCircuitOperator",
    **{f"{prefix}.task.{name}": rule for prefix in ("airflow.sdk", "airflow.decorators") for name, rule in (
        ("branch", "task.branch"), ("branch_external_python", "task.branch"),
        ("branch_virtualenv", "task.branch_virtualenv"), ("short_circuit", "task.short_circuit"))},
}
# The Python rule that builds the component for each of these.
_PYTHON_RULE = {"BranchPythonOperator": "PythonOperator", "ShortCircuitOperator": "PythonOperator",
                "task.branch": "task", "task.short_circuit": "task", "task.branch_virtualenv": "task.virtualenv"}

MAPPED_ARGS = (*python.MAPPED_ARGS, "the returned task id(s) -> dsl.If/dsl.Elif/dsl.Else around the downstream tasks",
               "ignore_downstream_trigger_rules (short circuit) -> which downstream tasks the condition covers")
DROPPED_ARGS = python.DROPPED_ARGS
FLAGGED_ARGS = (*python.FLAGGED_ARGS, "a returned task id that is not directly downstream")

_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


class _Returns(cst.CSTVisitor):
    """The ``return`` statements of one function body, nested functions excluded."""

    def __init__(self) -> None:
        self.values: list[cst.BaseExpression | None] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        self.values.append(node.value)


class _Rewrite(cst.CSTTransformer):
    """Adapt each top-level ``return`` of the function body (``choice``: None -> ``""``; else ``bool(...)``)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        return updated

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        value = updated.value
        if self.mode == "choice":
            if value is None or isinstance(value, cst.Name) and value.value == "None":
                return updated.with_changes(value=cst.SimpleString('""'))
            return updated
        if value is None:
            return updated.with_changes(value=cst.Name("False"))
        return updated.with_changes(value=cst.Call(cst.Name("bool"), [cst.Arg(value)]))


def _function(code: str) -> cst.FunctionDef:
    return next(n for n in cst.parse_module(code).body if isinstance(n, cst.FunctionDef))


def _literal(node: cst.BaseExpression | None) -> Any:
    """The returned value when it is a string literal or ``None``; ``...`` otherwise."""
    if node is None or isinstance(node, cst.Name) and node.value == "None":
        return None
    if isinstance(node, cst.SimpleString) and not node.prefix.lower().strip("r"):
        return node.evaluated_value
    return ...


def _always_returns(body: list[cst.BaseStatement]) -> bool:
    """True when no run falls off the end of ``body`` (last statement returns or raises on every path)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    if isinstance(last, cst.If):
        other = last.orelse
        if other is None or not _always_returns(list(last.body.body)):
            return False
        return _always_returns([other] if isinstance(other, cst.If) else list(other.body.body))
    return False


def _identifier(task_id: str, taken: set[str]) -> str:
    name = re.sub(r"\W", "_", task_id).strip("_") or "task"
    name = f"follow_{name}"
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _body(fn: cst.FunctionDef) -> list[cst.BaseStatement]:
    return list(fn.body.body) if isinstance(fn.body, cst.IndentedBlock) else [
        cst.SimpleStatementLine(body=list(fn.body.body))]


def _choice_or_short(fn: cst.FunctionDef, mode: str, fallback: str) -> str:
    rewritten = cst.ensure_type(fn.visit(_Rewrite(mode)), cst.FunctionDef)
    body = _body(rewritten)
    if not _always_returns(body):
        body.append(cst.parse_statement(f"return {fallback}"))
    return cst.Module(body=[rewritten.with_changes(body=cst.IndentedBlock(body=body))]).code


def _set_wrapper(fn: cst.FunctionDef, params: list[str], outputs: dict[str, str]) -> str:
    """The user's function kept whole inside; the component reports each target as a bool."""
    inner = fn.with_changes(name=cst.Name("choose"), returns=None, params=cst.parse_expression(
        f"lambda {', '.join(params)}: 0").params)
    call = ", ".join(f"{p}={p}" for p in params)
    follow = "".join(f"    {name}: {json.dumps(_selectors(task_id))},\n" for task_id, name in outputs.items())
    tail = [
        cst.parse_statement(f"chosen = choose({call})").with_changes(leading_lines=[cst.EmptyLine(indent=False)]),
        cst.parse_statement("chosen = [chosen] if isinstance(chosen, str) else list(chosen or [])"),
        cst.parse_statement(f"follow = {{  # output -> the task id and the TaskGroup ids that follow it\n{follow}}}"),
        cst.parse_statement('for path, names in follow.items():\n    with open(path, "w") as output:\n'
                            '        output.write("true" if any(n in chosen for n in names) else "false")\n'),
    ]
    wrapper = fn.with_changes(body=cst.IndentedBlock(body=[inner, *tail]))
    return cst.Module(body=[wrapper]).code


def _selectors(task_id: str) -> list[str]:
    """What a branch may return to follow ``task_id``: the id, or a TaskGroup id around it."""
    parts = task_id.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))] + [task_id]


def _selects(downstream: list[str], returned: list[str]) -> dict[str, str] | None:
    """Downstream task -> the value that follows it (itself, or a returned TaskGroup id around it);
    ``None`` when two returned values would follow the same task (only a set of flags says that)."""
    out = {}
    for task_id in downstream:
        chosen_by = [v for v in returned if v in _selectors(task_id)]
        if len(chosen_by) > 1:
            return None
        out[task_id] = chosen_by[0] if chosen_by else task_id
    return out


def map_task(ctx: MapContext, rule: str) -> KfpTask:
    """The Python component of the decision, its returns adapted, and what it decides."""
    short = rule in SHORT_CIRCUIT_RULES
    skip_all = bool(ctx.arg("ignore_downstream_trigger_rules", True)) if short else True
    kfp = python.map_task(ctx, _PYTHON_RULE[rule], decides=True)
    kfp.rule = rule
    if kfp.python is None:  # no usable source: a placeholder, nothing to decide on
        return kfp
    fn = _function(kfp.python.code)
    names = [p for p, _, _ in kfp.python.params]
    if short:
        kfp.python.code = _choice_or_short(fn, "short_circuit", "False")
        kfp.python.returns = "bool"
        kfp.decision = Decision(mode="short_circuit", skip_all_downstream=skip_all)
        return kfp
    finder = _Returns()
    fn.body.visit(finder)
    returned = [_literal(v) for v in finder.values]
    known = list(dict.fromkeys(v for v in returned if isinstance(v, str)))
    downstream = list(ctx.downstream) or known
    selects = _selects(downstream, known)
    for value in known:
        if not any(value in _selectors(t) for t in downstream):
            ctx.add(codes.BRANCH_TARGET_UNKNOWN, f"returns {value!r}, which is neither directly downstream "
                                                 "nor a TaskGroup holding a task that is")
            kfp.findings.append(ctx.findings[-1])
    choice = bool(returned) and selects is not None and all(
        v is None or v in selects.values() for v in returned)
    if choice and selects is not None:
        exhaustive = None not in returned and _always_returns(_body(fn))  # every run picks a target
        kfp.python.code = _choice_or_short(fn, "choice", '""')
        kfp.python.returns = "str"
        kfp.decision = Decision(mode="choice", targets=list(dict.fromkeys(selects.values())), exhaustive=exhaustive,
                                selects={t: v for t, v in selects.items() if t != v})
    else:
        taken: set[str] = set()
        outputs = {t: _identifier(t, taken) for t in downstream}
        kfp.python.code = _set_wrapper(fn, names, outputs)
        kfp.python.returns = None  # one dsl.OutputPath(bool) parameter per target instead
        paths = [(name, "dsl.OutputPath(bool)", None) for name in outputs.values()]
        kfp.python.params = sorted(kfp.python.params + paths, key=lambda p: p[2] is not None)  # defaults last
        kfp.decision = Decision(mode="set", targets=downstream, outputs=outputs)
    return kfp


_CHOOSE = PythonCallable(
    name="choose",
    source='def choose(score: float):\n    if score > 0.9:\n        return "promote"\n    return "keep"\n',
    file="example.py",
    line=3,
)
_PICK_MANY = PythonCallable(
    name="pick",
    source="def pick(regions: list):\n    return [f\"load_{r}\" for r in regions]\n",
    file="example.py",
    line=3,
)
_HAS_ROWS = PythonCallable(name="has_rows", source="def has_rows(n: int):\n    return n\n", file="example.py", line=3)

EXAMPLES = [
    Example(
        title="BranchPythonOperator returning one task id: a str output the dsl.If/dsl.Elif/dsl.Else arms compare",
        airflow='BranchPythonOperator(task_id="choose", python_callable=choose, op_kwargs={"score": 0.93})',
        task=example_task(f"{_STD}.BranchPythonOperator", "choose", python=_CHOOSE, python_callable="choose",
                          op_kwargs={"score": 0.93}),
        fields={"decision": Decision(mode="choice", targets=["promote", "keep"], exhaustive=True)},
        kfp=("(score: float) -> str:", '        return "promote"'),
    ),
    Example(
        title="@task.branch returning a computed list: one bool output per downstream task, a dsl.If each "
              "(in a sub-pipeline of its own, so a task of one arm can wait for another arm)",
        airflow="@task.branch\ndef pick(regions: list): return [f\"load_{r}\" for r in regions]",
        task=example_task("airflow.sdk.task.branch", "pick", python=_PICK_MANY, call_kwargs={"regions": ["eu"]}),
        downstream=("load_eu", "load_us"),
        fields={"decision": Decision(mode="set", targets=["load_eu", "load_us"],
                                     outputs={"load_eu": "follow_load_eu", "load_us": "follow_load_us"})},
        kfp=("    chosen = choose(regions=regions)", "    follow_load_eu: dsl.OutputPath(bool),",
             "with dsl.If(follow_load_eu == True):",
             'pick_follow_load_eu(follow_load_eu=pick_task.outputs["follow_load_eu"])'),
    ),
    Example(
        title="ShortCircuitOperator: the component returns bool(result); downstream tasks run under dsl.If(... == True)",
        airflow='ShortCircuitOperator(task_id="has_rows", python_callable=has_rows, op_args=[0])',
        task=example_task(f"{_STD}.ShortCircuitOperator", "has_rows", python=_HAS_ROWS, python_callable="has_rows",
                          op_args=[0]),
        fields={"decision": Decision(mode="short_circuit")},
        kfp=("(n: int) -> bool:", "    return bool(n)"),
    ),
]
