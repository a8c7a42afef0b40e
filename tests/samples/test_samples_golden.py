"""Golden files: what `af2kfp convert samples/dags` writes, checked in under samples/expected/.

The Quick start's conversion is run exactly (same paths, same config discovery) and every
output file is compared byte for byte with its golden twin, both ways: a file missing or
extra is a failure too. `report.html` is left out (its content is tested in tests/reports).
Rewrite the golden files with ``AF2KFP_REGENERATE=1`` after a deliberate change, and read
the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from af2kfp.bridge.cli import main

REPO = Path(__file__).resolve().parents[2]
EXPECTED = REPO / "samples" / "expected"
SKIPPED = {"report.html"}


def _outputs(folder: Path) -> dict[str, Path]:
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in SKIPPED
    }


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "kfp"
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        assert main(["convert", "samples/dags", "-o", str(out), "--fail-on", "none", "--no-cache"]) == 0  # the cache file is no golden
    finally:
        os.chdir(cwd)
    if os.environ.get("AF2KFP_REGENERATE") == "1":
        shutil.rmtree(EXPECTED, ignore_errors=True)
        for name, path in _outputs(out).items():
            target = EXPECTED / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return out


def test_same_files_as_golden(converted):
    produced, expected = set(_outputs(converted)), set(_outputs(EXPECTED))
    assert produced - expected == set(), "new output files: regenerate with AF2KFP_REGENERATE=1"
    assert expected - produced == set(), "golden files no longer produced"


@pytest.mark.parametrize("name", sorted(_outputs(EXPECTED)) or ["<no golden files>"])
def test_output_matches_golden(converted, name):
    produced = converted / name
    assert produced.is_file(), f"{name} is not produced any more"
    assert produced.read_text() == (EXPECTED / name).read_text(), (
        f"{name} differs from samples/expected/{name}; if the change is meant, rerun with AF2KFP_REGENERATE=1"
    )
