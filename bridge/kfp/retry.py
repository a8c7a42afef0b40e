"""When to send a KFP request again, and how long to wait first.

Pure policy, no I/O: the same object drives the synchronous and the asynchronous
client. Exponential backoff with jitter; ``Retry-After`` (seconds or an HTTP date) is
honoured up to ``retry_after_cap``. What is retried depends on whether the request may
already have taken effect (see :func:`af2kfp.bridge.kfp.protocol.Outcome`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "parse_retry_after", "RETRIABLE_STATUSES"]

# 501 Not Implemented and 505 are 5xx that never get better by waiting.
RETRIABLE_STATUSES = frozenset({429, *range(500, 600)}) - {501, 505}


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Backoff settings: attempt ``n`` (1-based) waits about ``initial * multiplier**(n-1)``.

    ``jitter`` is the fraction of each delay drawn at random (0 = none, 1 = full jitter),
    so many clients retrying together spread out. ``max_attempts`` counts the first try.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.5
    multiplier: float = 2.0
    max_backoff: float = 30.0
    jitter: float = 0.5
    retry_after_cap: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoff values must be >= 0 and multiplier >= 1")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, attempt - 1))
        return base * (1.0 - self.jitter) + base * self.jitter * self.rng.random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before the next attempt: the server's ``Retry-After`` if it gave one."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        return self.backoff(attempt)

    def can_retry(self, attempt: int) -> bool:
        return attempt < self.max_attempts


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
