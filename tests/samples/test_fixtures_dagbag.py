"""The bad-input fixtures are what ``tests/fixtures/README.md`` says they are, per real Airflow.

``side_effects.py`` is never imported here (it would write its marker file that other
tests check for); it is only parsed.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tests.samples.dagbag_probe import run_probe

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"
NAMES = {"syntax_error.py", "empty.py", "binary.py", "not_a_dag.py", "cycle.py", "duplicate_ids.py", "side_effects.py"}


def test_the_fixture_folder_holds_exactly_the_documented_files() -> None:
    assert {p.name for p in BAD.iterdir() if p.name != "__pycache__"} == NAMES


def test_empty_and_binary_files_are_what_they_claim() -> None:
    assert (BAD / "empty.py").read_bytes() == b""
    data = (BAD / "binary.py").read_bytes()
    assert b"\x00" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_side_effects_fixture_is_a_valid_dag_file_that_writes_the_marker() -> None:
    tree = ast.parse((BAD / "side_effects.py").read_text(encoding="utf-8"))
    constants = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    assert "/tmp/af2kfp_side_effect_marker" in constants
    called = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert {"open", "socket.socket", "_probe.connect_ex", "DAG", "BashOperator"} <= called


@pytest.mark.airflow
@pytest.mark.slow
def test_dagbag_rejects_exactly_the_broken_fixtures(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(BAD, folder, ignore=shutil.ignore_patterns("side_effects.py"))
    bag = run_probe(folder, tmp_path / "airflow-home")
    assert bag["dags"] == {}
    errors = bag["import_errors"]
    assert set(errors) == {"syntax_error.py", "binary.py", "cycle.py", "duplicate_ids.py"}
    assert errors["syntax_error.py"].startswith("SyntaxError")
    assert "null bytes" in errors["binary.py"]
    assert "Cycle detected" in errors["cycle.py"]
    assert "DuplicateTaskIdFound" in errors["duplicate_ids.py"]
