"""Row-level data quality rules shared by the supplier DAGs: one place, so every DAG cleans alike."""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Iterable

from .money import to_cents

log = logging.getLogger(__name__)

SKU = re.compile(r"^[A-Z]{3}-\d{4}$")
LATE_AFTER_DAYS = 3


def normalise_sku(raw: str) -> str | None:
    sku = raw.strip().upper().replace("_", "-")
    return sku if SKU.match(sku) else None


def clean_rows(rows: Iterable[dict]) -> list[dict]:
    """Rows with a valid SKU and amount, the amount in cents; the others are logged and dropped."""
    kept = []
    for row in rows:
        sku = normalise_sku(row["sku"])
        if sku is None:
            log.warning("dropping row with SKU %r", row["sku"])
            continue
        kept.append({**row, "sku": sku, "amount_cents": to_cents(row["amount"])})
    return kept


def late_share(rows: list[dict]) -> float:
    late = sum(1 for row in rows if row["days_late"] > LATE_AFTER_DAYS)
    return round(late / len(rows), 3) if rows else 0.0


def score_supplier(rows: list[dict]) -> dict:
    """Per supplier: spend in cents, the share of late deliveries and the most ordered SKU."""
    skus = Counter(row["sku"] for row in rows)
    return {
        "spend_cents": sum(row["amount_cents"] for row in rows),
        "late_share": late_share(rows),
        "top_sku": skus.most_common(1)[0][0] if skus else None,
    }
