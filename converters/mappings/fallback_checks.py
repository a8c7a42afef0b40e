"""Whether an operator the fallback runs behaves in its KFP task as it did in Airflow.

The fallback's task is ``converted`` only when nothing here objects: the class is installed in
``Config.airflow_image`` (:mod:`.airflow_image`), and the operator needs nothing of Airflow a KFP
task lacks (the metadata database, the triggerer, other tasks' XComs, Variables, DAG params,
template files beside the DAG, a skipped state). Each objection is a sentence for a finding.
"""

from __future__ import annotations

import re
from typing import Any

from af2kfp.converters.config import Config
from af2kfp.converters.mappings.airflow_image import ALL, STOCK_IMAGE, image_providers, package_of, provider_of, stock_version
from af2kfp.converters.values import Call

__all__ = ["missing_package", "differences", "default_connection", "reads_run_dates", "connection_hook"]

# Modules Airflow 3 still has under airflow.operators / airflow.sensors (deprecated re-exports of today's classes).
_KEPT = {"airflow.operators": {"python", "bash", "datetime", "generic_transfer", "weekday", "trigger_dagrun",
                               "latest_only", "empty", "email", "smooth", "branch", "subdag"},
         "airflow.sensors": {"base", "python", "bash", "date_time", "time_sensor", "weekday", "time_delta",
                             "filesystem", "external_task"}}
# What a class needs of Airflow that a KFP task does not have, by class name.
_NEEDS_AIRFLOW = {
    "ExternalTaskSensor": "it reads the other DAG's runs from Airflow's metadata database, which a KFP task cannot "
                          "reach; make the pipeline wait for the other pipeline another way, or set sensors = "
                          '"skip" and start it after that pipeline',
    "TriggerDagRunOperator": "it starts a run of another DAG through Airflow, which a KFP task cannot reach; start "
                             "the other pipeline from KFP instead",
    "LatestOnlyOperator": "it skips its downstream tasks in all runs but the latest, which KFP cannot do",
}
_SKIPS_DOWNSTREAM = "it skips the downstream tasks it does not follow, which a KFP task cannot do: they all run"
# Arguments Airflow reads a file for (the operator's template_ext) when their value ends so.
_TEMPLATE_FILES = {"sql": (".sql", ".hql", ".json"), "bash_command": (".sh", ".bash"), "html_content": (".html",)}
# Default connection ids of operators that read one when no ``*conn_id`` argument is given, by provider.
_DEFAULT_CONNECTIONS = {
    "amazon": "aws_default", "google": "google_cloud_default", "postgres": "postgres_default",
    "mysql": "mysql_default", "http": "http_default", "slack": "slack_api_default", "snowflake": "snowflake_default",
    "sftp": "sftp_default", "dbt-cloud": "dbt_cloud_default", "smtp": "smtp_default", "sqlite": "sqlite_default",
}
_FILE_SENSOR = "FileSensor"
# Classes that read the run's dates in execute (not only through templates).
_DATED = {"TimeDeltaSensor", "TimeDeltaSensorAsync", "DayOfWeekSensor", "BranchDayOfWeekOperator",
          "BranchDateTimeOperator"}
# Providers whose hooks common-sql's classes pick by the connection's type (``conn_type`` -> provider).
_SQL_PROVIDERS = ("amazon", "google", "microsoft-azure", "mysql", "odbc", "postgres", "snowflake")
_XCOM_PULL = re.compile(r"{[{%][^}]*\bxcom_pull\b")
_VARIABLE = re.compile(r"{[{%][^}]*\bvar\.(?:value|json)\.([A-Za-z_][\w-]*)")
_PARAM = re.compile(r"{[{%][^}]*\bparams(?:\.([A-Za-z_]\w*)|\[['\"]([^'\"]+)['\"]\])")


def _gone(operator: str) -> bool:
    """An Airflow 1.10/2 import path today's Airflow does not have (``airflow.operators.postgres_operator``)."""
    if operator.startswith("airflow.contrib."):
        return True
    for package, kept in _KEPT.items():
        if operator.startswith(package + "."):
            return operator[len(package) + 1:].split(".", 1)[0] not in kept
    return False


def missing_package(operator: str, config: Config, explicit: bool, also: str | None = None) -> str | None:
    """Why ``config.airflow_image`` may not have ``operator``'s class (with the fix), or ``None`` when it has it.

    ``explicit``: the user mapped the class to ``fallback``; ``also``: another provider it needs (a hook's)."""
    image = config.airflow_image
    name = operator.rsplit(".", 1)[-1]
    if _gone(operator):
        return (f"{operator} is an import path of Airflow 1.10 that today's Airflow does not have; import {name} from "
                "its provider package (airflow.providers...) in the DAG, or build an image that has the old module")
    providers = image_providers(image, config.airflow_image_providers)
    if providers == ALL:
        return None
    needed = [p for p in (provider_of(operator), also) if p is not None]
    if not needed:  # a class of the user's, mapped to "fallback": a custom image is theirs to fill
        if stock_version(image) is None:
            return None
        return (f"{image} does not have {operator.rsplit('.', 1)[0]}: build an image FROM {image} with the package "
                "installed and set airflow_image to it")
    if providers is None:
        return (f"af2kfp does not know which providers {image} has: list them in [tool.af2kfp] airflow_image_providers "
                f'(for example ["{needed[-1]}"], or "all")')
    assert isinstance(providers, frozenset)
    missing = [p for p in needed if p not in providers]
    if not missing:
        return None
    packages = " ".join(package_of(p) for p in missing)
    base = image if stock_version(image) else f"{STOCK_IMAGE}:3.3.2"
    return (f"{name} needs {packages}, which {image} does not have: build an image FROM {base} with "
            f"`pip install {packages}`, set airflow_image to it and list {', '.join(missing)} in airflow_image_providers")


