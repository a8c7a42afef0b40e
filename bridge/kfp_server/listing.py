"""``filter``, ``sort_by``, ``page_token`` and ``page_size`` of KFP list calls.

Filters are the JSON-encoded ``V2beta1Filter`` a client sends: predicates
AND-ed, operation by name or by number (``kfp.Client`` sends numbers), field
names in snake_case or camelCase (protojson accepts both).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from typing import Any, Callable, Mapping, Sequence

from af2kfp.bridge.kfp_server.errors import ApiError

__all__ = ["apply_filter", "sort_items", "paginate", "DEFAULT_PAGE_SIZE"]

DEFAULT_PAGE_SIZE = 20
_OPERATIONS = {
    0: "OPERATION_UNSPECIFIED",
    1: "EQUALS",
    2: "NOT_EQUALS",
    3: "GREATER_THAN",
    5: "GREATER_THAN_EQUALS",
    6: "LESS_THAN",
    7: "LESS_THAN_EQUALS",
    8: "IN",
    9: "IS_SUBSTRING",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "EQUALS": lambda a, b: a == b,
    "NOT_EQUALS": lambda a, b: a != b,
    "GREATER_THAN": lambda a, b: a > b,
    "GREATER_THAN_EQUALS": lambda a, b: a >= b,
    "LESS_THAN": lambda a, b: a < b,
    "LESS_THAN_EQUALS": lambda a, b: a <= b,
    "IN": lambda a, b: a in b,
    "IS_SUBSTRING": lambda a, b: isinstance(a, str) and str(b) in a,
}


def _field(predicate: Mapping[str, Any], snake: str) -> Any:
    head, *rest = snake.split("_")
    camel = head + "".join(part.title() for part in rest)
    return predicate.get(snake, predicate.get(camel))


def _epoch(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _predicate(raw: Any, aliases: Mapping[str, str]) -> Callable[[Mapping[str, Any]], bool]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
        raise ApiError(400, f"Invalid filter predicate {raw!r}: needs a 'key'")
    key = aliases.get(raw["key"], raw["key"])
    operation = raw.get("operation", raw.get("op"))
    operation = _OPERATIONS.get(operation, operation) if isinstance(operation, int) else operation
    compare = _COMPARE.get(str(operation))
    if compare is None:
        raise ApiError(400, f"Invalid filter operation {raw.get('operation')!r} for key {raw['key']!r}")
    timestamp = _field(raw, "timestamp_value")
    if operation == "IN":
        listed = next(
            (_field(raw, f) for f in ("string_values", "int_values", "long_values") if _field(raw, f)), None
        )
        if not isinstance(listed, Mapping) or not isinstance(listed.get("values"), list):
            raise ApiError(400, f"Invalid filter: IN on {raw['key']!r} needs a list of values")
        wanted: Any = [str(v) for v in listed["values"]]
        return lambda item: str(item.get(key)) in wanted
    if timestamp is not None or key.endswith("_at"):
        value = (
            timestamp
            if timestamp is not None
            else next(
                (
                    _field(raw, f)
                    for f in ("int_value", "long_value", "string_value")
                    if _field(raw, f) is not None
                ),
                None,
            )
        )
        bound = _epoch(int(value) if isinstance(value, str) and value.isdigit() else value)
        if bound is None:
            raise ApiError(400, f"Invalid filter: {raw['key']!r} needs a timestamp value")
        return lambda item: (_epoch(item.get(key)) is not None and compare(_epoch(item.get(key)), bound))
    for name, cast in (("string_value", str), ("int_value", int), ("long_value", int)):
        value = _field(raw, name)
        if value is not None:
            wanted = cast(value)
            if cast is int:
                return lambda item: _as_int(item.get(key)) is not None and compare(
                    _as_int(item.get(key)), wanted
                )
            return lambda item: compare(item.get(key) if item.get(key) is not None else "", wanted)
    raise ApiError(400, f"Invalid filter: predicate on {raw['key']!r} has no value")


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def apply_filter(
    items: list[dict[str, Any]], raw: str | None, aliases: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Keep the items every predicate of the JSON filter ``raw`` accepts."""
    if not raw:
        return items
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"Invalid filter: not JSON: {exc}") from None
    if not isinstance(parsed, Mapping) or not isinstance(parsed.get("predicates", []), list):
        raise ApiError(400, "Invalid filter: expected an object with a 'predicates' list")
    checks = [_predicate(p, aliases) for p in parsed.get("predicates", [])]
    return [item for item in items if all(check(item) for check in checks)]


def sort_items(
    items: list[dict[str, Any]], sort_by: str | None, aliases: Mapping[str, str], id_key: str
) -> list[dict[str, Any]]:
    """Order by ``"field [asc|desc]"``; default: creation time, then id."""
    field, descending = "created_at", False
    if sort_by:
        parts = sort_by.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise ApiError(400, f"Invalid sorting field {sort_by!r}: expected 'field' or 'field desc'")
        field = aliases.get(parts[0], parts[0])
        descending = len(parts) == 2 and parts[1].lower() == "desc"

    def key(item: dict[str, Any]) -> tuple[str, str]:
        value = item.get(field)
        return ("" if value is None else str(value), str(item.get(id_key, "")))

    return sorted(items, key=key, reverse=descending)


def paginate(
    items: Sequence[dict[str, Any]], page_token: str | None, page_size: str | int | None
) -> tuple[list[dict[str, Any]], str]:
    """One page and the token of the next one ('' on the last page)."""
    try:
        size = int(page_size or 0) or DEFAULT_PAGE_SIZE
    except ValueError:
        raise ApiError(400, f"Invalid page_size {page_size!r}") from None
    if size < 0:
        raise ApiError(400, f"Invalid page_size {page_size!r}")
    offset = 0
    if page_token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(page_token.encode()))["offset"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise ApiError(400, f"Invalid page_token {page_token!r}") from None
    page = list(items[offset : offset + size])
    more = offset + size < len(items)
    token = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode() if more else ""
    return page, token
