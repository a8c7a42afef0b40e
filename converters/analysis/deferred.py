"""Values known only when Airflow parses the DAG, and values an unknown condition decided.

A :class:`~af2kfp.converters.values.Deferred` (an Airflow Variable, Connection field or environment
variable not supplied at conversion) keeps the Jinja text that renders it in a templated field,
through the string operations that keep a string whole: f-strings, ``+``, ``%``, ``.format``,
``.join`` and ``os.path.join``. Each stand-in is a sentinel while the real, pure operation runs,
and the template is put back in the result; an operation that cuts or changes it (``.upper()``,
slicing) gives a Deferred without template.

A value an unknown ``if`` decided (the branch that was kept) is tagged with the condition
(:class:`Decision`): strings and integers as :class:`DecidedStr`/:class:`DecidedInt`, lists and
dicts by identity in the interpreter, so a task built from them gets a finding that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from af2kfp.converters.analysis.safe_ops import UNKNOWN
from af2kfp.converters.values import Deferred

__all__ = [
    "Decision",
    "DecidedStr",
    "DecidedInt",
    "decided",
    "notes_of",
    "untagged",
    "merge_needs",
    "with_templates",
    "json_item",
    "is_template_str",
]

_OPEN, _CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(f"{_OPEN}([0-9]+){_CLOSE}")
_JSON_CHAIN = re.compile(r"^\{\{ ((?:var\.json|conn\.[\w-]+\.extra_dejson)(?:\.[A-Za-z_]\w*|\['[^'\\]*'\])*) \}\}$")


@dataclass(frozen=True)
class Decision:
    """An ``if`` whose condition is not known at conversion: where it is, and what it reads."""

    source: str
    file: str
    line: int | None
    needs: tuple[str, ...] = ()


class DecidedStr(str):
    """A string one side of an unknown condition gave; ``notes`` are the conditions."""

    notes: tuple[Decision, ...] = ()


class DecidedInt(int):
    """An integer one side of an unknown condition gave; ``notes`` are the conditions."""

    notes: tuple[Decision, ...] = ()


def decided(value: Any, notes: tuple[Decision, ...]) -> Any:
    """``value`` tagged with ``notes`` when it is a string or an integer (not a bool); else ``value``."""
    if not notes:
        return value
    if isinstance(value, str):
        tagged: Any = DecidedStr(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        tagged = DecidedInt(value)
    else:
        return value
    tagged.notes = tuple(dict.fromkeys((*notes_of(value), *notes)))
    return tagged


def notes_of(value: Any) -> tuple[Decision, ...]:
    return value.notes if isinstance(value, (DecidedStr, DecidedInt)) else ()


def untagged(value: Any) -> Any:
    """The plain ``str``/``int`` of a tagged value (what the migration graph holds)."""
    if isinstance(value, DecidedStr):
        return str.__str__(value)
    if isinstance(value, DecidedInt):
        return int(value)
    return value


def merge_needs(values: list[Deferred]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(need for value in values for need in value.needs))


def is_template_str(value: Any) -> bool:
    return isinstance(value, Deferred) and value.template is not None


def _stand_in(value: Any, found: list[Deferred]) -> Any:
    if isinstance(value, Deferred):
        found.append(value)
        return f"{_OPEN}{len(found) - 1}{_CLOSE}"
    if isinstance(value, (list, tuple)):
        items = [_stand_in(item, found) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {key: _stand_in(item, found) for key, item in value.items()}
    return value


def with_templates(func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
                   source: Callable[[], str]) -> Any:
    """``func(*args, **kwargs)`` with each Deferred argument standing in by its template; ``source`` gives
    the expression's code for the result.

    Returns UNKNOWN when no argument is Deferred (the caller evaluates as usual); a Deferred
    whose template is the result with the templates back when every stand-in came through whole;
    a Deferred without template otherwise (the operation cut or changed the run-time value).
    """
    found: list[Deferred] = []
    stand_args = _stand_in(list(args), found)
    stand_kwargs = _stand_in(dict(kwargs), found)
    if not found:
        return UNKNOWN
    needs = merge_needs(found)
    text = source()  # the code, only now that it is needed
    if any(value.template is None for value in found):
        return Deferred(source=text, needs=needs)
    try:
        result = func(*stand_args, **stand_kwargs)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        result = None
    if not isinstance(result, str):
        return Deferred(source=text, needs=needs)
    used = [int(index) for index in _SENTINEL.findall(result)]
    if result.count(_OPEN) != len(used) or result.count(_CLOSE) != len(used):
        return Deferred(source=text, needs=needs)
    template = _SENTINEL.sub(lambda m: str(found[int(m.group(1))].template), result)
    return Deferred(source=text, template=template, needs=needs)


def json_item(value: Deferred, key: Any, source: str) -> Deferred:
    """``Variable.get("x", deserialize_json=True)["k"]`` as ``{{ var.json.x.k }}``."""
    match = _JSON_CHAIN.match(value.template or "")
    if match is None or not isinstance(key, str):
        return Deferred(source=source, needs=value.needs)
    step = f".{key}" if key.isidentifier() else f"[{key!r}]" if "'" not in key and "\\" not in key else None
    if step is None:
        return Deferred(source=source, needs=value.needs)
    return Deferred(source=source, template=f"{{{{ {match.group(1)}{step} }}}}", needs=value.needs)
