"""The bundled samples converted and deployed once to a local KFP server, with a state file
that puts every deployed DAG at stage ``kfp`` and a copy that puts them at ``shadow``."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from af2kfp.bridge.cli import main
from af2kfp.bridge.kfp_server import start_server

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Deployed:
    root: Path  # a copy of samples/ (dags/, pyproject.toml)
    out: Path  # af2kfp convert's output
    kfp_state: Path  # every DAG deploy recorded at stage kfp
    shadow_state: Path  # the same at stage shadow
    host: str


def quiet(*argv: object) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main([str(a) for a in argv])


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("cutover") / "samples"
    shutil.copytree(REPO / "samples" / "dags", root / "dags")
    shutil.copy(REPO / "samples" / "pyproject.toml", root / "pyproject.toml")
    out = root / "out"
    assert quiet("convert", root / "dags", "-o", out, "--fail-on", "none", "-j", "1") == 0
    server = start_server(root / "kfp.db")
    try:
        state = root / "af2kfp-migration.yaml"
        assert quiet("deploy", out, "--host", server.url, "--state", state) == 0
        text = state.read_text()
        kfp_state, shadow_state = root / "kfp.yaml", root / "shadow.yaml"
        kfp_state.write_text(re.sub(r"stage: airflow", "stage: kfp", text))
        shadow_state.write_text(re.sub(r"stage: airflow", "stage: shadow", text))
        yield Deployed(root, out, kfp_state, shadow_state, server.url)
    finally:
        server.stop()
