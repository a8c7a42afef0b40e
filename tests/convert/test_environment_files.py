"""The files ``--variables``/``--connections``/``--env-file`` read are the ones Airflow's CLI writes.

Connection files are written by Airflow's own exporter (``airflow connections export``'s
formatter) in a child process, in every format it has; the loader keeps the non-secret fields
and never a password or a secret-looking extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from af2kfp.converters.environment import Connection, load_connections, load_env_file, load_variables, looks_secret
from af2kfp.converters.errors import InputError

SECRETS = ("s3cret!", "BEGIN RSA PRIVATE KEY", "pw-sftp")
EXPORT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from airflow.models import Connection
    from airflow.cli.commands.connection_command import _format_connections

    connections = [
        Connection(conn_id="warehouse", conn_type="postgres", host="db.internal", port=5432, schema="dw",
                   login="etl", password="s3cret!",
                   extra='{"sslmode": "require", "private_key": "-----BEGIN RSA PRIVATE KEY-----x"}'),
        Connection(conn_id="sftp_drop", conn_type="sftp", host="files.example.com", login="acme",
                   password="pw-sftp", extra='{"known_hosts": "files.example.com ssh-ed25519 AAAA"}'),
    ]
    out = Path(sys.argv[1])
    for name, file_format, serialization in (("conns.json", ".json", "json"), ("conns.yaml", ".yaml", "json"),
                                             ("json.env", ".env", "json"), ("uri.env", ".env", "uri")):
        (out / name).write_text(_format_connections(connections, file_format, serialization))
""")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    pytest.importorskip("airflow", reason="Airflow writes the files")
    folder = tmp_path_factory.mktemp("exported")
    env = {**os.environ, "AIRFLOW_HOME": str(folder / "home"), "AIRFLOW__CORE__UNIT_TEST_MODE": "True"}
    done = subprocess.run([sys.executable, "-c", EXPORT, str(folder)], env=env, capture_output=True, text=True,
                          timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


@pytest.mark.airflow
@pytest.mark.parametrize("name", ["conns.json", "conns.yaml", "json.env", "uri.env"])
def test_every_export_format_gives_the_non_secret_fields(exported, name):
    environment = load_connections(exported / name)
    assert environment.connections == {
        "warehouse": Connection(conn_id="warehouse", conn_type="postgres", host="db.internal", port=5432,
                                schema="dw", login="etl", extra={"sslmode": "require"}),
        "sftp_drop": Connection(conn_id="sftp_drop", conn_type="sftp", host="files.example.com", login="acme",
                                extra={"known_hosts": "files.example.com ssh-ed25519 AAAA"}),
    }
    assert environment.dropped == ("Connection warehouse extra private_key",)
    assert not any(secret in repr(environment) for secret in SECRETS)


def test_variables_export_of_airflow_2_and_3_read_alike(tmp_path):
    airflow2 = tmp_path / "v2.json"  # values as stored: JSON Variables as JSON text
    airflow2.write_text(json.dumps({"env": "prod", "cfg": '{"region": "eu", "tiers": [1, 2]}', "n": "3"}))
    airflow3 = tmp_path / "v3.json"  # Airflow 3 decodes JSON Variables; a description wraps the value
    airflow3.write_text(json.dumps({"env": {"value": "prod", "description": "where this runs"},
                                    "cfg": {"region": "eu", "tiers": [1, 2]}, "n": "3"}))
    for path in (airflow2, airflow3):
        environment = load_variables(path)
        assert environment.variable("env") == "prod" and environment.variable("n") == "3"
        assert environment.json_variable("cfg") == {"region": "eu", "tiers": [1, 2]}


def test_secret_looking_variables_never_enter(tmp_path):
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({
        "db_password": "hunter2", "api_token": "t0k", "warehouse_uri": "postgres://u:hunter3@db/x",
        "service": {"url": "https://svc", "client_secret": "hunter4"}, "region": "eu",
    }))
    environment = load_variables(path)
    assert environment.variables == {"region": "eu"}
    assert environment.json_variable("service") == {"url": "https://svc"}  # readable with its secret removed
    assert environment.variable("service") is None
    assert not any(secret in repr(environment) for secret in ("hunter2", "t0k", "hunter3", "hunter4"))
    assert sorted(environment.dropped) == ["Variable api_token", "Variable db_password",
                                           "Variable service (its secret-looking entries)", "Variable warehouse_uri"]


def test_env_file_lines_and_errors_name_the_line(tmp_path):
    path = tmp_path / "deploy.env"
    path.write_text("# deployment\nexport TEAM=growth\nREGION='eu-west1'\n\nDB_PASSWORD=hunter2\n")
    environment = load_env_file(path)
    assert environment.env == {"TEAM": "growth", "REGION": "eu-west1"}
    assert environment.dropped == ("env DB_PASSWORD",)
    path.write_text("TEAM=growth\nnot a pair\n")
    with pytest.raises(InputError, match=r"deploy.env:2: expected KEY=VALUE"):
        load_env_file(path)


def test_bad_connection_file_error_says_where_not_what(tmp_path):
    path = tmp_path / "conns.yaml"
    path.write_text("warehouse:\n  password: hunter2\n  host: [unclosed\n")
    with pytest.raises(InputError) as raised:
        load_connections(path)
    assert "conns.yaml" in str(raised.value) and "line" in str(raised.value)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(("name", "value", "secret"), [
    ("db_password", "x", True), ("GITHUB_TOKEN", "x", True), ("slack_webhook_url", "x", True),
    ("snowflake_credentials", "x", True), ("target_table", "x", False), ("max_tokens", "5", True),
    ("db_uri", "postgres://user:pw@host/db", True), ("bucket", "gs://b/x", False),
])
def test_what_looks_secret_follows_airflows_sensitive_names(name, value, secret):
    assert looks_secret(name, value) is secret
