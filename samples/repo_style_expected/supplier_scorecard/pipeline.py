"""KFP v2 pipeline for the Airflow DAG supplier_scorecard, converted by af2kfp.

Airflow source: samples/repo_style/dags/supplier_scorecard.py:48
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def extract() -> str:
    import json

    return json.dumps(
        [
            {"supplier": "acme", "sku": "abc-0001", "amount": "1,204.50 EUR", "days_late": 0},
            {"supplier": "acme", "sku": "ABC_0002", "amount": "99.99", "days_late": 5},
            {"supplier": "globex", "sku": "not a sku", "amount": "10.00 EUR", "days_late": 1},
            {"supplier": "globex", "sku": "GLX-0420", "amount": "310.10 USD", "days_late": 4},
            {"supplier": "globex", "sku": "GLX-0420", "amount": "12.00 GBP", "days_late": 0},
        ]
    )


@dsl.component(base_image="python:3.11")
def clean(rows: str) -> str:
    import json
    from decimal import Decimal, ROUND_HALF_UP
    import logging
    import re

    CURRENCIES = ("EUR", "USD", "GBP")

    def to_cents(amount):
        """``"1,204.50 EUR"`` -> ``120450``; the currency, when given, must be one we book."""
        value, _, currency = amount.strip().partition(" ")
        if currency and currency not in CURRENCIES:
            raise ValueError(f"unknown currency {currency!r} in {amount!r}")
        cents = Decimal(value.replace(",", "")) * 100
        return int(cents.quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    log = logging.getLogger(__name__)
    SKU = re.compile(r"^[A-Z]{3}-\d{4}$")

    def normalise_sku(raw):
        sku = raw.strip().upper().replace("_", "-")
        return sku if SKU.match(sku) else None

    def clean_rows(rows):
        """Rows with a valid SKU and amount, the amount in cents; the others are logged and dropped."""
        kept = []
        for row in rows:
            sku = normalise_sku(row["sku"])
            if sku is None:
                log.warning("dropping row with SKU %r", row["sku"])
                continue
            kept.append({**row, "sku": sku, "amount_cents": to_cents(row["amount"])})
        return kept

    # Values that travel as JSON text, decoded back to what Airflow passes
    rows = json.loads(rows)

    kept = clean_rows(rows)
    print(f"kept {len(kept)} of {len(rows)} rows")
    return json.dumps(kept)


@dsl.component(base_image="python:3.11")
def scorecard(rows: str) -> str:
    import json
    from collections import Counter

    LATE_AFTER_DAYS = 3

    def late_share(rows):
        late = sum(1 for row in rows if row["days_late"] > LATE_AFTER_DAYS)
        return round(late / len(rows), 3) if rows else 0.0

    def score_supplier(rows):
        """Per supplier: spend in cents, the share of late deliveries and the most ordered SKU."""
        skus = Counter(row["sku"] for row in rows)
        return {
            "spend_cents": sum(row["amount_cents"] for row in rows),
            "late_share": late_share(rows),
            "top_sku": skus.most_common(1)[0][0] if skus else None,
        }

    score = score_supplier

    # Values that travel as JSON text, decoded back to what Airflow passes
    rows = json.loads(rows)

    by_supplier: dict[str, list[dict]] = {}
    for row in rows:
        by_supplier.setdefault(row["supplier"], []).append(row)
    card = {supplier: score(found) for supplier, found in sorted(by_supplier.items())}
    print(card)
    return json.dumps(card)


@dsl.pipeline(
    name="supplier-scorecard",
    description="Converted from Airflow DAG supplier_scorecard (samples/repo_style/dags/supplier_scorecard.py:48).",
)
def supplier_scorecard():
    # Airflow: samples/repo_style/dags/supplier_scorecard.py:45 extract (@task)
    extract_task = extract().set_display_name("extract").set_caching_options(False)
    # Airflow: samples/repo_style/dags/supplier_scorecard.py:45 clean (@task)
    clean_task = (
        clean(rows=extract_task.output)
        .set_display_name("clean")
        .set_caching_options(False)
    )
    # Airflow: samples/repo_style/dags/supplier_scorecard.py:45 scorecard (@task)
    scorecard_task = (
        scorecard(rows=clean_task.output)
        .set_display_name("scorecard")
        .set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=supplier_scorecard,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
