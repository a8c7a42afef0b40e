"""Operator classes today's Airflow no longer has, and the class Airflow names as their replacement.

A DAG written for Airflow 1.10 imports ``airflow.operators.postgres_operator.PostgresOperator``;
providers later dropped their thin SQL subclasses for ``SQLExecuteQueryOperator``. The fallback
runs the replacement, with the arguments renamed as the old class passed them on (the old
``PostgresOperator.__init__`` did ``super().__init__(conn_id=postgres_conn_id,
hook_params={"database": database})``), so the image need not have the old class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Moved", "MOVED", "replacement"]

_SQL = "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator"


@dataclass(frozen=True, kw_only=True)
class Moved:
    """Today's class for an old one: ``renamed`` old argument -> new argument, or ``(argument, key)`` for a
    key of a dict argument (``database`` -> ``hook_params["database"]``); ``defaults`` are arguments
    the old class filled in that the new one needs (the old default connection id); ``needs`` the
    provider the old class came from when the new class lives elsewhere (its hook); ``gone`` old arguments
    the new class does not take -> what replaces them."""

    to: str
    renamed: dict[str, str | tuple[str, str]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    needs: str | None = None
    gone: dict[str, str] = field(default_factory=dict)


def _sql(conn_arg: str, default_conn: str, provider: str, database_key: str | None) -> Moved:
    renamed: dict[str, str | tuple[str, str]] = {conn_arg: "conn_id"}
    if database_key is not None:
        renamed["database"] = ("hook_params", database_key)
    return Moved(to=_SQL, renamed=renamed, defaults={"conn_id": default_conn}, needs=provider)


_POSTGRES = _sql("postgres_conn_id", "postgres_default", "postgres", "database")
_MYSQL = _sql("mysql_conn_id", "mysql_default", "mysql", "schema")
_SQLITE = _sql("sqlite_conn_id", "sqlite_default", "sqlite", None)
_EMAIL = Moved(to="airflow.providers.smtp.operators.smtp.EmailOperator")
_HTTP = Moved(to="airflow.providers.http.operators.http.HttpOperator")

MOVED: dict[str, Moved] = {
    "airflow.operators.postgres_operator.PostgresOperator": _POSTGRES,
    "airflow.providers.postgres.operators.postgres.PostgresOperator": _POSTGRES,
    "airflow.operators.mysql_operator.MySqlOperator": _MYSQL,
    "airflow.providers.mysql.operators.mysql.MySqlOperator": _MYSQL,
    "airflow.operators.sqlite_operator.SqliteOperator": _SQLITE,
    "airflow.providers.sqlite.operators.sqlite.SqliteOperator": _SQLITE,
    "airflow.operators.email_operator.EmailOperator": _EMAIL,
    "airflow.operators.email.EmailOperator": _EMAIL,
    "airflow.operators.http_operator.SimpleHttpOperator": _HTTP,
    "airflow.providers.http.operators.http.SimpleHttpOperator": _HTTP,
    "airflow.sensors.http_sensor.HttpSensor": Moved(to="airflow.providers.http.sensors.http.HttpSensor"),
    "airflow.sensors.sql_sensor.SqlSensor": Moved(to="airflow.providers.common.sql.sensors.sql.SqlSensor"),
    "airflow.sensors.sql.SqlSensor": Moved(to="airflow.providers.common.sql.sensors.sql.SqlSensor"),
    "airflow.operators.slack_operator.SlackAPIPostOperator": Moved(
        to="airflow.providers.slack.operators.slack.SlackAPIPostOperator",
        gone={"token": "today's class reads the token from a Slack connection (slack_conn_id)"}),
}


def replacement(operator: str, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any], list[str]] | None:
    """Today's class, its keyword arguments and what changed (``postgres_conn_id -> conn_id``), or ``None``
    when ``operator`` did not move."""
    moved = MOVED.get(operator)
    if moved is None:
        return None
    out: dict[str, Any] = {}
    changes: list[str] = []
    for name, value in kwargs.items():
        target = moved.renamed.get(name, name)
        if isinstance(target, tuple):
            argument, key = target
            base = out.get(argument, kwargs.get(argument, {}))
            out[argument] = {key: value, **(base if isinstance(base, dict) else {})}
            changes.append(f'{name} -> {argument}["{key}"]')
        elif name not in out:
            out[target] = value
            if target != name:
                changes.append(f"{name} -> {target}")
    for name, value in moved.defaults.items():
        if name not in out:
            out[name] = value
            changes.append(f"{name}={value!r} (the old default)")
    return moved.to, out, changes
