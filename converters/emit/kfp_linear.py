"""kfp's pipeline building made linear in tasks, with the same output.

kfp 2.x builds a pipeline spec in time quadratic in the tasks of one group: for every
task, ``build_spec_by_group`` sanitizes the names of all tasks of the group again (a list
it only tests membership in), and every new task or executor name is made unique by
copying all names taken so far into a list and searching it (``list(x.keys())``). A
2,000-task DAG spent 105 of its 120 s there; 5,000 tasks took minutes.

This rewrites those functions' own source (the syntax tree kfp ships, not a copy kept
here) in the compile process: the group's task names are computed once, before the loop,
into a list that answers ``in`` from a set, and uniqueness is tested against the
mapping itself. Nothing else changes, so the spec is the same bytes (a test compiles
every sample and example with stock kfp in another process and compares). When kfp's
source is not the shape expected (another kfp version), nothing is patched: correct, only
slower.
"""

from __future__ import annotations

import ast
import inspect
import logging
import textwrap
from typing import Any, Callable

__all__ = ["install", "installed"]

log = logging.getLogger(__name__)
_INSTALLED: bool | None = None  # None: not tried yet


class _Names(list):
    """A list of names whose ``in`` is a set lookup (built once; kfp only reads it)."""

    def __init__(self, names: Any) -> None:
        super().__init__(names)
        self._set = frozenset(self)

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._set
        except TypeError:  # unhashable: never a name
            return False


def _is_keys_list(node: ast.AST) -> ast.expr | None:
    """``X`` when ``node`` is ``list(X.keys())``."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list"
            and len(node.args) == 1 and not node.keywords):
        inner = node.args[0]
        if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "keys"
                and not inner.args and not inner.keywords):
            return inner.func.value
    return None


class _UniqueAgainstMapping(ast.NodeTransformer):
    """``make_name_unique_by_adding_index(name, list(m.keys()), d)`` -> ``(name, m, d)``: ``in`` on the mapping.

    With ``owner`` (``add_task``, whose ``self.tasks`` only grows), the call becomes
    ``_af2kfp_unique_task_name(self, name, d)``, which also remembers where the search for
    each name stopped: a component used by k tasks no longer tries 2..k for the k-th.
    """

    def __init__(self, owner: str | None = None) -> None:
        self.count = 0
        self.owner = owner

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name != "make_name_unique_by_adding_index":
            return node
        for keyword in node.keywords:
            mapping = _is_keys_list(keyword.value) if keyword.arg == "collection" else None
            if mapping is not None:
                keyword.value, self.count = mapping, self.count + 1
        if len(node.args) >= 2 and (mapping := _is_keys_list(node.args[1])) is not None:
            node.args[1], self.count = mapping, self.count + 1
            if self.owner is not None and len(node.args) == 3 and not node.keywords:
                node = ast.Call(func=ast.Name(id="_af2kfp_unique_task_name", ctx=ast.Load()),
                                args=[ast.Name(id=self.owner, ctx=ast.Load()), node.args[0], node.args[2]],
                                keywords=[])
        return node


def _unique_task_name(pipeline: Any, name: str, delimiter: str) -> str:
    """kfp's ``make_name_unique_by_adding_index(name, list(pipeline.tasks), delimiter)``: the smallest
    free ``name<delimiter><i>``, i >= 2. ``pipeline.tasks`` only grows, so every index below the
    one found last time for ``name`` is still taken: the search starts there."""
    taken = pipeline.tasks
    if name not in taken:
        return name
    memo = pipeline.__dict__.setdefault("_af2kfp_next_index", {})
    index = memo.get((name, delimiter), 2)
    while name + delimiter + str(index) in taken:
        index += 1
    memo[(name, delimiter)] = index
    return name + delimiter + str(index)


class _HoistGroupNames(ast.NodeTransformer):
    """Move ``tasks_in_current_dag = [... for subgroup in subgroups]`` out of ``for subgroup in subgroups:``."""

    def __init__(self) -> None:
        self.count = 0

    def visit_For(self, node: ast.For) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        if not (isinstance(node.iter, ast.Name) and node.iter.id == "subgroups"):
            return node
        for index, statement in enumerate(node.body):
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)
                    and statement.targets[0].id == "tasks_in_current_dag"
                    and isinstance(statement.value, ast.ListComp)
                    and isinstance(statement.value.generators[0].iter, ast.Name)
                    and statement.value.generators[0].iter.id == "subgroups"):
                del node.body[index]
                statement.value = ast.Call(func=ast.Name(id="_af2kfp_Names", ctx=ast.Load()),
                                           args=[statement.value], keywords=[])
                self.count += 1
                return [statement, node]
        return node


def _rewrite(function: Callable[..., Any], transformers: list[ast.NodeTransformer],
             extra: dict[str, Any]) -> Callable[..., Any] | None:
    """``function`` recompiled from its own source after ``transformers`` (each must apply), or ``None``."""
    code = function.__code__
    if code.co_freevars:  # a closure (super(), nested) cannot be recompiled alone
        return None
    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source)
    for transformer in transformers:
        tree = transformer.visit(tree)
        if not getattr(transformer, "count", 0):
            return None
    ast.fix_missing_locations(tree)
    ast.increment_lineno(tree, code.co_firstlineno - 1)  # tracebacks keep kfp's line numbers
    namespace = function.__globals__
    namespace.update(extra)
    local: dict[str, Any] = {}
    exec(compile(tree, code.co_filename, "exec", dont_inherit=True), namespace, local)
    rewritten = local[function.__name__]
    rewritten.__defaults__, rewritten.__kwdefaults__ = function.__defaults__, function.__kwdefaults__
    rewritten.__qualname__, rewritten.__doc__ = function.__qualname__, function.__doc__
    rewritten.__af2kfp_original__ = function
    return rewritten


def install() -> bool:
    """Patch kfp's builder once in this process; whether it is patched (kfp not of the expected shape: not)."""
    global _INSTALLED
    if _INSTALLED is not None:
        return _INSTALLED
    from kfp.compiler import pipeline_spec_builder as builder
    from kfp.dsl import pipeline_context

    try:
        build = _rewrite(builder.build_spec_by_group, [_HoistGroupNames(), _UniqueAgainstMapping()],
                         {"_af2kfp_Names": _Names})
        add_task = _rewrite(pipeline_context.Pipeline.add_task, [_UniqueAgainstMapping(owner="self")],
                            {"_af2kfp_unique_task_name": _unique_task_name})
    except (OSError, SyntaxError, TypeError) as exc:  # no source shipped, or not Python we can read
        log.debug("kfp builder not patched: %s", exc)
        build = add_task = None
    _INSTALLED = build is not None and add_task is not None
    if _INSTALLED:
        builder.build_spec_by_group = build
        pipeline_context.Pipeline.add_task = add_task
    else:
        log.debug("kfp's builder is not of the expected shape; building at kfp's own speed")
    return _INSTALLED


def installed() -> bool:
    """Whether :func:`install` patched kfp in this process."""
    return bool(_INSTALLED)
