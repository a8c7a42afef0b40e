"""Airflow names this provider needs, imported from the Task SDK on Airflow 3 and from the
old core modules on Airflow 2.10+, so the other modules import them from one place."""

from __future__ import annotations

from typing import Any

try:  # Airflow 3
    from airflow.sdk import BaseHook, BaseOperator, BaseOperatorLink, BaseSensorOperator
    from airflow.sdk.execution_time.xcom import XCom
except ImportError:  # Airflow 2.10+
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
    from airflow.models import BaseOperator  # type: ignore[no-redef]
    from airflow.models.baseoperatorlink import BaseOperatorLink  # type: ignore[no-redef]
    from airflow.models.xcom import XCom  # type: ignore[no-redef]
    from airflow.sensors.base import BaseSensorOperator  # type: ignore[no-redef]

try:  # Airflow 3
    from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout
except ImportError:  # Airflow 2.10+
    from airflow.exceptions import AirflowException, AirflowSensorTimeout  # type: ignore[no-redef]

try:  # Airflow 3
    from airflow.sdk.configuration import conf
except ImportError:  # Airflow 2.10+
    from airflow.configuration import conf  # type: ignore[no-redef]
from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = [
    "AirflowException",
    "AirflowSensorTimeout",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "TriggerEvent",
    "XCom",
    "default_deferrable",
    "task_state_store",
]


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, read when an operator is built (as Airflow's own do)."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)


def task_state_store(context: Any) -> Any | None:
    """The task state store of Airflow 3.3+ (survives retries of one task instance), else None."""
    return context.get("task_state_store")
