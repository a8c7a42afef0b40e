"""Airflow's exception classes a component defines itself, by name: one table for the analyzer and the mappings.

The analyzer lets a repository helper's ``from airflow.exceptions import X`` travel when ``X``
is here (:mod:`af2kfp.converters.analysis.carry`); the mapping defines the classes the component
uses, once, with these bases (:mod:`af2kfp.converters.mappings.airflow_exceptions`).
"""

from __future__ import annotations

__all__ = ["EXCEPTION_BASES", "EXCEPTION_MODULES"]

# Class -> its bases, as Airflow 3 defines them (airflow.sdk.exceptions, airflow.exceptions).
EXCEPTION_BASES: dict[str, tuple[str, ...]] = {
    "AirflowException": ("Exception",),
    "AirflowSkipException": ("AirflowException",),
    "AirflowFailException": ("AirflowException",),
    "AirflowNotFoundException": ("AirflowException",),
    "AirflowBadRequest": ("AirflowException",),
    "AirflowSensorTimeout": ("AirflowException",),
    "AirflowOptionalProviderFeatureException": ("AirflowException",),
    "ParamValidationError": ("AirflowException", "ValueError"),
    "AirflowConfigException": ("Exception",),
    "AirflowTaskTimeout": ("BaseException",),
}
# Module -> the classes of EXCEPTION_BASES it has.
EXCEPTION_MODULES = {
    "airflow.exceptions": frozenset(EXCEPTION_BASES),
    "airflow.sdk.exceptions": frozenset(EXCEPTION_BASES) - {"AirflowBadRequest"},
}
