"""Values the analyzer resolves from DAG source, and their lossless JSON form.

A resolved argument is plain JSON data (str, int, float, bool, None, list, dict with
str keys) or one of the tagged values below, for what JSON cannot say by itself.
Anything the analyzer cannot know stays a :class:`Symbolic` with its source text:
never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from af2kfp.converters.errors import GraphFormatError

__all__ = [
    "LOOP_PREFIX",
    "Symbolic",
    "Deferred",
    "Lambda",
    "Call",
    "Duration",
    "DateTime",
    "TaskRef",
    "Value",
    "to_json",
    "from_json",
    "is_known",
]


# A TaskRef whose task id starts with this reads a ``dsl.ParallelFor`` loop variable (dynamic
# task mapping), not another task's XCom: ``<loop>x_item`` or ``<loop>kwargs_item.field``.
LOOP_PREFIX = "<loop>"


@dataclass(frozen=True, kw_only=True)
class Symbolic:
    """An expression the analyzer could not evaluate; ``source`` is its code as written.

    ``parts``: for an f-string only some of whose expressions are unknown, its text in order: the
    known pieces as strings, each unknown expression as a :class:`Symbolic` (empty otherwise).
    """

    source: str
    parts: tuple[Any, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Deferred(Symbolic):
    """A value Airflow reads when it parses the DAG file, not supplied at conversion: an Airflow Variable,
    a Connection field or an environment variable (``--variables``, ``--connections``, ``--env``), or an
    expression over such values. Unknown like any :class:`Symbolic`, and it says what would make it known.

    ``template``: the Jinja text that renders the same string in a templated field
    (``"gs://{{ var.value.bucket }}/raw"``), ``None`` when there is none (a comparison, ``int(...)``);
    ``needs``: what to supply, e.g. ``("Variable bucket",)``.
    """

    template: str | None = None
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Lambda(Symbolic):
    """A ``lambda`` of the DAG file that reads nothing but its parameters and Python's builtins
    (``lambda response: response.json()["code"] == 0``). Unknown to the converter like any
    :class:`Symbolic` (it is code, never run here); ``source`` is its text, which the fallback
    runner compiles in the task's container, where Airflow would have called it.
    """


@dataclass(frozen=True, kw_only=True)
class Call:
    """A call of a known class or function kept as data, e.g. ``k8s.V1Toleration(key=...)``.

    ``func`` is the qualified name resolved through the file's imports
    (``kubernetes.client.models.V1Toleration``), ``args``/``kwargs`` are resolved values.
    """

    func: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Duration:
    """A ``datetime.timedelta`` (or ``pendulum.duration``) in seconds."""

    seconds: float


@dataclass(frozen=True, kw_only=True)
class DateTime:
    """A ``datetime``/``pendulum.datetime`` as ISO 8601 text (timezone kept when given)."""

    iso: str


@dataclass(frozen=True, kw_only=True)
class TaskRef:
    """An XCom reference to another task's output: TaskFlow return value, ``.output``, XComArg."""

    task_id: str
    key: str = "return_value"


Value = Union[None, bool, int, float, str, list, dict, Symbolic, Call, Duration, DateTime, TaskRef]


def is_known(value: Any) -> bool:
    """True when ``value`` holds no :class:`Symbolic` part anywhere inside."""
    if isinstance(value, Symbolic):
        return False
    if isinstance(value, (list, tuple)):
        return all(is_known(item) for item in value)
    if isinstance(value, dict):
        return all(is_known(item) for item in value.values())
    if isinstance(value, Call):
        return all(is_known(a) for a in value.args) and all(is_known(v) for v in value.kwargs.values())
    return True


def to_json(value: Any) -> Any:
    """Encode a resolved value as JSON data; tagged values become ``{"$tag": ...}`` objects."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        encoded = {str(key): to_json(item) for key, item in value.items()}
        if any(key.startswith("$") for key in encoded):
            return {"$dict": encoded}
        return encoded
    if isinstance(value, Symbolic):
        parts = {"parts": [to_json(p) for p in value.parts]} if value.parts else {}
        if isinstance(value, Deferred):
            return {"$symbolic": value.source, **parts, "template": value.template, "needs": list(value.needs)}
        if isinstance(value, Lambda):
            return {"$symbolic": value.source, "lambda": True}
        return {"$symbolic": value.source, **parts}
    if isinstance(value, Call):
        return {
            "$call": value.func,
            "args": [to_json(a) for a in value.args],
            "kwargs": {k: to_json(v) for k, v in value.kwargs.items()},
        }
    if isinstance(value, Duration):
        return {"$duration": value.seconds}
    if isinstance(value, DateTime):
        return {"$datetime": value.iso}
    if isinstance(value, TaskRef):
        return {"$task": value.task_id, "key": value.key}
    raise GraphFormatError(f"cannot encode value of type {type(value).__name__}: {value!r}")


def from_json(data: Any) -> Any:
    """Decode what :func:`to_json` wrote; the exact inverse."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_json(item) for item in data]
    if not isinstance(data, dict):
        raise GraphFormatError(f"unexpected JSON value {data!r}")
    if "$dict" in data:
        return {key: from_json(item) for key, item in data["$dict"].items()}
    if "$symbolic" in data:
        parts = tuple(from_json(p) for p in data.get("parts", ()))
        if "needs" in data:
            return Deferred(source=data["$symbolic"], parts=parts, template=data.get("template"),
                            needs=tuple(data["needs"]))
        if data.get("lambda") is True:
            return Lambda(source=data["$symbolic"])
        return Symbolic(source=data["$symbolic"], parts=parts)
    if "$call" in data:
        return Call(
            func=data["$call"],
            args=tuple(from_json(a) for a in data.get("args", [])),
            kwargs={k: from_json(v) for k, v in data.get("kwargs", {}).items()},
        )
    if "$duration" in data:
        return Duration(seconds=data["$duration"])
    if "$datetime" in data:
        return DateTime(iso=data["$datetime"])
    if "$task" in data:
        return TaskRef(task_id=data["$task"], key=data.get("key", "return_value"))
    return {key: from_json(item) for key, item in data.items()}
