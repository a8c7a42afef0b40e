"""The safe subset of Python the analyzer evaluates on known values: builtins and methods
of ``str``/``list``/``dict``, operators with size guards. Nothing here can run user code:
every function only ever sees plain data (str, numbers, lists, dicts, tuples).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import operator
import posixpath
import re
import shlex
import textwrap
import urllib.parse
from pathlib import PurePosixPath
from typing import Any, Callable

from af2kfp.converters.values import Call, DateTime, Duration, Symbolic, TaskRef

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
    "PURE_FUNCTIONS",
    "KEEPS_TEMPLATES",
    "unary",
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
    "expandtabs",
    "isnumeric",
    "isdecimal",
    "isspace",
    "istitle",
    "isascii",
    "isidentifier",
    "index",
    "rindex",
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


def _moment(value: DateTime) -> tuple[_dt.datetime, str] | None:
    """A DateTime as a Python datetime and the zone suffix its text keeps (``[Europe/Paris]``)."""
    iso, bracket, zone = value.iso.partition("[")
    try:
        return _dt.datetime.fromisoformat(iso), f"[{zone}" if bracket else ""
    except ValueError:
        return None


def _shifted(value: DateTime, seconds: float) -> Any:
    found = _moment(value)
    if found is None:
        return UNKNOWN
    try:
        moment = found[0] + _dt.timedelta(seconds=seconds)
    except OverflowError:
        return UNKNOWN
    return DateTime(iso=moment.isoformat() + found[1])


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _time_arithmetic(op_name: str, left: Any, right: Any) -> Any:
    """``timedelta``/``datetime`` arithmetic as Python does it: sums, differences, scaling."""
    if isinstance(left, Duration) and isinstance(right, Duration):
        if op_name in ("Add", "Subtract"):
            sign = 1 if op_name == "Add" else -1
            return Duration(seconds=left.seconds + sign * right.seconds)
        if op_name == "Divide" and right.seconds:
            return left.seconds / right.seconds
        return UNKNOWN
    if isinstance(left, Duration) and _number(right) and op_name in ("Multiply", "Divide"):
        if op_name == "Divide" and not right:
            return UNKNOWN
        return Duration(seconds=left.seconds * right if op_name == "Multiply" else left.seconds / right)
    if _number(left) and isinstance(right, Duration) and op_name == "Multiply":
        return Duration(seconds=left * right.seconds)
    if isinstance(left, DateTime) and isinstance(right, Duration) and op_name in ("Add", "Subtract"):
        return _shifted(left, right.seconds if op_name == "Add" else -right.seconds)
    if isinstance(left, Duration) and isinstance(right, DateTime) and op_name == "Add":
        return _shifted(right, left.seconds)
    if isinstance(left, DateTime) and isinstance(right, DateTime) and op_name == "Subtract":
        a, b = _moment(left), _moment(right)
        if a is None or b is None or a[1] != b[1] or (a[0].tzinfo is None) != (b[0].tzinfo is None):
            return UNKNOWN
        return Duration(seconds=(a[0] - b[0]).total_seconds())
    return UNKNOWN


def unary(op_name: str, value: Any) -> Any:
    """``-x`` / ``+x`` on numbers and durations."""
    if _number(value):
        return -value if op_name == "Minus" else (value if op_name == "Plus" else UNKNOWN)
    if isinstance(value, Duration) and op_name in ("Minus", "Plus"):
        return Duration(seconds=-value.seconds if op_name == "Minus" else value.seconds)
    return UNKNOWN


def binary(op_name: str, left: Any, right: Any) -> Any:
    """``left <op> right`` on plain data with size guards, or UNKNOWN."""
    func = _BINARY.get(op_name)
    if func is None or not (is_plain(left) and is_plain(right)):
        return UNKNOWN
    if isinstance(left, (Duration, DateTime)) or isinstance(right, (Duration, DateTime)):
        return _time_arithmetic(op_name, left, right)
    if op_name == "Multiply":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_ITEMS:
                return UNKNOWN
    if op_name == "Power" and isinstance(right, (int, float)) and abs(right) > 256:
        return UNKNOWN
    if op_name == "Modulo" and isinstance(left, str) and not safe_format(left):
        return UNKNOWN
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
    if op_name in ("In", "NotIn") and isinstance(right, (list, tuple, set, frozenset, dict)) and not right:
        return op_name == "NotIn"  # nothing is in an empty collection, known or not
    if func is None or not (is_plain(left) and is_plain(right)):
        return UNKNOWN
    if isinstance(left, Duration) and isinstance(right, Duration) and op_name not in ("In", "NotIn"):
        left, right = left.seconds, right.seconds
    elif isinstance(left, DateTime) and isinstance(right, DateTime) and op_name not in ("In", "NotIn"):
        a, b = _moment(left), _moment(right)
        if a is None or b is None or a[1] != b[1] or (a[0].tzinfo is None) != (b[0].tzinfo is None):
            return UNKNOWN
        left, right = a[0], b[0]
    try:
        return bool(func(left, right))
    except TypeError:
        return UNKNOWN


def path_join(*parts: Any) -> Any:
    return posixpath.join(*parts) if all(isinstance(p, str) for p in parts) else UNKNOWN


_JSON_OPTIONS = ("indent", "sort_keys", "separators", "ensure_ascii", "allow_nan")


def json_dumps(value: Any, **kwargs: Any) -> Any:
    if not is_plain(value) or not is_plain(kwargs) or set(kwargs) - set(_JSON_OPTIONS):
        return UNKNOWN
    if isinstance(kwargs.get("indent"), int) and not safe_format(kwargs["indent"]):
        return UNKNOWN
    try:
        return _sized(json.dumps(value, **kwargs))
    except (TypeError, ValueError):
        return UNKNOWN


def json_loads(value: Any) -> Any:
    if not isinstance(value, str):
        return UNKNOWN
    try:
        return json.loads(value)
    except ValueError:
        return UNKNOWN


def _cast(kind: Any, value: Any) -> Any:
    """``typing.cast(T, value)`` is ``value``, whatever it is (a task included)."""
    return value


def _copy(value: Any, deep: bool) -> Any:
    if is_plain(value):
        return copy.deepcopy(value) if deep else copy.copy(value)
    if isinstance(value, list):
        return list(value)  # tasks inside are the same tasks: Airflow's operators are not copied either
    if isinstance(value, dict):
        return dict(value)
    return UNKNOWN


def _chain(*items: Any) -> Any:
    out: list[Any] = []
    for item in items:
        if not isinstance(item, (list, tuple)):
            return UNKNOWN
        out.extend(item)
    return _sized(out)


def _text(func: Callable[..., Any]) -> Callable[..., Any]:
    """A string function on plain arguments whose first argument must be a string."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not args or not isinstance(args[0], str):
            return UNKNOWN
        return _plain_only(func)(*args, **kwargs)

    return wrapper


