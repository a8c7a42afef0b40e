"""The operator coverage page, ``docs/operators.md``, generated from the mapping registry.

Every rule module says what it maps (``OPERATORS``, ``RULES``), which arguments it maps,
drops and flags (``MAPPED_ARGS``/``DROPPED_ARGS``/``FLAGGED_ARGS``) and shows ``EXAMPLES``
that the tests run, so the page cannot drift from the code. Regenerate it with::

    python -m af2kfp.converters.mappings.coverage > docs/operators.md
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from types import ModuleType
from typing import Any

from af2kfp.converters.findings import CODES
from af2kfp.converters.mappings import base, fallback, mapper  # noqa: F401 - mapper: every M2xx code is registered
from af2kfp.converters.mappings.example import Example
from af2kfp.converters.mappings.registry import RULE_MODULES
from af2kfp.converters.values import to_json

__all__ = ["render", "COMMAND"]

COMMAND = "python -m af2kfp.converters.mappings.coverage > docs/operators.md"
_CONN = "warehouse_db"
_ANY = {"fallback": "*(any Airflow or provider operator without a rule; classes mapped to it in config)*",
        "unsupported": "*(any operator without a rule that the fallback cannot run)*"}


def _first_line(module: ModuleType) -> str:
    return (module.__doc__ or "").strip().splitlines()[0]


def _code_list(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items) if items else "none"


def _operators(module: ModuleType, rule: str) -> list[str]:
    return sorted(name for name, target in module.OPERATORS.items() if target == rule)


def _table(lines: list[str]) -> list[str]:
    out = ["| Rule | Operators (qualified names) | KFP construct |", "|---|---|---|"]
    for module in RULE_MODULES:
        for rule in module.RULES:
            names = "<br>".join(f"`{n}`" for n in _operators(module, rule)) or _ANY.get(rule, "")
            out.append(f"| `{rule}` | {names} | {_first_line(module)} |")
    return lines + out


def _encode(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else to_json(value)


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_encode)


def _example(example: Example) -> list[str]:
    out = [f"**{example.title}** (fate `{example.fate}`"
           + (f", findings {', '.join(f'`{c}`' for c in example.codes)})" if example.codes else ")"), "",
           "```python", example.airflow, "```"]
    if example.kfp:
        out += ["", "Emitted `pipeline.py` contains:", "", "```python", *example.kfp, "```"]
    if example.fields:
        out += ["", "| KFP task field | Value |", "|---|---|"]
        out += [f"| `{name}` | `{_value(value).replace('|', '&#124;')}` |" for name, value in example.fields.items()]
    return out + [""]


def _module(module: ModuleType) -> list[str]:
    name = module.__name__.rsplit(".", 1)[-1]
    out = [f"## `{name}`: {', '.join(f'`{r}`' for r in module.RULES)}", "", _first_line(module), "",
           f"- **Mapped:** {_code_list(module.MAPPED_ARGS)}",
           f"- **Dropped** (an `info` finding when set): {_code_list(module.DROPPED_ARGS)}",
           f"- **Flagged** (a `warning` or `error` finding): {_code_list(module.FLAGGED_ARGS)}", ""]
    for example in module.EXAMPLES:
        out += _example(example)
    return out


def _codes() -> list[str]:
    out = ["## Finding codes of the mapping rules", "", "| Code | Severity | Title |", "|---|---|---|"]
    out += [f"| `{c.code}` | {c.severity.value} | {c.title} |"
            for code, c in sorted(CODES.items()) if code.startswith("M2")]
    return out + [""]


def render() -> str:
    """The whole page as Markdown."""
    lines = [
        "# Operator coverage",
        "",
        f"Generated from the mapping registry (`converters/mappings/`) by `{COMMAND}`;",
        "`tests/coverage` fails when this file is stale. Every example below runs as a test.",
        "Map your own operator classes in `[tool.af2kfp.operators]`: see [custom-operators.md](custom-operators.md).",
        "",
    ]
    lines = _table(lines)
    lines += [
        "",
        "## Every operator",
        "",
        "Arguments of Airflow's `BaseOperator`, handled the same way by every rule:",
        "",
        "- **Mapped:** `retries`, `retry_delay`, `retry_exponential_backoff`, `max_retry_delay` -> `.set_retry(...)`; "
        "`execution_timeout` -> `kubernetes.set_timeout(...)`.",
        "- **Flagged:** `trigger_rule` other than `all_success` (warning).",
        f"- **Dropped** (an `info` finding when set): {_code_list(sorted(base.SCHEDULER_ARGS))}.",
        f"- **Dropped silently** (no effect on what runs): {_code_list(sorted(base.SILENT_ARGS))}.",
        "",
        "## Connections of the fallback",
        "",
        f"A connection id such as `{_CONN}` is read from the Kubernetes Secret `{fallback.connection_secret(_CONN)}` "
        f"(lower case, `_` -> `-`), key `uri`, as the variable `{fallback.connection_env(_CONN)}`, never as plaintext. "
        'Sensors follow `sensors = "fallback"` (they poke in the image) or `sensors = "skip"` '
        "(folded, warning `M226`).",
        "",
    ]
    for module in RULE_MODULES:
        lines += _module(module)
    lines += _codes()
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
