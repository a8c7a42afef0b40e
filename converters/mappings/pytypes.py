"""How a value travels between components so it arrives exactly as Airflow hands it on.

Airflow passes XComs as JSON-serialised Python values: a consumer gets the producer's
value unchanged, whatever its type. KFP checks and converts values by the declared
type of each parameter: a ``str`` output must be a ``str`` (a ``dict`` fails the task),
``None`` is no value at all, and numbers inside a ``dict``/``list`` parameter (and in
``dsl.Collected`` lists) arrive as floats (``60`` -> ``60.0``). So each value gets a
*carrier*, the way it travels:

* ``str``, ``int``, ``float``, ``bool``: a native KFP parameter, used only where the
  value's type is certain (literals, or what :func:`return_kinds` proves);
* ``dict``, ``list``: a native KFP parameter for a literal with no integer inside;
* ``json`` (:data:`JSON`): a KFP ``str`` holding JSON text, encoded where the producer
  returns and decoded at the top of the consumer; any JSON value, exactly;
* ``json-items`` (:data:`JSON_ITEMS`): a KFP ``list`` of JSON texts, one per item: a
  list a ``dsl.ParallelFor`` iterates, and the ``dsl.Collected`` outputs of ``json`` tasks;
* ``int-items`` (:data:`INT_ITEMS`): the ``dsl.Collected`` outputs of ``int`` tasks
  (KFP makes them floats; the consumer turns them back).

:func:`return_kinds` infers what a function returns from its ``return`` statements,
literals and the types of its parameters, only where that is certain.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = [
    "SCALARS",
    "NONE",
    "JSON",
    "JSON_ITEMS",
    "INT_ITEMS",
    "kfp_type",
    "literal_carrier",
    "encode_literal",
    "collected",
    "decode_source",
    "needs_json",
    "return_kinds",
    "output_carrier",
    "dict_value_kinds",
    "ends",
]

SCALARS = ("str", "int", "float", "bool")
JSON = "json"
JSON_ITEMS = "json-items"
INT_ITEMS = "int-items"
_KFP = {JSON: "str", JSON_ITEMS: "list", INT_ITEMS: "list"}
# Kinds return_kinds reports besides the scalars: None, a known container, and unknown.
NONE, CONTAINER, UNKNOWN = "none", "container", "?"

_Def = ast.FunctionDef | ast.AsyncFunctionDef


def kfp_type(carrier: str) -> str:
    """The KFP parameter type a carrier travels as (other annotations pass through)."""
    return _KFP.get(carrier, carrier)


def _has_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, dict):
        return any(_has_int(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_int(v) for v in value)
    return False


def literal_carrier(value: Any) -> str | None:
    """The carrier of a literal argument; ``None`` for ``None`` (a parameter left to its default)."""
    if value is None:
        return None
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if isinstance(value, kind):
            return name
    if isinstance(value, dict) and all(isinstance(k, str) for k in value) and not _has_int(value):
        return "dict"
    if isinstance(value, list) and not _has_int(value):
        return "list"
    return JSON


def encode_literal(value: Any, carrier: str) -> Any:
    """The literal as its carrier passes it: JSON text for ``json``, unchanged otherwise."""
    return json.dumps(value) if carrier == JSON else value


def collected(carrier: str) -> str:
    """The carrier of a ``dsl.Collected`` list of outputs carried as ``carrier``."""
    if carrier == JSON:
        return JSON_ITEMS
    if carrier == "int":
        return INT_ITEMS
    return "list"


def needs_json(carriers: Iterable[str]) -> bool:
    """True when decoding or encoding one of ``carriers`` needs ``import json``."""
    return any(c in (JSON, JSON_ITEMS) for c in carriers)


def decode_source(name: str, carrier: str) -> str | None:
    """The statement that gives parameter ``name`` back its value at the top of the body."""
    if carrier == JSON:
        return f"{name} = json.loads({name})"
    if carrier == JSON_ITEMS:
        return f"{name} = [json.loads(item) for item in {name}]"
    if carrier == INT_ITEMS:
        return f"{name} = [int(item) for item in {name}]"
    return None


def output_carrier(kinds: frozenset[str], annotation: str | None) -> str:
    """The carrier of a function's return value from what it returns and its annotation.

    A kind proved by every ``return`` is used; otherwise a ``str``/``int``/``bool``
    annotation nothing contradicts (KFP checks it: a wrong one fails loudly, never changes
    the value); otherwise JSON. A ``float`` annotation alone is not enough: KFP would turn
    a returned ``1`` into ``1.0``.
    """
    if len(kinds) == 1 and next(iter(kinds)) in SCALARS:
        return next(iter(kinds))
    if annotation in ("str", "int", "bool") and kinds <= {annotation, UNKNOWN}:
        return annotation
    return JSON


# --- inference ---------------------------------------------------------------------------

_STR_METHODS = frozenset({
    "upper", "lower", "strip", "lstrip", "rstrip", "replace", "format", "format_map", "join", "title",
    "capitalize", "casefold", "zfill", "center", "ljust", "rjust", "swapcase", "expandtabs", "removeprefix",
    "removesuffix", "translate",
})
_STR_PREDICATES = frozenset({
    "startswith", "endswith", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "isnumeric",
    "isdecimal", "isidentifier", "istitle", "isascii", "isprintable",
})
_STR_COUNTS = frozenset({"find", "rfind", "index", "rindex", "count"})
# Methods that return text whatever date or time object they are called on.
_DATE_TEXT = frozenset({"strftime", "isoformat"})
_BUILTIN_RESULTS = {
    "str": "str", "repr": "str", "ascii": "str", "chr": "str", "hex": "str", "oct": "str", "bin": "str",
    "format": "str", "int": "int", "len": "int", "ord": "int", "hash": "int", "id": "int", "float": "float",
    "bool": "bool", "isinstance": "bool", "issubclass": "bool", "callable": "bool", "hasattr": "bool",
    "all": "bool", "any": "bool", "print": NONE,
}
_CONTAINERS = (ast.List, ast.Dict, ast.Tuple, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
_INT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr,
            ast.BitXor)
_FLOAT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_ALWAYS_BOOL = (ast.In, ast.NotIn, ast.Is, ast.IsNot)


@dataclass(frozen=True)
class _Names:
    """What names mean inside the function: local types, and names it must not trust as builtins."""

    types: dict[str, str | None]
    shadowed: frozenset[str]
    json_module: frozenset[str]


def _number(kind: str | None) -> str | None:
    """``bool`` counts as ``int`` in arithmetic (``True + 1 == 2``)."""
    return "int" if kind == "bool" else kind


def _int_constant(node: ast.expr) -> int | None:
    """``3`` or ``-3`` written as a literal."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _int_constant(node.operand)
        return None if value is None else -value
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _binop(node: ast.BinOp, names: _Names) -> str | None:
    left, right = _kind(node.left, names), _kind(node.right, names)
    op = node.op
    if left == right == "bool" and isinstance(op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
        return "bool"
    if left == "str":
        if isinstance(op, ast.Mod):
            return "str"  # printf-style formatting: a str whatever the right side is
        if isinstance(op, ast.Add) and right == "str" or isinstance(op, ast.Mult) and _number(right) == "int":
            return "str"
        return None
    if right == "str" and isinstance(op, ast.Mult) and _number(left) == "int":
        return "str"
    left, right = _number(left), _number(right)
    if left not in ("int", "float") or right not in ("int", "float"):
        return None
    if isinstance(op, ast.Pow):
        exponent = _int_constant(node.right)
        if exponent is None:
            return None
        return "int" if left == "int" and exponent >= 0 else "float"
    if isinstance(op, ast.Div):
        return "float"
    if left == right == "int" and isinstance(op, _INT_OPS):
        return "int"
    return "float" if isinstance(op, _FLOAT_OPS) else None


def _call(node: ast.Call, names: _Names) -> str | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id not in names.shadowed:
        if func.id in _BUILTIN_RESULTS:
            return _BUILTIN_RESULTS[func.id]
        if func.id == "abs" and len(node.args) == 1:
            kind = _number(_kind(node.args[0], names))
            return kind if kind in ("int", "float") else None
        if func.id == "round" and node.args:
            kind = _number(_kind(node.args[0], names))
            if kind not in ("int", "float"):
                return None
            return "int" if len(node.args) == 1 and not node.keywords or kind == "int" else "float"
        if func.id in ("min", "max") and len(node.args) > 1 and not node.keywords:
            kinds = {_kind(a, names) for a in node.args}
            return kinds.pop() if len(kinds) == 1 else None
        return None
    if not isinstance(func, ast.Attribute):
        return None
    if isinstance(func.value, ast.Name) and func.value.id in names.json_module and func.attr == "dumps":
        return "str"
    if func.attr in _DATE_TEXT:  # datetime, date, pendulum and pandas timestamps alike
        return "str"
    if _kind(func.value, names) != "str":
        return None
    if func.attr in _STR_METHODS:
        return "str"
    if func.attr in _STR_PREDICATES:
        return "bool"
    return "int" if func.attr in _STR_COUNTS else None


def _kind(node: ast.expr, names: _Names) -> str | None:
    """The type an expression certainly has (a scalar, ``none`` or ``container``); ``None``: not known."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None:
            return NONE
        for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
            if type(value) is kind:
                return name
        return None
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, _CONTAINERS):
        return CONTAINER
    if isinstance(node, ast.Name):
        return names.types.get(node.id)
    if isinstance(node, ast.BinOp):
        return _binop(node, names)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return "bool"
        kind = _number(_kind(node.operand, names))
        return kind if kind in ("int", "float") and not (isinstance(node.op, ast.Invert) and kind == "float") else None
    if isinstance(node, ast.BoolOp):
        kinds = {_kind(v, names) for v in node.values}
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(node, ast.Compare):
        if all(isinstance(op, _ALWAYS_BOOL) for op in node.ops):
            return "bool"
        kinds = {_kind(v, names) for v in [node.left, *node.comparators]}
        return "bool" if kinds <= set(SCALARS) else None  # user types may compare to anything
    if isinstance(node, ast.IfExp):
        body, orelse = _kind(node.body, names), _kind(node.orelse, names)
        return body if body == orelse else None
    if isinstance(node, ast.Call):
        return _call(node, names)
    if isinstance(node, ast.Subscript) and _kind(node.value, names) == "str":
        return "str"
    return None


# --- the function's own names ---------------------------------------------------------------


class _Bindings(ast.NodeVisitor):
    """Every binding of a name in one function's scope: the expression it gets, or ``None`` (unknown)."""

    def __init__(self) -> None:
        self.bindings: dict[str, list[ast.expr | None]] = {}
        self.declared: set[str] = set()
        self.returns: list[ast.expr | None] = []
        self.yields = False
        self.json_imports: set[str] = set()
        self.arguments: set[str] = set()

    def bind(self, target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            self.bindings.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self.bind(item.value if isinstance(item, ast.Starred) else item, None)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.bind(target, node.value if isinstance(target, ast.Name) else None)
        self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.bind(node.target, ast.BinOp(left=ast.Name(id=node.target.id, ctx=ast.Load()), op=node.op,
                                             right=node.value))
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.bind(node.target, node.value)
            self.visit(node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.bind(node.target, node.value)
        self.visit(node.value)

    def _unknown_targets(self, node: ast.AST) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                self.bindings.setdefault(child.id, []).append(None)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self._unknown_targets(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._unknown_targets(item.optional_vars)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._unknown_targets(target)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bindings.setdefault(node.name, []).append(None)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            name = (alias.asname or alias.name).split(".")[0]
            self.bindings.setdefault(name, []).append(None)
            if isinstance(node, ast.Import) and alias.name == "json":
                self.json_imports.add(alias.asname or "json")

    visit_ImportFrom = visit_Import

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        self.declared.update(node.names)

    visit_Nonlocal = visit_Global

    def visit_Match(self, node: ast.AST) -> None:
        self._unknown_targets(node)
        for child in ast.walk(node):
            for name in ("name", "rest"):
                value = getattr(child, name, None)
                if isinstance(value, str) and isinstance(child, (ast.MatchAs, ast.MatchStar, ast.MatchMapping)):
                    self.bindings.setdefault(value, []).append(None)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        self.returns.append(node.value)
        if node.value is not None:
            self.visit(node.value)

    def visit_Yield(self, node: ast.AST) -> None:
        self.yields = True

    visit_YieldFrom = visit_Yield

    def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.bindings.setdefault(node.name, []).append(None)  # its body is another scope

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return None

    def _comprehension(self, node: ast.AST) -> None:
        for child in ast.walk(node):  # only a walrus inside binds in the function
            if isinstance(child, ast.NamedExpr):
                self.bind(child.target, None)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension


def ends(body: list[ast.stmt]) -> bool:
    """True when no run falls off the end of ``body``: each path returns or raises."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return ends(last.body) and ends(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return ends(last.body)
    if isinstance(last, ast.Try) or type(last).__name__ == "TryStar":
        if ends(getattr(last, "finalbody", [])):
            return True
        normal = ends(last.body) or bool(last.orelse) and ends(last.orelse)
        return normal and all(ends(h.body) for h in last.handlers)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value is True:
        return not any(isinstance(n, ast.Break) for n in ast.walk(last))
    return False


def _local_types(found: _Bindings, params: dict[str, str | None], shadowed: frozenset[str],
                 json_names: Iterable[str]) -> _Names:
    """The type of each local name every one of its bindings agrees on (assumed, then checked)."""
    bindings = {name: list(values) for name, values in found.bindings.items()}
    for name in set(params) | found.arguments:  # bound on entry: typed by the caller, else unknown
        kind = params.get(name)
        bindings.setdefault(name, []).insert(0, _typed(kind) if kind in SCALARS else None)
    json_module = (frozenset(json_names) - frozenset(bindings)) | frozenset(
        name for name in found.json_imports if len(bindings.get(name, [])) == 1)
    names = _Names({}, shadowed | frozenset(bindings), json_module)
    assumed: dict[str, str | None] = {}
    changed = True
    while changed:  # a name bound from another one is known once that one is
        changed = False
        names = _Names(dict(assumed), names.shadowed, json_module)
        for name, values in bindings.items():
            if name in assumed or name in found.declared or any(v is None for v in values):
                continue
            kinds = {_kind(v, names) for v in values} - {None}
            if len(kinds) == 1:
                assumed[name], changed = kinds.pop(), True
    while True:  # keep only the assumptions every binding confirms
        names = _Names(dict(assumed), names.shadowed, json_module)
        wrong = {n for n in assumed if any(_kind(v, names) != assumed[n] for v in bindings[n] if v is not None)}
        if not wrong:
            return names
        for name in wrong:
            del assumed[name]


def _typed(kind: str) -> ast.expr:
    """A stand-in expression of a known scalar type (a parameter's value)."""
    return ast.Constant(value={"str": "", "int": 0, "float": 0.0, "bool": False}[kind])


def _visit(fn: _Def) -> _Bindings:
    found = _Bindings()
    found.arguments = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
    for statement in fn.body:
        found.visit(statement)
    return found


def return_kinds(fn: _Def, params: dict[str, str | None], shadowed: Iterable[str] = (),
                 json_names: Iterable[str] = ()) -> frozenset[str]:
    """What ``fn`` may return: scalar names, ``none``, ``container``, ``?`` (not known).

    ``params``: parameter -> its carrier (only scalars tell a type); ``shadowed``: module-level
    names the body may read (a module ``str = ...`` is not the builtin); ``json_names``: names
    the module binds to the ``json`` module (``import json``).
    """
    found = _visit(fn)
    if found.yields:
        return frozenset({UNKNOWN})
    names = _local_types(found, params, frozenset(shadowed), json_names)
    kinds = {_kind(value, names) if value is not None else NONE for value in found.returns}
    if not ends(fn.body):
        kinds.add(NONE)
    return frozenset(UNKNOWN if k is None else k for k in kinds)


def dict_value_kinds(fn: _Def, params: dict[str, str | None], shadowed: Iterable[str] = (),
                     json_names: Iterable[str] = ()) -> dict[str, str]:
    """Key -> the scalar its value certainly is, when every ``return`` is a dict literal holding that key."""
    found = _visit(fn)
    if found.yields or not found.returns or not ends(fn.body):
        return {}
    names = _local_types(found, params, frozenset(shadowed), json_names)
    returned: list[dict[str, str | None]] = []
    for value in found.returns:
        if not isinstance(value, ast.Dict) or not all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                                      for k in value.keys):
            return {}
        returned.append({k.value: _kind(v, names) for k, v in zip(value.keys, value.values)})  # type: ignore[union-attr]
    common = set.intersection(*(set(keys) for keys in returned))
    kinds = {key: {keys[key] for keys in returned} for key in common}
    return {key: found.pop() for key, found in kinds.items() if len(found) == 1 and found <= set(SCALARS)}
