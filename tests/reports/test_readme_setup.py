"""The README says what a new user needs before the first command and the first test run:
the package installs from a checkout (not yet on PyPI), and the browser tests need the
Chromium that .ci/run installs and the report tests look for."""

from __future__ import annotations

import re
from pathlib import Path

from tests.reports.conftest import CHROMIUM

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
PROSE = " ".join(README.split())  # line breaks in a paragraph are free


def test_readme_says_the_package_installs_from_a_checkout():
    quick_start = PROSE.split("## Quick start", 1)[1].split(" ## ", 1)[0]
    assert "not published on PyPI yet" in quick_start and "from a checkout" in quick_start
    assert "pip install -e ." in quick_start


def test_readme_names_the_chromium_that_ci_installs_and_the_tests_use():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    [package] = re.findall(r"apt-get install -y -qq (\w+)", ci)
    assert f"Chromium at `{CHROMIUM}`" in PROSE
    assert f"the Debian package `{package}`, which `.ci/run` installs" in PROSE


def test_readme_says_where_af2kfp_run_finds_its_host():
    from af2kfp.bridge.cli.kfp_options import HOST_VARIABLES

    [row] = [line for line in README.splitlines() if line.startswith("| `af2kfp run ")]
    assert "[--host URL]" in row and all(f"`${name}`" in row for name in HOST_VARIABLES)
    assert "a running `af2kfp kfp-server`" in row
