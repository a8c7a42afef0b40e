"""One ``airflow standalone`` and one ``af2kfp kfp-server`` (``--execute --control``) for the
whole end-to-end folder: starting Airflow's processes costs minutes on a small box, so they
start once. Each test writes its own DAG files into the shared DAGs folder and uses its own
DAG ids; every process started here is killed at the end, and one that outlived its process
group fails the session."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e.standalone import airflow_env, free_port, kill_all, wait_for

STARTUP_TIMEOUT = 240


@dataclass(frozen=True)
class Standalone:
    home: Path  # AIRFLOW_HOME; DAG files go to home / "dags"
    log: Path  # standalone's output
    url: str  # the API server
    env: dict[str, str]  # Airflow's environment (for the airflow command line too)
    api: Any  # an httpx.Client on url
    kfp: Any  # the KFP server process (af2kfp.bridge.kfp_server.ServerProcess)

    @property
    def dags(self) -> Path:
        return self.home / "dags"

    def wait_for_dag(self, dag_id: str, timeout: float = STARTUP_TIMEOUT) -> dict[str, Any]:
        def served() -> dict[str, Any] | None:
            answer = self.api.get(f"/api/v2/dags/{dag_id}")
            return answer.json() if answer.status_code == 200 else None

        return wait_for(f"DAG {dag_id} parsed and served", served, timeout, self.log)


@pytest.fixture(scope="session")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("airflow.sdk", reason="the end-to-end tests drive Airflow 3's api-server")
    from af2kfp.bridge.kfp_server import start_server_process

    tmp = tmp_path_factory.mktemp("standalone")
    home, log, port = tmp / "airflow", tmp / "standalone.log", free_port()
    (home / "dags").mkdir(parents=True)
    args = ["--execute", "--control", "--pending-seconds", "0.5"]
    with start_server_process(tmp / "kfp.db", args=args) as kfp:
        env = airflow_env(home, port, kfp.url)
        env["AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL"] = "1"
        env["AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT"] = "60"  # a busy 2-core box answers slowly
        process = None
        stragglers: list[int] = []
        try:
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    ["airflow", "standalone"], env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,  # its own process group, killed below
                )
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
                site = Standalone(home, log, f"http://127.0.0.1:{port}", env, api, kfp)
                wait_for("Airflow's API server", lambda: api.get("/api/v2/version").status_code == 200,
                         STARTUP_TIMEOUT, log)
                yield site
        finally:
            if process is not None:
                stragglers = kill_all(process, home)
    assert not stragglers, f"processes outlived their process group: {stragglers}"
