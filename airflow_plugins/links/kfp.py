"""The "KFP run" extra link: the operator pushes the run's UI address to XCom right after
submission, and the link reads it back, so it works while the run is still going."""

from __future__ import annotations

from typing import Any

from af2kfp.airflow_plugins._compat import BaseOperatorLink, XCom

__all__ = ["XCOM_EXPERIMENT_ID", "XCOM_RUN_ID", "XCOM_RUN_URL", "KfpRunLink"]

XCOM_RUN_ID = "run_id"
XCOM_RUN_URL = "run_url"
XCOM_EXPERIMENT_ID = "experiment_id"


class KfpRunLink(BaseOperatorLink):
    """Opens the KFP UI page of the run a task submitted or waited on."""

    name = "KFP run"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return XCom.get_value(ti_key=ti_key, key=XCOM_RUN_URL) or ""