def _strings(value: Any) -> list[str]:
    """The known strings inside a resolved value (an unknown one comes from a pipeline parameter, not rendered)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, Call):
        return _strings([*value.args, *value.kwargs.values()])
    return []


def _template_files(kwargs: dict[str, Any]) -> list[str]:
    found = []
    for argument, suffixes in _TEMPLATE_FILES.items():
        value = kwargs.get(argument)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and "{{" not in item and item.strip().endswith(suffixes):
                found.append(item.strip())
    return found


def differences(operator: str, kwargs: dict[str, Any]) -> list[str]:
    """What would not happen as in Airflow when the KFP task runs the operator, one sentence each."""
    name = operator.rsplit(".", 1)[-1]
    found = []
    if name in _NEEDS_AIRFLOW:
        found.append(f"{name}: {_NEEDS_AIRFLOW[name]}")
    elif "Branch" in name:
        found.append(f"{name}: {_SKIPS_DOWNSTREAM}")
    if name.endswith("Async"):
        found.append(f"{name} defers to Airflow's triggerer: the runner runs its trigger inside the task's container "
                     "instead (the pod waits); use the class without Async if the wait should poke")
    if kwargs.get("soft_fail") is True:
        found.append("soft_fail=True: Airflow skips the sensor and its downstream tasks when it times out; KFP has no "
                     "skipped state, so the task succeeds and the downstream tasks run")
    text = "\n".join(_strings(kwargs))
    if _XCOM_PULL.search(text):
        found.append("a template reads other tasks' XComs (xcom_pull), which the runner's task instance does not "
                     "have (it returns None); pass the value as an argument from the upstream task's output")
    variables = sorted(set(_VARIABLE.findall(text)))
    if variables:
        found.append(f"a template reads Airflow Variable(s) {', '.join(variables)}, which the container does not have; "
                     "supply their values at conversion (--variables) or as AIRFLOW_VAR_<NAME> variables of the task")
    own = kwargs.get("params") if isinstance(kwargs.get("params"), dict) else {}
    params = sorted({a or b for a, b in _PARAM.findall(text)} - set(own))
    if params:
        found.append(f"a template reads DAG param(s) {', '.join(params)}, which the runner does not receive (only the "
                     "task's own params); pass them in the task's params argument")
    files = _template_files(kwargs)
    if files:
        found.append(f"it reads template file(s) {', '.join(files)} from the DAG folder, which the image does not "
                     "have; put the text in the argument, or build an image with the files on the template search path")
    return found


def default_connection(operator: str, kwargs: dict[str, Any]) -> str | None:
    """The connection the operator reads when no ``*conn_id`` argument names one (``google_cloud_default``)."""
    if any(name.endswith("conn_id") and value for name, value in kwargs.items()):
        return None
    if operator.rsplit(".", 1)[-1] == _FILE_SENSOR:
        return "fs_default"
    provider = provider_of(operator)
    return _DEFAULT_CONNECTIONS.get(provider) if provider else None


def reads_run_dates(operator: str) -> bool:
    """True when the class reads the run's dates itself (``TimeDeltaSensor`` waits from the interval's end)."""
    return operator.rsplit(".", 1)[-1] in _DATED


# Airflow connection types whose hook a common-sql class uses -> the provider that has the hook
_SQL_CONN_TYPES = {"postgres": "postgres", "mysql": "mysql", "sqlite": "sqlite", "mssql": "microsoft-mssql",
                   "snowflake": "snowflake", "odbc": "odbc", "oracle": "oracle", "trino": "trino",
                   "presto": "presto", "vertica": "vertica", "exasol": "exasol", "jdbc": "jdbc",
                   "google_cloud_platform": "google", "gcpbigquery": "google", "redshift": "amazon",
                   "aws": "amazon", "databricks": "databricks", "teradata": "teradata"}


def connection_hook(operator: str, kwargs: dict[str, Any], config: Config) -> tuple[str | None, bool]:
    """For a common-sql class (its hook is the connection type's), a sentence on which hook it gets, and
    whether the image is known to serve that connection's type; ``(None, True)`` for any other class.

    The type is known only from a connection supplied at conversion (``--connections``): without it
    the task may fail in the image, so the caller keeps it for review."""
    if provider_of(operator) != "common-sql":
        return None, True
    providers = image_providers(config.airflow_image, config.airflow_image_providers)
    if providers == ALL:
        return None, True
    served = sorted(set(_SQL_PROVIDERS) & providers) if isinstance(providers, frozenset) else []
    has = (f"{config.airflow_image} has {', '.join(served)}; " if served else "")
    conn_id = next((v for k, v in sorted(kwargs.items()) if k.endswith("conn_id") and isinstance(v, str)), None)
    connection = config.environment.connections.get(conn_id) if conn_id else None
    conn_type = connection.conn_type if connection is not None else None
    if conn_type is None:
        return ("its hook comes from the type of connection "
                + (f"'{conn_id}'" if conn_id else "it names") + ", not known at conversion: supply the connection "
                "with --connections so af2kfp can check the image has its provider (" + has
                + "another type, as sqlite or mssql, needs its apache-airflow-providers-<type>)"), False
    provider = _SQL_CONN_TYPES.get(conn_type)
    if provider is not None and isinstance(providers, frozenset) and provider in providers:
        return f"connection '{conn_id}' is {conn_type}, whose provider the image has", True
    return (f"connection '{conn_id}' is {conn_type}, whose hook needs "
            f"{package_of(provider) if provider else 'its provider package'}, which {config.airflow_image} "
            "does not have: build an image FROM it with that package and set airflow_image"), False
