"""Weekly supplier scorecard: the team's quality rules from include/acme_airflow, applied per supplier.

The cleaning and scoring code lives in the shared package (one definition for every DAG);
the tasks import it at the top of the file or inside the task, as Airflow's best practices
recommend for anything heavier than a constant.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task
from include.acme_airflow.quality import clean_rows


@dag(schedule="0 6 * * 1", start_date=datetime(2024, 1, 1), catchup=False, tags=["suppliers", "finance"])
def supplier_scorecard():
    @task
    def extract() -> list[dict]:
        return [
            {"supplier": "acme", "sku": "abc-0001", "amount": "1,204.50 EUR", "days_late": 0},
            {"supplier": "acme", "sku": "ABC_0002", "amount": "99.99", "days_late": 5},
            {"supplier": "globex", "sku": "not a sku", "amount": "10.00 EUR", "days_late": 1},
            {"supplier": "globex", "sku": "GLX-0420", "amount": "310.10 USD", "days_late": 4},
            {"supplier": "globex", "sku": "GLX-0420", "amount": "12.00 GBP", "days_late": 0},
        ]

    @task
    def clean(rows: list[dict]) -> list[dict]:
        kept = clean_rows(rows)
        print(f"kept {len(kept)} of {len(rows)} rows")
        return kept

    @task
    def scorecard(rows: list[dict]) -> dict:
        from include.acme_airflow.quality import score_supplier as score

        by_supplier: dict[str, list[dict]] = {}
        for row in rows:
            by_supplier.setdefault(row["supplier"], []).append(row)
        card = {supplier: score(found) for supplier, found in sorted(by_supplier.items())}
        print(card)
        return card

    scorecard(clean(extract()))


supplier_scorecard()
