"""``get_current_context()`` inside a callable: replaced by the context dict the shim builds.

Airflow's ``get_current_context()`` (``airflow.sdk``, ``airflow.operators.python``,
``airflow.providers.standard.operators.python``, ``airflow.decorators``...) returns the
running task's context. In the component the context is a dict built at the top of the
body (:mod:`af2kfp.converters.mappings.context_shim`): ``context = get_current_context()`` goes
away and the dict takes that name; any other call becomes that name; the function's own
``from airflow... import get_current_context`` goes too (the module's is then no longer read,
so it is not moved inside).
"""

from __future__ import annotations


import libcst as cst
import libcst.helpers

from af2kfp.converters.mappings.airflow_imports import imported_as

__all__ = ["current_context_names", "replace_current_context"]

_NAME = "get_current_context"


def current_context_names(imports: list[str], source: str) -> frozenset[str]:
    """The names ``get_current_context`` is imported as from Airflow, at module level or in the function."""
    return imported_as(imports, source, _NAME, lambda module: module.split(".")[0] == "airflow")


def _is_call(node: cst.BaseExpression, names: frozenset[str]) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in names and not node.args


def _assigned(statement: cst.CSTNode, names: frozenset[str]) -> str | None:
    """``x = get_current_context()``: the name bound."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Name):
        return assign.targets[0].target.value if _is_call(assign.value, names) else None
    return None


class _Replace(cst.CSTTransformer):
    def __init__(self, names: frozenset[str], holder: str) -> None:
        self.names, self.holder = names, holder

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        return cst.Name(self.holder) if _is_call(original_node, self.names) else updated_node

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
                                  ) -> cst.BaseStatement | cst.RemovalSentinel:
        if _assigned(original_node, self.names) == self.holder:
            return cst.RemoveFromParent()
        body = []
        for item in updated_node.body:
            module = cst.helpers.get_full_name_for_node(item.module) if isinstance(item, cst.ImportFrom) and (
                item.module is not None) else None
            if module and module.split(".")[0] == "airflow" and not isinstance(item.names, cst.ImportStar):
                kept = [a for a in item.names if not (isinstance(a.name, cst.Name) and a.name.value == _NAME)]
                if not kept:
                    continue
                if len(kept) != len(item.names):
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    item = item.with_changes(names=kept)
            body.append(item)
        return updated_node.with_changes(body=body) if body else cst.RemoveFromParent()

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if updated_node.body:
            return updated_node
        return updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def replace_current_context(module: cst.Module, names: frozenset[str], taken: set[str]) -> tuple[cst.Module, str | None]:
    """``module`` (one function) with ``get_current_context()`` replaced by a dict name, and that name.

    The name is the one the body's first ``x = get_current_context()`` binds, else ``context``
    (made unique against ``taken``). ``None`` when nothing was replaced.
    """
    fn = next((node for node in module.body if isinstance(node, cst.FunctionDef)), None)
    if fn is None or not names:
        return module, None
    body = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()
    holder = next((name for statement in body if (name := _assigned(statement, names)) is not None), None)
    if holder is None:
        holder, n = "context", 1
        while holder in taken:
            n += 1
            holder = f"context_{n}"
    replaced = module.visit(_Replace(names, holder))
    return (module, None) if replaced.code == module.code else (replaced, holder)
