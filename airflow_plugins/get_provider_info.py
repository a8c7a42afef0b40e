"""What Airflow's ProvidersManager reads through the ``apache_airflow_provider`` entry point:
the modules of this provider, its connection type with its UI form (declared here, so the
UI needs no hook import), and its extra link. Kept free of imports: Airflow calls it early."""

from __future__ import annotations

from typing import Any

__all__ = ["CONN_TYPE", "connection_type_info", "get_provider_info"]

CONN_TYPE = "kubeflow_pipelines"
_INTEGRATION = "Kubeflow Pipelines"


def _string(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"], **schema}}


def connection_type_info() -> dict[str, Any]:
    """The ``kubeflow_pipelines`` connection type: hook, form fields and field behaviour."""
    return {
        "connection-type": CONN_TYPE,
        "hook-class-name": "af2kfp.airflow_plugins.hooks.kfp.KfpHook",
        "hook-name": _INTEGRATION,
        "conn-fields": {
            "ui_host": _string(
                "KFP UI URL",
                "Where run links point, when the UI is not served at the API URL.",
            ),
            "namespace": _string("Namespace", "Kubeflow profile namespace (multi-user clusters)."),
            "auth_method": _string(
                "Auth method",
                "bearer: the password is a bearer token; cookie: the password is a session cookie "
                "(name=value, Dex/oauth2-proxy); token_file: a service-account token file re-read "
                "on every request; none. Empty: bearer if a password is set, else token_file if a "
                "token file is set, else none.",
                enum=["bearer", "token_file", "cookie", "none", None],
            ),
            "token_file": _string(
                "Token file",
                "Path of a service-account token, e.g. /var/run/secrets/kubeflow/pipelines/token.",
            ),
            "ca_bundle": _string("CA bundle", "Path of a PEM file to verify the server's certificate."),
            "timeout": {
                "label": "Request timeout",
                "description": "Seconds to wait for each KFP API answer (default 30).",
                "schema": {"type": ["number", "null"]},
            },
            "retries": {
                "label": "Attempts per API call",
                "description": "Tries of one call on 5xx, 429 and connection errors (default 5).",
                "schema": {"type": ["integer", "null"], "minimum": 1},
            },
            "retry_backoff": {
                "label": "First retry delay",
                "description": "Seconds before the first retry, doubling after each (default 0.5).",
                "schema": {"type": ["number", "null"], "minimum": 0},
            },
            "verify": {
                "label": "Verify TLS",
                "description": "Turn off only for a test cluster; a warning is logged.",
                "schema": {"type": ["boolean", "null"], "default": True},
            },
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port", "login"],
            "relabeling": {"host": "KFP API URL", "password": "Token or cookie"},
            "placeholders": {
                "host": "https://kubeflow.example.com/pipeline",
                "password": "bearer token, or cookie name=value",
                "ui_host": "https://kubeflow.example.com/pipeline",
                "namespace": "kubeflow-user-example-com",
                "token_file": "/var/run/secrets/kubeflow/pipelines/token",
            },
        },
    }


def get_provider_info() -> dict[str, Any]:
    """The provider description, in the shape of Airflow's ``provider_info.schema.json``."""

    def modules(kind: str) -> list[dict[str, Any]]:
        return [{"integration-name": _INTEGRATION, "python-modules": [f"af2kfp.airflow_plugins.{kind}.kfp"]}]

    return {
        "package-name": "af2kfp",
        "name": "Kubeflow Pipelines (af2kfp)",
        "description": "Run, wait on and upload Kubeflow Pipelines v2 pipelines from Airflow.",
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://www.kubeflow.org/docs/components/pipelines/",
                "tags": ["software"],
            }
        ],
        "hooks": modules("hooks"),
        "operators": modules("operators"),
        "sensors": modules("sensors"),
        "triggers": modules("triggers"),
        "connection-types": [connection_type_info()],
        "extra-links": ["af2kfp.airflow_plugins.links.kfp.KfpRunLink"],
    }
