"""A local KFP server per test (over real HTTP), conversions of the samples, and a way to call
``af2kfp`` in this process."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from af2kfp.bridge.cli import main
from af2kfp.bridge.kfp import KfpClient
from af2kfp.bridge.kfp_server import RunningServer, start_server

REPO = Path(__file__).resolve().parents[2]
FAST = {"run_seconds": 0.6, "pending_seconds": 0.1, "cancel_seconds": 0.2}


@dataclass
class Cli:
    code: int
    out: str
    err: str


def af2kfp(capsys: pytest.CaptureFixture[str], *argv: str) -> Cli:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Cli(code, captured.out, captured.err)


def convert(dags: Path, out: Path) -> Path:
    """``af2kfp convert DAGS -o OUT`` in this process (its stdout is not wanted)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["convert", str(dags), "-o", str(out), "--fail-on", "none", "-j", "1"])
    assert code == 0
    return out


@pytest.fixture(scope="session")
def samples_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled samples, converted once (read only: copy it to change it)."""
    return convert(REPO / "samples" / "dags", tmp_path_factory.mktemp("samples-out") / "out")


@pytest.fixture
def samples_copy(tmp_path: Path) -> Path:
    """A writable copy of samples/ (the DAGs and the pyproject.toml that configures them)."""
    target = tmp_path / "samples"
    shutil.copytree(REPO / "samples" / "dags", target / "dags")
    shutil.copy(REPO / "samples" / "pyproject.toml", target / "pyproject.toml")
    return target


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "kfp.db", control=True, **FAST)
    yield running
    running.stop()


@pytest.fixture
def kfp(server: RunningServer) -> Iterator[KfpClient]:
    with KfpClient(host=server.url) as client:
        yield client


class FastClock:
    """Server time running ``speed`` times faster than real time, from ``start``."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.origin, self.start, self.speed = time.monotonic(), start.timestamp(), speed

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.origin) * self.speed


def wait_for(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def everything(kfp: KfpClient) -> dict[str, Any]:
    """What the server holds: pipelines with their version ids, experiments, recurring runs."""
    pipelines = kfp.list_pipelines(page_size=200).items
    return {
        "pipelines": {p.display_name: p.pipeline_id for p in pipelines},
        "versions": {
            p.display_name: sorted(v.pipeline_version_id for v in kfp.list_pipeline_versions(p.pipeline_id, page_size=200).items)
            for p in pipelines
        },
        "experiments": sorted(e.experiment_id for e in kfp.list_experiments(page_size=200).items),
        "recurring_runs": {
            r.recurring_run_id: (r.display_name, r.enabled, r.pipeline_version_id)
            for r in kfp.list_recurring_runs(page_size=200).items
        },
    }


def writes(control: Any) -> dict[str, int]:
    """The KFP API requests that change something, by route, since the last reset."""
    return {route: n for route, n in control.stats().items() if route.split(" ")[0] in ("POST", "DELETE", "PATCH")}
