"""Check that an emitted module can be imported without running anything of the user's.

Importing the module runs: imports, decorators and their arguments, each ``def``'s
defaults and annotations, and (when kfp compiles) the bodies of container components
and of the pipeline function. All of these must be generated literals and calls of
names the module itself defines. Bodies of ``@dsl.component`` functions (the user's
code) run only inside the task's container, so they are not inspected.
"""

from __future__ import annotations

import ast

from af2kfp.converters.mappings.pyfunc import KFP_TYPES
from af2kfp.converters.runtime import FILES

__all__ = ["check_module", "check_tree"]

_IMPORTS = {("pathlib", "Path"), ("typing", "NamedTuple"), ("kfp", "compiler"), ("kfp", "dsl"), ("kfp", "kubernetes")}
# The control-flow blocks a pipeline body may open (``with dsl.If(...):``...).
_BLOCKS = {"If", "Elif", "Else", "ParallelFor", "ExitHandler"}
_DECORATORS = {"component", "container_component", "pipeline"}
_RUN_NODES = (
    ast.Return, ast.Assign, ast.Expr, ast.Call, ast.Attribute, ast.Name, ast.Constant, ast.List, ast.Dict,
    ast.Tuple, ast.keyword, ast.Load, ast.Store, ast.UnaryOp, ast.USub, ast.Pass,
    ast.JoinedStr, ast.FormattedValue,  # f-strings of pipeline parameters (templates, docs/templating.md)
    ast.With, ast.withitem, ast.Compare, ast.Eq, ast.Subscript,  # dsl.If(task.output == "x"), loops
)


def _literal(node: ast.expr | None) -> bool:
    if node is None:
        return True
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _decorator(node: ast.expr) -> str | None:
    target, args = (node.func, node.args + [k.value for k in node.keywords]) if isinstance(node, ast.Call) else (node, [])
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "dsl"):
        return None
    if target.attr not in _DECORATORS or not all(_literal(a) for a in args):
        return None
    return target.attr


def _generated_annotation(node: ast.expr | None) -> bool:
    """``str``/``int``/..., ``dsl.OutputPath(str)`` or ``dsl.PipelineTaskFinalStatus``."""
    if isinstance(node, ast.Name):
        return node.id in KFP_TYPES
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "dsl" and node.attr == "PipelineTaskFinalStatus"
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "dsl"
        and node.func.attr == "OutputPath"
        and len(node.args) == 1
        and not node.keywords
        and _generated_annotation(node.args[0])
    )


def _named_tuple(node: ast.expr) -> bool:
    """``NamedTuple("Outputs", [("name", str), ...])`` with KFP types only."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "NamedTuple"
            and len(node.args) == 2 and not node.keywords and isinstance(node.args[1], ast.List)):
        return False
    return _literal(node.args[0]) and all(
        isinstance(f, ast.Tuple) and len(f.elts) == 2 and _literal(f.elts[0]) and _generated_annotation(f.elts[1])
        for f in node.args[1].elts)


def _block(node: ast.With) -> bool:
    """``with dsl.If(...)``-style blocks only, each opened by one generated call."""
    return all(isinstance(i.context_expr, ast.Call) and isinstance(i.context_expr.func, ast.Attribute)
               and isinstance(i.context_expr.func.value, ast.Name) and i.context_expr.func.value.id == "dsl"
               and i.context_expr.func.attr in _BLOCKS for i in node.items)


def _signature_problems(fn: ast.FunctionDef) -> list[str]:
    problems = []
    a = fn.args
    for arg in a.posonlyargs + a.args + a.kwonlyargs:
        if not _generated_annotation(arg.annotation):
            problems.append(f"{fn.name}: parameter {arg.arg} has a non-generated annotation")
    if a.vararg or a.kwarg:
        problems.append(f"{fn.name}: *args/**kwargs")
    if not all(_literal(d) for d in a.defaults + a.kw_defaults):
        problems.append(f"{fn.name}: a default is not a literal")
    if fn.returns is not None and not (isinstance(fn.returns, ast.Name) and fn.returns.id in KFP_TYPES
                                       or _named_tuple(fn.returns)):
        problems.append(f"{fn.name}: return annotation is not generated")
    return problems


def _body_problems(fn: ast.FunctionDef, known: set[str]) -> list[str]:
    nodes = [node for stmt in fn.body for node in ast.walk(stmt)]  # walked once: a pipeline body is most of the module
    local = {t.id for node in nodes if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    local |= {i.optional_vars.id for node in nodes if isinstance(node, ast.With) for i in node.items
              if isinstance(i.optional_vars, ast.Name)}
    allowed = known | local | {a.arg for a in fn.args.args}  # once: every component's name is in `known`
    problems = []
    for node in nodes:
        if not isinstance(node, _RUN_NODES) or isinstance(node, ast.With) and not _block(node):
            problems.append(f"{fn.name}: {type(node).__name__} in a body run at compile time")
        elif isinstance(node, ast.Name) and node.id not in allowed:
            problems.append(f"{fn.name}: unknown name {node.id}")
    return problems


def _file_constant(node: ast.stmt) -> str | None:
    """The name ``NAME = Path(__file__).with_name("<a file af2kfp ships>").read_text(encoding="utf-8")``
    binds (the text of a file af2kfp writes beside the module), else ``None``."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return None
    for name in FILES:
        expected = ast.parse(f'Path(__file__).with_name({name!r}).read_text(encoding="utf-8")', mode="eval").body
        if ast.dump(node.value) == ast.dump(expected):
            return node.targets[0].id
    return None


def _is_main_guard(node: ast.stmt) -> bool:
    test = getattr(node, "test", None)
    return (
        isinstance(node, ast.If)
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
        and not node.orelse
    )


def check_module(code: str) -> list[str]:
    """Problems that would let importing ``code`` run something not generated; ``[]`` is safe."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"syntax error: {exc}"]
    return check_tree(tree)


def check_tree(tree: ast.Module) -> list[str]:
    """:func:`check_module` on an already parsed module (the compiler reuses the tree)."""
    problems: list[str] = []
    known = {"dsl", "kubernetes"} | {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    known |= {name for n in tree.body if (name := _file_constant(n)) is not None}
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if not all((node.module, alias.name) in _IMPORTS and alias.asname is None for alias in node.names):
                problems.append(f"line {node.lineno}: import not allowed")
            continue
        if _is_main_guard(node) or _file_constant(node) is not None:
            continue
        if not isinstance(node, ast.FunctionDef) or len(node.decorator_list) != 1:
            problems.append(f"line {node.lineno}: {type(node).__name__} at module level")
            continue
        kind = _decorator(node.decorator_list[0])
        if kind is None:
            problems.append(f"line {node.lineno}: decorator not generated")
            continue
        problems += _signature_problems(node)
        if kind != "component":
            problems += _body_problems(node, known)
    return problems
