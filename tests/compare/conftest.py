"""A real Airflow DAG run read back through Airflow's real REST API, and its KFP counterpart.

Once for the folder: ``tests/compare/dags/compare_demo.py`` runs with ``dag.test()`` into a
fresh SQLite metadata DB (``extract`` fails once and succeeds on its retry); ``airflow
api-server`` is started as a subprocess on a free loopback port against that DB with the
simple auth manager (user ``admin``, a known password); the same DAG file is converted
with ``af2kfp.converters.convert`` and its ``pipeline.yaml`` runs on the local KFP server.
The Airflow environment is set for this package only and restored afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from af2kfp.bridge.kfp_server import RunningServer, start_server

DAG_FILE = Path(__file__).parent / "dags" / "compare_demo.py"
DAG_ID = "compare_demo"
USER, PASSWORD = "admin", "compare-Pw-4711"


@dataclass(frozen=True)
class AirflowDeployment:
    url: str
    dag_run_id: str
    home: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _airflow_env(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": "compare-tests-jwt-secret-0123456789abcdef",
        "COMPARE_DEMO_MARKER": str(home / "extract-tried"),
    }


def _point_airflow_at_env() -> None:
    """Airflow reads some settings once; make an already imported Airflow use the current env."""
    if "airflow.settings" in sys.modules:
        from airflow import settings

        settings.configure_vars()
        settings.reconfigure_orm()


def _run_dag(home: Path) -> str:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.utils import db

    db.resetdb()
    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)
    dag_run = bag.dags[DAG_ID].test()
    assert dag_run.state == "success", dag_run.state
    return str(dag_run.run_id)


def _start_api_server(
    home: Path, env: dict[str, str], log_name: str = "api-server.log"
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(home / log_name, "wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.prefix) / "bin" / "airflow"),
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"airflow api-server exited: {(home / log_name).read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v2/version", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("airflow api-server did not answer within 60s")


@pytest.fixture(scope="package")
def airflow_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowDeployment]:
    home = tmp_path_factory.mktemp("compare-airflow")
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
    changes = _airflow_env(home)
    saved = {key: os.environ.get(key) for key in changes}
    os.environ.update(changes)
    _point_airflow_at_env()
    process = None
    try:
        dag_run_id = _run_dag(home)
        process, url = _start_api_server(home, dict(os.environ))
        yield AirflowDeployment(url=url, dag_run_id=dag_run_id, home=home)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _point_airflow_at_env()


@pytest.fixture(scope="package")
def open_airflow_url(airflow_deployment: AirflowDeployment) -> Iterator[str]:
    """A second api-server on the same DB with ``simple_auth_manager_all_admins``: no login at all."""
    env = {**os.environ, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
    process, url = _start_api_server(airflow_deployment.home, env, log_name="api-server-open.log")
    yield url
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="package")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``af2kfp convert`` output of the demo DAG: the folder holding report.json."""
    from af2kfp.converters.convert import convert_paths

    out = tmp_path_factory.mktemp("compare-convert")
    convert_paths([DAG_FILE], out)
    return out


@pytest.fixture(scope="package")
def compare_kfp() -> Iterator[RunningServer]:
    server = start_server(control=True, run_fates=True, run_seconds=0.6, pending_seconds=0.1, cancel_seconds=0.2)
    yield server
    server.stop()


def finished_kfp_run(server: RunningServer, package: Path, fate: str) -> Any:
    """Submit ``package`` with ``fate`` scripted and wait for it to end; returns the Run."""
    from af2kfp.bridge.kfp import KfpClient, RunSpec

    server.control().script_next(fate)
    with KfpClient(host=server.url) as kfp:
        run = kfp.submit_run(RunSpec(display_name=f"compare {fate}", package=package))
        return kfp.wait_for_run(run.run_id, poll_interval=0.1, timeout=30, raise_on_failure=False)
