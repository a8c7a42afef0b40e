"""docs/operators.md is what the registry generates, and lists every rule and operator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from af2kfp.converters.mappings import RULE_MODULES
from af2kfp.converters.mappings.coverage import COMMAND, render

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "operators.md"


def test_committed_page_is_not_stale():
    assert PAGE.read_text(encoding="utf-8") == render(), f"docs/operators.md is stale; regenerate: {COMMAND}"


def test_documented_command_writes_the_page():
    done = subprocess.run([sys.executable, "-m", "af2kfp.converters.mappings.coverage"], cwd=REPO, capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout == render()


def test_every_rule_operator_and_example_is_on_the_page():
    page = render()
    for module in RULE_MODULES:
        for name in ("MAPPED_ARGS", "DROPPED_ARGS", "FLAGGED_ARGS"):
            assert isinstance(getattr(module, name), tuple), f"{module.__name__}.{name}"
        for rule in module.RULES:
            assert f"| `{rule}` |" in page
        for operator in module.OPERATORS:
            assert f"`{operator}`" in page
        for example in module.EXAMPLES:
            assert f"**{example.title}**" in page and example.airflow in page
