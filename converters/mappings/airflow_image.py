"""Which Airflow providers an image has: whether the fallback can import an operator there.

An operator's provider is read from its qualified name (``airflow.providers.postgres...`` ->
``postgres``; Airflow's own classes need none). The official image ``apache/airflow:<version>``
installs Airflow with the default ``AIRFLOW_EXTRAS`` of its Dockerfile, plus the providers
``apache-airflow-core`` itself requires; :data:`STOCK_PROVIDERS` keeps that list per version,
with where it comes from. A custom image says what it has in ``[tool.af2kfp]``:
``airflow_image_providers = ["postgres", "slack"]`` (or ``"all"``).
"""

from __future__ import annotations

import re

__all__ = ["ALL", "STOCK_IMAGE", "STOCK_PROVIDERS", "PREINSTALLED", "provider_of", "image_providers",
           "stock_version", "package_of"]

ALL = "all"
STOCK_IMAGE = "apache/airflow"
# Providers ``apache-airflow-core`` requires (its Requires-Dist), in every apache/airflow image, ``slim-`` included.
PREINSTALLED: dict[str, frozenset[str]] = {
    "3.3.2": frozenset({"common-compat", "common-io", "common-sql", "smtp", "standard"}),
}
# The providers the default AIRFLOW_EXTRAS of the 3.x production Dockerfile install (apache/airflow
# Dockerfile, ``ARG AIRFLOW_EXTRAS``; the same list in docker-stack-docs/build-arg-ref.rst), each extra
# read through apache-airflow 3.3.2's metadata (``aiobotocore`` -> amazon, ``google-auth`` -> fab,
# ``pandas`` -> common-sql; ``async``, ``graphviz``, ``ldap``, ``statsd``, ``uv`` are no provider).
_EXTRAS_3 = frozenset({
    "amazon", "celery", "cncf-kubernetes", "common-io", "common-messaging", "common-sql", "docker",
    "elasticsearch", "fab", "ftp", "git", "google", "grpc", "hashicorp", "http", "microsoft-azure", "mysql",
    "odbc", "openlineage", "postgres", "redis", "sendgrid", "sftp", "slack", "snowflake", "ssh",
})
STOCK_PROVIDERS: dict[str, frozenset[str]] = {"3.3.2": PREINSTALLED["3.3.2"] | _EXTRAS_3}
# Provider ids of two name parts (``airflow.providers.cncf.kubernetes`` -> ``cncf-kubernetes``).
_NAMESPACES = ("apache", "atlassian", "cncf", "common", "dbt", "microsoft")
# ``apache/airflow:3.3.2``, ``docker.io/apache/airflow:slim-3.3.2-python3.12``.
_STOCK_TAG = re.compile(r"^(?:(?:docker\.io|index\.docker\.io)/)?apache/airflow:(slim-)?(\d+\.\d+\.\d+)(?:-python[\d.]+)?$")


def provider_of(operator: str) -> str | None:
    """The provider id a class comes from (``postgres``, ``cncf-kubernetes``), ``"core"`` for Airflow's own
    classes, ``None`` for a class outside Airflow."""
    parts = operator.split(".")
    if parts[:2] == ["airflow", "providers"] and len(parts) > 3:
        return "-".join(parts[2:4]) if parts[2] in _NAMESPACES else parts[2]
    return "core" if parts[0] == "airflow" else None


def package_of(provider: str) -> str:
    """The distribution that installs a provider: ``apache-airflow-providers-postgres``."""
    return f"apache-airflow-providers-{provider}"


def stock_version(image: str) -> tuple[str, bool] | None:
    """``(version, slim)`` of an official ``apache/airflow`` image tag, else ``None``."""
    found = _STOCK_TAG.match(image)
    return (found.group(2), bool(found.group(1))) if found else None


def image_providers(image: str, declared: tuple[str, ...] | str | None) -> frozenset[str] | str | None:
    """The providers ``image`` has: :data:`ALL`, a set of provider ids, or ``None`` when af2kfp cannot know
    (a custom image whose providers ``airflow_image_providers`` does not list, or a version not in the table)."""
    if declared == ALL:
        return ALL
    if declared is not None:  # besides Airflow itself and what apache-airflow-core requires
        return frozenset(declared) | _CORE
    version = stock_version(image)
    if version is None or version[0] not in STOCK_PROVIDERS:
        return None
    number, slim = version
    return (PREINSTALLED[number] if slim else STOCK_PROVIDERS[number]) | {"core"}


_CORE = PREINSTALLED["3.3.2"] | {"core"}
