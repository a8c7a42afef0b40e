"""Values KFP cannot carry, kept out of the migration graph with a finding instead of invalid output.

A pipeline parameter or argument is a protobuf ``Value``: a float64, so ``1e999`` (``inf``) and
``nan`` have no literal in ``pipeline.py`` and no JSON form, and an integer beyond 2**53 comes back
as another number; a ``timedelta`` beyond ``timedelta.max`` does not exist. Each such value becomes
an unknown (``{"$symbolic": ...}``) that the mapping reports where it is used, and ``E312`` names it.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from af2kfp.converters.findings import Severity, register_code
from af2kfp.converters.values import Call, Duration, Symbolic

__all__ = ["MAX_EXACT_INT", "carried", "NOT_CARRIED"]

MAX_EXACT_INT = 2**53  # every integer up to this is exact in a float64
_MAX_SECONDS = datetime.timedelta.max.total_seconds()

NOT_CARRIED = register_code(
    "E312", Severity.ERROR, "Value KFP cannot carry",
    "A non-finite float (inf, nan), an integer beyond 2**53 or a duration out of timedelta's range cannot be a "
    "KFP parameter or argument (they are float64 numbers; JSON has no inf), so the value was left out as "
    "unknown. Use a finite number, pass a large integer as a string, or a shorter duration.",
).code


def _problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"the float {value!r}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_EXACT_INT:
        digits = len(str(abs(value))) if abs(value) < 10**4000 else "over 4000"
        return f"an integer of {digits} digits"
    if isinstance(value, Duration) and (not math.isfinite(value.seconds) or abs(value.seconds) > _MAX_SECONDS):
        return f"a duration of {value.seconds!r} seconds"
    return None


def carried(value: Any, problems: list[str], where: str = "") -> Any:
    """``value`` with every part KFP cannot carry replaced by a symbolic value; ``problems`` gets what and where."""
    problem = _problem(value)
    if problem is not None:
        problems.append(f"{where or 'value'}: {problem}")
        return Symbolic(source=f"<{problem}>")
    if isinstance(value, list):
        return [carried(v, problems, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: carried(v, problems, f"{where}[{k!r}]" if where else str(k)) for k, v in value.items()}
    if isinstance(value, Call):
        args = tuple(carried(v, problems, f"{where}({i})") for i, v in enumerate(value.args))
        kwargs = {k: carried(v, problems, f"{where}({k}=)") for k, v in value.kwargs.items()}
        return Call(func=value.func, args=args, kwargs=kwargs) if (args, kwargs) != (value.args, value.kwargs) else value
    return value
