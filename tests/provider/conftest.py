"""Real Airflow (dag.test, in-process) against the local KFP server on a free loopback port.

Airflow reads its settings when first imported, so the environment is set here, at import.
One metadata DB and one KFP server serve the whole folder; each test resets the server's
scripts and faults and uses its own DAG id.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import tempfile
from pathlib import Path

_AIRFLOW_MAJOR = int(importlib.metadata.version("apache-airflow").split(".")[0])
_HOME = Path(tempfile.mkdtemp(prefix="af2kfp-provider-airflow-"))
(_HOME / "dags").mkdir()
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(_HOME / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
    }
)

if _AIRFLOW_MAJOR < 3:  # Airflow 2's default for tests; its LocalExecutor refuses SQLite
    os.environ["AIRFLOW__CORE__EXECUTOR"] = "SequentialExecutor"

if "airflow.settings" in sys.modules:
    # A module collected earlier imported Airflow (whole-suite run): point its ORM at this DB too.
    from airflow import settings

    settings.configure_vars()
    settings.reconfigure_orm()

import pytest  # noqa: E402

from af2kfp.bridge.kfp_server import start_server  # noqa: E402


@pytest.fixture(scope="session")
def pipeline_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.provider.kfp_pipeline import compile_to

    return compile_to(tmp_path_factory.mktemp("kfp") / "pipeline.yaml")


@pytest.fixture(scope="session")
def kfp_server():
    server = start_server(control=True, run_fates=True, run_seconds=1.0, pending_seconds=0.1, cancel_seconds=0.2)
    os.environ["AIRFLOW_CONN_KFP_DEFAULT"] = json.dumps(
        {"conn_type": "kubeflow_pipelines", "host": server.url, "extra": {"ui_host": "http://kfp-ui.test"}}
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def airflow_db():
    from tests.provider.airflow_versions import reset_db

    reset_db()


@pytest.fixture
def kfp(kfp_server):
    """The server's control face, with scripts, faults and counters reset for this test."""
    control = kfp_server.control()
    control.reset()
    control.settings(default_fate="succeed", run_seconds=1.0)
    yield control
    control.reset()  # the server owns (and closes) its control client
