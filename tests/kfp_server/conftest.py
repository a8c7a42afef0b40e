"""Fixtures for the local KFP server tests: a compiled pipeline, a server, a kfp.Client."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from af2kfp.bridge.kfp_server import RunningServer, start_server

from . import pipelines

FAST = {"run_seconds": 0.6, "pending_seconds": 0.1, "cancel_seconds": 0.2}
JSON = {"Content-Type": "application/json"}  # the server refuses writes without it, as kfp.Client sends it


def json_writes(request: Any) -> None:
    """httpx request hook: a write without a Content-Type says JSON (as kfp.Client does)."""
    if request.method != "GET" and "content-type" not in request.headers:
        request.headers["Content-Type"] = "application/json"


def _compile(pipeline: Any, path: Path) -> Path:
    from kfp import compiler

    compiler.Compiler().compile(pipeline, str(path))
    return path


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real compiled two-task pipeline (add -> show), lightweight Python only."""
    return _compile(pipelines.tiny_sum, tmp_path_factory.mktemp("pipeline") / "tiny_sum.yaml")


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The other test pipelines, compiled: fail, nap, container, mixed (Python, then a container)."""
    folder = tmp_path_factory.mktemp("pipelines")
    return {
        name: _compile(
            getattr(pipelines, {"container": "container_only", "mixed": "mixed"}.get(name, f"tiny_{name}")),
            folder / f"{name}.yaml",
        )
        for name in ("fail", "nap", "container", "mixed")
    }


@pytest.fixture(scope="session")
def spec(package: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(package.read_text())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """An in-process server with fast runs and its state in a file."""
    running = start_server(tmp_path / "kfp.db", control=True, run_fates=True, **FAST)
    yield running
    running.stop()


@pytest.fixture
def kfp_client(server: RunningServer) -> Any:
    """The real ``kfp.Client`` pointed at the server (it only reads ~/.config/kfp if present)."""
    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return kfp.Client(host=server.url)


def wait_for(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until ``check()`` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)
