"""Money amounts as the finance systems send them ("1,204.50 EUR") and as the warehouse stores them (cents)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CURRENCIES = ("EUR", "USD", "GBP")


def to_cents(amount: str) -> int:
    """``"1,204.50 EUR"`` -> ``120450``; the currency, when given, must be one we book."""
    value, _, currency = amount.strip().partition(" ")
    if currency and currency not in CURRENCIES:
        raise ValueError(f"unknown currency {currency!r} in {amount!r}")
    cents = Decimal(value.replace(",", "")) * 100
    return int(cents.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