# Pure functions of the standard library the analyzer evaluates on known values, by qualified name.
# Each sees plain data only (or, for typing.cast, copy and itertools.chain, containers it just moves).
PURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "typing.cast": _cast,
    "textwrap.dedent": _text(textwrap.dedent),
    "textwrap.indent": _text(textwrap.indent),
    "posixpath.join": lambda *parts: path_join(*parts),
    "posixpath.basename": _text(posixpath.basename),
    "posixpath.dirname": _text(posixpath.dirname),
    "os.path.normpath": _text(posixpath.normpath),
    "posixpath.normpath": _text(posixpath.normpath),
    "shlex.quote": _text(shlex.quote),
    "shlex.join": _plain_only(lambda items: shlex.join(items) if all(isinstance(i, str) for i in items) else UNKNOWN),
    "shlex.split": _text(shlex.split),
    "urllib.parse.urljoin": _text(urllib.parse.urljoin),
    "urllib.parse.quote": _text(urllib.parse.quote),
    "urllib.parse.quote_plus": _text(urllib.parse.quote_plus),
    "urllib.parse.urlencode": _plain_only(lambda query, **k: urllib.parse.urlencode(query, **k)
                                          if isinstance(query, (dict, list)) else UNKNOWN),
    "math.ceil": _plain_only(lambda x: math.ceil(x) if _number(x) else UNKNOWN),
    "math.floor": _plain_only(lambda x: math.floor(x) if _number(x) else UNKNOWN),
    "copy.copy": lambda value: _copy(value, deep=False),
    "copy.deepcopy": lambda value: _copy(value, deep=True),
    "itertools.chain": _chain,
    "collections.OrderedDict": lambda *a, **k: _dict(*a, **k),
    "json.dumps": lambda *a, **k: json_dumps(*a[:1], **k) if len(a) == 1 else UNKNOWN,
    "json.loads": lambda *a, **k: json_loads(a[0]) if len(a) == 1 and not k else UNKNOWN,
}
# Of those, the ones that keep a string argument whole: a Deferred's template goes through them.
KEEPS_TEMPLATES = frozenset({"typing.cast", "textwrap.dedent", "textwrap.indent", "posixpath.join"})
