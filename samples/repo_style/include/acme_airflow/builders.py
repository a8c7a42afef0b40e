"""Task builders: one call, one fully configured task."""

from __future__ import annotations

from typing import Any

from airflow.models import Variable

from include.acme_airflow.operators import DbtOperator


def dbt_model(model: str, *, full_refresh: bool | None = None, **kwargs: Any) -> DbtOperator:
    """Build and test one dbt model (and what it selects with ``+``), as task ``dbt_<model>``.

    A full refresh is switched on for every model at once with the ``dbt_full_refresh`` Variable.
    """
    if full_refresh is None:
        full_refresh = Variable.get("dbt_full_refresh", default_var="false") == "true"
    return DbtOperator(
        task_id=f"dbt_{model.strip('+')}",
        select=model,
        full_refresh=full_refresh,
        retries=2,
        **kwargs,
    )
