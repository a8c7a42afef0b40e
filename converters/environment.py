"""What Airflow would know when it parses the DAGs: Variables, Connections, environment variables.

Read from the files Airflow's own CLI writes (``airflow variables export``, ``airflow
connections export`` as JSON, YAML or ``.env``) and from ``KEY=VALUE`` pairs, so the
analyzer can fold ``Variable.get("x")``, ``{{ var.value.x }}``, ``{{ conn.x.host }}`` and
``os.environ["X"]`` into constants. Secrets never enter: connection passwords are not
read, and a Variable, environment variable or extra whose name or value looks secret (by
Airflow's own list of sensitive names) is dropped here and stays a run-time value.
Pure: no Airflow import, nothing written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from af2kfp.converters.errors import InputError

__all__ = [
    "Connection",
    "Environment",
    "looks_secret",
    "load_variables",
    "load_connections",
    "parse_env_pairs",
    "load_env_file",
    "supply_hint",
    "template_needs",
]

# Airflow's DEFAULT_SENSITIVE_FIELDS (airflow/_shared/secrets_masker), matched as Airflow matches them:
# a substring of the lower-case name with non-word characters as ``_``; plus credential-like words.
_SENSITIVE = (
    "access_key", "access_token", "api_key", "apikey", "auth_header", "authorization", "bearer",
    "connection_string", "dsn", "passphrase", "passwd", "password", "private_key", "proxy", "secret",
    "service_account", "service_key", "token", "keyfile_dict", "webhook_url", "credential", "pwd",
)
_SECRET_VALUE = re.compile(r"://[^/\s:@]*:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# Connection fields the analyzer may use; ``password`` is never read.
_CONNECTION_FIELDS = ("conn_type", "host", "port", "schema", "login")


def looks_secret(name: str, value: Any = None) -> bool:
    """True when a name is one Airflow masks (``db_password``, ``api_token``...) or a value carries a secret.

    A value carries one when it is a URI with a password (``postgres://u:pw@h/db``) or a private key.
    """
    normalized = re.sub(r"\W+", "_", name.strip().lower())
    if any(word in normalized for word in _SENSITIVE):
        return True
    return isinstance(value, str) and bool(_SECRET_VALUE.search(value))


@dataclass(frozen=True, kw_only=True)
class Connection:
    """The non-secret fields of an Airflow Connection; ``extra`` without secret-looking keys."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def value_of(self, name: str) -> Any:
        """``conn.<id>.<name>`` as Airflow's template context gives it; ``None`` when not known here."""
        if name in _CONNECTION_FIELDS:
            return getattr(self, name)
        if name == "extra_dejson":
            return dict(self.extra)
        return None


@dataclass(frozen=True, kw_only=True)
class Environment:
    """Values supplied at conversion time; every field may be empty.

    ``variables``: Variable key -> its stored text (what ``Variable.get`` returns; JSON text for JSON
    Variables); ``connections``: conn id -> :class:`Connection`; ``env``: environment variables;
    ``dropped``: names left out because they look secret (for a note to the user, never their values).
    """

    variables: dict[str, str] = field(default_factory=dict)
    # JSON Variables holding a secret somewhere: readable with deserialize_json only, secret entries removed.
    json_only: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()

    def variable(self, key: str) -> str | None:
        return self.variables.get(key)

    def has_json(self, key: str) -> bool:
        """True when ``Variable.get(key, deserialize_json=True)`` is known (a JSON Variable was supplied)."""
        return key in self.json_only or (key in self.variables and _decoded(self.variables[key]) is not _NOT_JSON)

    def json_variable(self, key: str) -> Any:
        """The Variable decoded as ``Variable.get(key, deserialize_json=True)`` does; ``None`` if unknown."""
        if key in self.json_only:
            return self.json_only[key]
        value = _decoded(self.variables.get(key, ""))
        return None if value is _NOT_JSON else value

    def merged(self, other: "Environment") -> "Environment":
        return Environment(
            variables={**self.variables, **other.variables},
            json_only={**self.json_only, **other.json_only},
            connections={**self.connections, **other.connections},
            env={**self.env, **other.env},
            dropped=tuple(dict.fromkeys([*self.dropped, *other.dropped])),
        )


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read {what}: {exc}") from None


def _has_secret(value: Any, depth: int = 0) -> bool:
    """A JSON value holding a secret-looking key or value anywhere inside."""
    if depth > 20:
        return True
    if isinstance(value, dict):
        return any(looks_secret(str(k), v) or _has_secret(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_secret(item, depth + 1) for item in value)
    return isinstance(value, str) and looks_secret("", value)


def load_variables(path: Path) -> Environment:
    """``airflow variables export`` output: ``{"key": "text"}``; JSON Variables as JSON text (Airflow 2) or as
    the decoded value (Airflow 3); ``{"value": ..., "description": ...}`` when a Variable has a description."""
    try:
        data = json.loads(_read(path, "variables"))
    except ValueError as exc:
        raise InputError(f"{path}: not a JSON file of Airflow Variables: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object of Airflow Variables (as `airflow variables export` writes)")
    variables: dict[str, str] = {}
    json_only: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in data.items():
        key = str(key)
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "description"}:
            value = value["value"]
        text = value if isinstance(value, str) else json.dumps(value, indent=2)
        decoded = _decoded(text)
        if looks_secret(key, text if decoded is _NOT_JSON else None):
            dropped.append(f"Variable {key}")
        elif isinstance(decoded, (dict, list)) and _has_secret(decoded):
            json_only[key] = _without_secrets(decoded)
            dropped.append(f"Variable {key} (its secret-looking entries)")
        elif _has_secret(decoded):
            dropped.append(f"Variable {key}")
        else:
            variables[key] = text
    return Environment(variables=variables, json_only=json_only, dropped=tuple(dropped))


_NOT_JSON = object()


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _without_secrets(value: Any, depth: int = 0) -> Any:
    """A JSON value without its secret-looking entries (key or value)."""
    if depth > 20:
        return None
    if isinstance(value, dict):
        return {k: _without_secrets(v, depth + 1) for k, v in value.items()
                if not (looks_secret(str(k), v) or isinstance(v, str) and looks_secret("", v))}
    if isinstance(value, list):
        return [_without_secrets(v, depth + 1) for v in value if not (isinstance(v, str) and looks_secret("", v))]
    return value


def _extra(raw: Any, conn_id: str, dropped: list[str]) -> dict[str, Any]:
    """Connection extras without the secret-looking ones (their names go to ``dropped``)."""
    if isinstance(raw, str):
        raw = _decoded(raw) if raw.strip() else {}
        raw = {} if raw is _NOT_JSON else raw
    if not isinstance(raw, dict):
        return {}
    kept = {}
    for key, value in raw.items():
        if looks_secret(str(key), value) or _has_secret(value):
            dropped.append(f"Connection {conn_id} extra {key}")
        else:
            kept[str(key)] = value
    return kept


def _connection(conn_id: str, data: dict[str, Any], dropped: list[str]) -> Connection:
    port = data.get("port")
    login = data.get("login")
    if isinstance(login, str) and looks_secret("", login):
        dropped.append(f"Connection {conn_id} login")
        login = None
    return Connection(
        conn_id=conn_id,
        conn_type=data.get("conn_type") or None,
        host=data.get("host") or None,
        port=int(port) if isinstance(port, (int, str)) and str(port).isdigit() else None,
        schema=data.get("schema") or None,
        login=login or None,
        extra=_extra(data.get("extra"), conn_id, dropped),
    )


def _from_uri(conn_id: str, uri: str, dropped: list[str]) -> Connection:
    """An Airflow connection URI (``type://login:password@host:port/schema?extra``), password left out."""
    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra: Any = query.pop("__extra__", None)
    extra = _decoded(extra) if extra is not None else query
    extra = {} if extra is _NOT_JSON else extra
    try:
        port = parts.port
    except ValueError:
        port = None
    return _connection(conn_id, {
        "conn_type": parts.scheme.replace("-", "_") or None, "host": unquote(parts.hostname or "") or None,
        "port": port, "schema": unquote(parts.path.lstrip("/")) or None,
        "login": unquote(parts.username) if parts.username else None, "extra": extra,
    }, dropped)


def load_connections(path: Path) -> Environment:
    """``airflow connections export`` output: JSON (default), YAML (``.yaml``/``.yml``) or ``.env``
    (``conn_id=<URI or JSON>`` per line). Passwords and secret-looking extras are never kept."""
    text = _read(path, "connections")
    dropped: list[str] = []
    connections: dict[str, Connection] = {}
    if path.suffix.lower() == ".env":
        for key, value in _env_lines(text, path):
            decoded = _decoded(value)
            connections[key] = (_connection(key, decoded, dropped) if isinstance(decoded, dict)
                                else _from_uri(key, value, dropped))
        return Environment(connections=connections, dropped=tuple(dropped))
    try:
        data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:  # the message only says where: the file holds passwords
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else f"line {getattr(exc, 'lineno', '?')}"
        raise InputError(f"{path}: not a file of Airflow Connections (syntax error at {where})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of conn_id to connection (as `airflow connections export` "
                         "writes)")
    for conn_id, value in data.items():
        if isinstance(value, str):
            connections[str(conn_id)] = _from_uri(str(conn_id), value, dropped)
        elif isinstance(value, dict):
            connections[str(conn_id)] = _connection(str(conn_id), value, dropped)
        else:
            raise InputError(f"{path}: connection {conn_id!r} is neither a URI nor a mapping of fields")
    return Environment(connections=connections, dropped=tuple(dropped))


def _env_lines(text: str, path: Path) -> list[tuple[str, str]]:
    """``KEY=VALUE`` lines of a dotenv file: ``#`` comments, blank lines, ``export KEY=...``, quoted values."""
    pairs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _NAME.match(key):
            raise InputError(f"{path}:{number}: expected KEY=VALUE")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        pairs.append((key, value))
    return pairs


def _env(pairs: list[tuple[str, str]]) -> Environment:
    env: dict[str, str] = {}
    dropped: list[str] = []
    for key, value in pairs:
        if looks_secret(key, value):
            dropped.append(f"env {key}")
        else:
            env[key] = value
    return Environment(env=env, dropped=tuple(dropped))


def parse_env_pairs(pairs: list[str]) -> Environment:
    """``--env KEY=VALUE`` options."""
    found = []
    for number, pair in enumerate(pairs, start=1):
        key, sep, value = pair.partition("=")
        if not sep or not _NAME.match(key.strip()):  # the text is not echoed: it may hold a secret
            raise InputError(f"--env option {number}: expected KEY=VALUE")
        found.append((key.strip(), value))
    return _env(found)


def load_env_file(path: Path) -> Environment:
    """A dotenv file (``KEY=VALUE`` per line)."""
    return _env(_env_lines(_read(path, "environment file"), path))


def supply_hint(needs: tuple[str, ...] | list[str]) -> str:
    """How to supply what a :class:`~af2kfp.converters.values.Deferred` needs: ``Airflow Variable `x` (--variables FILE)``."""
    parts = []
    for need in dict.fromkeys(needs):
        kind, _, name = need.partition(" ")
        if kind == "Variable":
            parts.append(f"Airflow Variable `{name}` (--variables FILE)")
        elif kind == "Connection":
            parts.append(f"Airflow Connection `{name}` (--connections FILE)")
        elif kind == "env":
            parts.append(f"environment variable `{name}` (--env {name}=VALUE or --env-file FILE)")
        else:
            parts.append(need)
    return ", ".join(parts)


_SUPPLIED = re.compile(r"""\{\{[^}]*?\b(?:var\.(?:value|json)(?:\.get\(\s*['"]|\.|\[['"])([\w.-]+?)['"\].\s}|,]"""
                       r"""|conn\.([\w-]+)\.)""")


def template_needs(text: str) -> list[str]:
    """What a template reads that could be supplied at conversion: ``["Variable x", "Connection db"]``."""
    found = []
    for variable, connection in _SUPPLIED.findall(text):
        found.append(f"Variable {variable}" if variable else f"Connection {connection}")
    return list(dict.fromkeys(found))
