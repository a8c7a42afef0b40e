"""The provider as Airflow sees it (entry point, connection type, UI form, link) and the
connection -> KFP client mapping of KfpHook (auth methods, TLS, secrets kept out of sight)."""

from __future__ import annotations

import json
import logging

import pytest

from af2kfp.airflow_plugins.get_provider_info import get_provider_info
from af2kfp.airflow_plugins.hooks.kfp import KfpHook, config_from_connection
from af2kfp.bridge.kfp import BearerToken, NoAuth, RetryPolicy, SessionCookie, TokenFile

pytestmark = pytest.mark.airflow

SECRET = "s3cr3t-token-value-xyz"


def _conn(**fields):
    from airflow.models.connection import Connection

    extra = fields.pop("extra", None)
    return Connection(
        conn_id="kfp_t",
        conn_type="kubeflow_pipelines",
        extra=json.dumps(extra) if extra is not None else None,
        **fields,
    )


def test_provider_info_validates_against_airflows_schema():
    import importlib.resources

    import jsonschema

    schema = json.loads(
        importlib.resources.files("airflow").joinpath("provider_info.schema.json").read_text()
    )
    jsonschema.validate(get_provider_info(), schema)


def test_providers_manager_discovers_the_provider_through_the_entry_point():
    from airflow.providers_manager import ProvidersManager

    from tests.provider.airflow_versions import AIRFLOW_3

    manager = ProvidersManager()
    assert manager.providers["af2kfp"].data["name"] == "Kubeflow Pipelines (af2kfp)"
    if AIRFLOW_3:  # hooks moved to the Task SDK's runtime manager
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

        hook = ProvidersManagerTaskRuntime().hooks["kubeflow_pipelines"]
    else:
        hook = manager.hooks["kubeflow_pipelines"]
    assert (hook.hook_class_name, hook.hook_name, hook.connection_id_attribute_name) == (
        "af2kfp.airflow_plugins.hooks.kfp.KfpHook",
        "Kubeflow Pipelines",
        "kfp_conn_id",
    )
    assert hook.connection_testable
    assert "af2kfp.airflow_plugins.links.kfp.KfpRunLink" in manager.extra_links_class_names
    assert "af2kfp.airflow_plugins.triggers.kfp" in {t.trigger_class_name for t in manager.trigger}
    behaviour = manager.field_behaviours["kubeflow_pipelines"]
    assert behaviour["relabeling"]["host"] == "KFP API URL"
    assert {"schema", "port", "login"} <= set(behaviour["hidden_fields"])
    widgets = {k.rsplit("__", 1)[1] for k in manager.connection_form_widgets if "kubeflow_pipelines" in k}
    assert widgets == {
        "ui_host",
        "namespace",
        "auth_method",
        "token_file",
        "ca_bundle",
        "verify",
        "timeout",
        "retries",
        "retry_backoff",
    }


def test_field_behaviour_for_older_airflow_matches_the_declared_one():
    import importlib.resources

    import jsonschema

    schema = json.loads(
        importlib.resources.files("airflow")
        .joinpath("customized_form_field_behaviours.schema.json")
        .read_text()
    )
    behaviour = KfpHook.get_ui_field_behaviour()
    jsonschema.validate(behaviour, schema)
    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert behaviour["relabeling"] == declared["relabeling"]
    assert behaviour["hidden_fields"] == declared["hidden-fields"]


def test_connection_type_defaults():
    assert (KfpHook.conn_type, KfpHook.default_conn_name, KfpHook.hook_name) == (
        "kubeflow_pipelines",
        "kfp_default",
        "Kubeflow Pipelines",
    )


@pytest.mark.parametrize(
    ("fields", "auth_type"),
    [
        ({"password": SECRET}, BearerToken),
        ({"password": SECRET, "extra": {"auth_method": "bearer"}}, BearerToken),
        ({"password": "authservice_session=" + SECRET, "extra": {"auth_method": "cookie"}}, SessionCookie),
        ({"extra": {"token_file": "/var/run/token"}}, TokenFile),
        ({"extra": {"auth_method": "token_file"}}, TokenFile),
        ({}, NoAuth),
        ({"password": SECRET, "extra": {"auth_method": "none"}}, NoAuth),
        ({"extra": {"extra__kubeflow_pipelines__auth_method": "token_file"}}, TokenFile),  # old prefixed form
    ],
)
def test_auth_method_from_the_connection(fields, auth_type):
    config = config_from_connection(_conn(host="https://kfp.example.com/pipeline", **fields))
    assert type(config.auth) is auth_type
    assert SECRET not in repr(config)


