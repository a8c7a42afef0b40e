"""The safe subset of Python the analyzer evaluates on known values: builtins and methods
of ``str``/``list``/``dict``, operators with size guards. Nothing here can run user code:
every function only ever sees plain data (str, numbers, lists, dicts, tuples).
"""

from __future__ import annotations

import json
import re
import operator
import posixpath
from pathlib import PurePosixPath
from typing import Any, Callable

from converters.values import Call, DateTime, Duration, Symbolic, TaskRef

__all__ = [
    "is_plain",
    "BUILTINS",
    "call_method",
    "binary",
    "compare",
    "MAX_ITEMS",
    "UNKNOWN",
    "path_join",
    "json_dumps",
    "json_loads",
    "safe_format",
]

MAX_ITEMS = 100_000
UNKNOWN = object()  # "could not evaluate": callers turn it into a Symbolic with the source text

_PLAIN_SCALARS = (str, bytes, int, float, bool, type(None), Duration, DateTime, Call, TaskRef, PurePosixPath)


def is_plain(value: Any, depth: int = 0) -> bool:
    """True for data the analyzer may hand to real builtins: no Symbolic, no interpreter objects."""
    if isinstance(value, _PLAIN_SCALARS):
        return True
    if depth > 20:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(is_plain(k, depth + 1) and is_plain(v, depth + 1) for k, v in value.items())
    return False


