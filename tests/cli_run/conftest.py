"""One local KFP server (in-process, free loopback port) and one compiled pipeline for the folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from af2kfp.bridge.kfp_server import RunningServer, start_server


@pytest.fixture(scope="session")
def run_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kfp import compiler

    from tests.cli_run.run_pipelines import cli_run_demo

    path = tmp_path_factory.mktemp("cli-run") / "pipeline.yaml"
    compiler.Compiler().compile(cli_run_demo, str(path))
    return path


@pytest.fixture(scope="session")
def run_server() -> Iterator[RunningServer]:
    server = start_server(control=True, run_fates=True, run_seconds=0.6, pending_seconds=0.1, cancel_seconds=0.2)
    yield server
    server.stop()


@pytest.fixture
def kfp_control(run_server: RunningServer) -> Iterator[Any]:
    """The server's control API, scripts and faults reset around each test."""
    control = run_server.control()
    control.reset()
    control.settings(default_fate="succeed", run_seconds=0.6)
    yield control
    control.reset()