def test_connection_fields_map_to_the_client_config(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    conn = _conn(
        host="https://kfp.example.com/pipeline/",
        extra={
            "ui_host": "https://ui.example.com",
            "namespace": "team-a",
            "ca_bundle": str(bundle),
            "timeout": 5,
        },
    )
    config = config_from_connection(conn)
    assert (config.host, config.ui_base, config.namespace, config.verify, config.timeout) == (
        "https://kfp.example.com/pipeline",
        "https://ui.example.com",
        "team-a",
        str(bundle),
        5.0,
    )
    assert config_from_connection(conn, namespace="team-b").namespace == "team-b"
    assert config_from_connection(_conn(host="https://h", extra={"verify": "false"})).verify is False
    assert config_from_connection(_conn(host="https://h", extra={"verify": False})).verify is False
    assert config_from_connection(_conn(host="https://h")).verify is True


def test_retries_come_from_the_connection():
    config = config_from_connection(_conn(host="https://h", extra={"retries": "2", "retry_backoff": 0.05}))
    assert (config.retry.max_attempts, config.retry.initial_backoff) == (2, 0.05)
    assert config_from_connection(_conn(host="https://h")).retry.max_attempts == 5
    assert (
        config_from_connection(_conn(host="https://h"), retry=RetryPolicy(max_attempts=1)).retry.max_attempts
        == 1
    )


def test_uri_style_connection_builds_the_url():
    conn = _conn(host="kfp.internal", port=8888, schema="pipeline", extra={"scheme": "http"})
    assert config_from_connection(conn).host == "http://kfp.internal:8888/pipeline"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "set the host to the KFP API URL"),
        ({"host": "https://h", "extra": {"auth_method": "oauth"}}, "auth_method 'oauth' is not one of"),
        ({"host": "https://h", "extra": {"auth_method": "cookie"}}, "auth_method cookie needs the password"),
        (
            {"host": "https://h", "password": "nocookie", "extra": {"auth_method": "cookie"}},
            "must look like 'name=value'",
        ),
        (
            {"host": "https://h", "extra": {"ca_bundle": "/nonexistent/ca.pem"}},
            "CA bundle /nonexistent/ca.pem",
        ),
    ],
)
def test_bad_connections_say_what_is_wrong(fields, error):
    from af2kfp.airflow_plugins._compat import AirflowException

    with pytest.raises(AirflowException, match="connection 'kfp_t': .*" + error.replace("(", r"\(")):
        config_from_connection(_conn(**fields))


def test_test_connection_calls_healthz_with_the_token(kfp, monkeypatch, caplog):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KFP_AUTH",
        json.dumps({"conn_type": "kubeflow_pipelines", "host": kfp.url, "password": SECRET}),
    )
    caplog.set_level(logging.DEBUG)
    kfp.reset_stats()
    assert KfpHook("kfp_auth").test_connection() == (True, "KFP API reachable (multi-user: False)")
    assert kfp.stats().get("GET /apis/v2beta1/healthz") == 1
    assert SECRET not in caplog.text


def test_test_connection_reports_an_unreachable_server(monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    monkeypatch.setenv(
        "AIRFLOW_CONN_KFP_DOWN",
        json.dumps(
            {"conn_type": "kubeflow_pipelines", "host": f"http://127.0.0.1:{port}", "password": SECRET}
        ),
    )
    ok, message = KfpHook("kfp_down", retry=RetryPolicy(max_attempts=1)).test_connection()
    assert not ok
    assert "healthz" in message and "no response" in message
    assert SECRET not in message


def test_an_api_error_never_shows_the_secret(kfp, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KFP_COOKIE",
        json.dumps(
            {
                "conn_type": "kubeflow_pipelines",
                "host": kfp.url,
                "password": "authservice_session=" + SECRET,
                "extra": {"auth_method": "cookie"},
            }
        ),
    )
    hook = KfpHook("kfp_cookie", retry=RetryPolicy(max_attempts=1))
    kfp.fault("status", count=1, status=401, path="/apis/v2beta1/runs/*")
    from af2kfp.bridge.kfp import KfpAuthError

    with pytest.raises(KfpAuthError) as info:
        hook.client.get_run("r-1")
    assert SECRET not in str(info.value) and SECRET not in repr(hook.client)
