"""The sample folder's static promises: docstrings, the af2kfp config, the declared operator."""

from __future__ import annotations

import ast
from pathlib import Path

from af2kfp.converters.config import find_pyproject, load_config

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
UNPARSABLE = {"broken_python2_syntax.py"}


def test_every_sample_says_what_it_shows() -> None:
    files = sorted((SAMPLES / "dags").rglob("*.py"))
    assert len(files) >= 15
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.name in UNPARSABLE:
            assert text.startswith('"""'), path
            continue
        assert ast.get_docstring(ast.parse(text)), f"{path} has no module docstring"


def test_the_samples_config_is_found_from_the_dag_folder_and_declares_the_team_operator() -> None:
    config = load_config(find_pyproject(SAMPLES / "dags"))
    assert config.source == str(SAMPLES / "pyproject.toml")
    assert config.operators == {"common.operators.TeamPodOperator": "KubernetesPodOperator"}


def test_the_declared_operator_is_a_kubernetes_pod_operator_subclass_in_the_helper_package() -> None:
    tree = ast.parse((SAMPLES / "dags" / "common" / "operators.py").read_text(encoding="utf-8"))
    classes = {node.name: [ast.unparse(base) for base in node.bases] for node in tree.body if isinstance(node, ast.ClassDef)}
    assert classes["TeamPodOperator"] == ["KubernetesPodOperator"]
    users = [p.name for p in (SAMPLES / "dags").glob("*.py") if "from common.operators import TeamPodOperator" in p.read_text()]
    assert users == ["team_operator_scoring.py"]


def test_the_sample_readme_lists_every_dag_file() -> None:
    readme = (SAMPLES / "dags" / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in (SAMPLES / "dags").glob("*.py") if f"`{p.name}`" not in readme]
    assert missing == []