# A width or precision of 6+ digits in a format spec ("{:>999999}", "%999999s", "{:.999999f}").
_HUGE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*\d{6,}|%[#0\- +]*(?:\*|\d{6,}|\d*\.(?:\*|\d{6,}))|^[^{}%]*\d{6,}$")


def safe_format(value: Any) -> bool:
    """False for format strings or sizes that would build a huge string (``"{:>999999999}"``)."""
    if isinstance(value, str):
        return not _HUGE_WIDTH.search(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= MAX_ITEMS
    return True


def _sized(value: Any) -> Any:
    if isinstance(value, (str, bytes, list, tuple)) and len(value) > MAX_ITEMS:
        return UNKNOWN
    return value


def _range(*args: Any) -> Any:
    if not all(isinstance(a, int) for a in args):
        return UNKNOWN
    result = range(*args)
    return list(result) if len(result) <= MAX_ITEMS else UNKNOWN


def _plain_only(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not (is_plain(list(args)) and is_plain(kwargs)):
            return UNKNOWN
        try:
            return _sized(func(*args, **kwargs))
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, ZeroDivisionError):
            return UNKNOWN

    return wrapper


def _as_list(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return list(func(*args, **kwargs))

    return wrapper


def _containers(func: Callable[..., Any]) -> Callable[..., Any]:
    """Builtins that only move items around may hold interpreter objects (tasks in a list)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(a, Symbolic) for a in args) or kwargs:
            return UNKNOWN
        try:
            return _sized(func(*args))
        except (TypeError, ValueError):
            return UNKNOWN

    return wrapper


BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _range,
    "len": _containers(len),
    "str": _plain_only(str),
    "int": _plain_only(int),
    "float": _plain_only(float),
    "bool": _plain_only(bool),
    "abs": _plain_only(abs),
    "round": _plain_only(round),
    "min": _plain_only(min),
    "max": _plain_only(max),
    "sum": _plain_only(sum),
    "any": _plain_only(any),
    "all": _plain_only(all),
    "sorted": _plain_only(sorted),
    "repr": _plain_only(repr),
    "format": _plain_only(lambda value, spec="": format(value, spec) if safe_format(spec) else UNKNOWN),
    "list": _containers(list),
    "tuple": _containers(tuple),
    "set": _containers(set),
    "frozenset": _containers(frozenset),
    "reversed": _containers(_as_list(reversed)),
    "enumerate": _containers(_as_list(enumerate)),
    "zip": _containers(_as_list(zip)),
    "dict": lambda *args, **kwargs: _dict(*args, **kwargs),
}


def _dict(*args: Any, **kwargs: Any) -> Any:
    if len(args) > 1 or any(isinstance(a, Symbolic) for a in args):
        return UNKNOWN
    try:
        return dict(*args, **kwargs)
    except (TypeError, ValueError):
        return UNKNOWN


_STR_METHODS = {
    "format",
    "join",
    "upper",
    "lower",
    "title",
    "capitalize",
    "replace",
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "rsplit",
    "startswith",
    "endswith",
    "zfill",
    "ljust",
    "rjust",
    "center",
    "removeprefix",
    "removesuffix",
    "casefold",
    "swapcase",
    "splitlines",
    "count",
    "find",
    "rfind",
    "isdigit",
    "isalpha",
    "isalnum",
    "islower",
    "isupper",
    "partition",
    "rpartition",
    "encode",
    "decode",
    "format_map",
}
_FORMATTING = {"format", "format_map", "ljust", "rjust", "center", "zfill"}
_LIST_METHODS = {"append", "extend", "insert", "copy", "index", "count", "pop", "remove", "reverse", "clear"}
_DICT_METHODS = {"get", "keys", "values", "items", "copy", "update", "setdefault", "pop", "clear"}
_SET_METHODS = {"add", "update", "union", "intersection", "difference", "copy", "discard"}
_LIST_RESULTS = {"keys", "values", "items", "split", "rsplit", "splitlines"}


def call_method(receiver: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """A method of a known str/list/dict/set value, or UNKNOWN."""
    if isinstance(receiver, (str, bytes)):
        allowed = _STR_METHODS
        if not (is_plain(list(args)) and is_plain(kwargs)):
            return UNKNOWN
    elif isinstance(receiver, list):
        allowed = _LIST_METHODS
    elif isinstance(receiver, dict):
        allowed = _DICT_METHODS
    elif isinstance(receiver, (set, frozenset)):
        allowed = _SET_METHODS
    elif isinstance(receiver, tuple):
        allowed = {"index", "count"}
    else:
        return UNKNOWN
    if name not in allowed:
        return UNKNOWN
    if name in ("extend", "update") and any(isinstance(a, Symbolic) for a in args):
        return UNKNOWN
    if (
        name in ("extend", "update", "insert", "append")
        and len(receiver) + sum(len(a) if isinstance(a, (list, tuple, dict, set, str)) else 1 for a in args) > MAX_ITEMS
    ):
        return UNKNOWN  # growing a collection without bound (a loop doubling it) is not followed
    if name in _FORMATTING and not (safe_format(receiver) and all(safe_format(a) for a in args)):
        return UNKNOWN
    try:
        result = getattr(receiver, name)(*args, **kwargs)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, UnicodeError):
        return UNKNOWN
    if name in _LIST_RESULTS:
        result = list(result)
    return _sized(result)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add,
    "Subtract": operator.sub,
    "Multiply": operator.mul,
    "Divide": operator.truediv,
    "FloorDivide": operator.floordiv,
    "Modulo": operator.mod,
    "Power": operator.pow,
    "BitOr": operator.or_,
    "BitAnd": operator.and_,
}


def binary(op_name: str, left: Any, right: Any) -> Any:
    """``left <op> right`` on plain data with size guards, or UNKNOWN."""
    func = _BINARY.get(op_name)
    if func is None or not (is_plain(left) and is_plain(right)):
        return UNKNOWN
    if op_name == "Multiply":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_ITEMS:
                return UNKNOWN
    if op_name == "Power" and isinstance(right, (int, float)) and abs(right) > 256:
        return UNKNOWN
    if op_name == "Modulo" and isinstance(left, str) and not safe_format(left):
        return UNKNOWN
    if op_name == "Add" and isinstance(left, Duration) and isinstance(right, Duration):
        return Duration(seconds=left.seconds + right.seconds)
    if isinstance(left, (Duration, DateTime, Call, TaskRef)) or isinstance(right, (Duration, DateTime, Call, TaskRef)):
        return UNKNOWN
    try:
        return _sized(func(left, right))
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, ZeroDivisionError):
        return UNKNOWN


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "Equal": operator.eq,
    "NotEqual": operator.ne,
    "LessThan": operator.lt,
    "LessThanEqual": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEqual": operator.ge,
    "In": lambda a, b: a in b,
    "NotIn": lambda a, b: a not in b,
    "Is": lambda a, b: a is b if a is None or b is None or isinstance(a, bool) else a == b,
    "IsNot": lambda a, b: a is not b if a is None or b is None or isinstance(a, bool) else a != b,
}


def compare(op_name: str, left: Any, right: Any) -> Any:
    func = _COMPARE.get(op_name)
    if func is None or not (is_plain(left) and is_plain(right)):
        return UNKNOWN
    try:
        return bool(func(left, right))
    except TypeError:
        return UNKNOWN


def path_join(*parts: Any) -> Any:
    return posixpath.join(*parts) if all(isinstance(p, str) for p in parts) else UNKNOWN


def json_dumps(value: Any, **kwargs: Any) -> Any:
    if not is_plain(value) or not is_plain(kwargs):
        return UNKNOWN
    try:
        return json.dumps(value, **{k: v for k, v in kwargs.items() if k in ("indent", "sort_keys")})
    except (TypeError, ValueError):
        return UNKNOWN


def json_loads(value: Any) -> Any:
    if not isinstance(value, str):
        return UNKNOWN
    try:
        return json.loads(value)
    except ValueError:
        return UNKNOWN
