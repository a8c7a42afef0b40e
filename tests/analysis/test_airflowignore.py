"""``.airflowignore`` in both of Airflow's syntaxes, checked against Airflow's own file discovery
(``find_path_from_directory``, run in a child process so Airflow is never imported here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.analysis.ignore import python_files
from af2kfp.converters.config import Config, load_config

# Layout name -> (syntax, {path: content}); ".py" files are empty, ".airflowignore" files hold patterns.
LAYOUTS: dict[str, tuple[str, dict[str, str]]] = {
    "glob_basics": ("glob", {
        ".airflowignore": "scratch/\n*_draft.py\n/sub/anchored.py  # only at the top\n!keep_draft.py\n",
        "scratch/a.py": "", "wip_draft.py": "", "keep_draft.py": "", "sub/anchored.py": "",
        "sub/deeper/anchored.py": "", "sub/scratch/b.py": "", "ok.py": "",
    }),
    "glob_double_star_and_classes": ("glob", {
        ".airflowignore": "**/tmp/**\nlegacy/**/old_*.py\ntest_[0-9].py\ncache?.py\n",
        "tmp/x.py": "", "a/tmp/y.py": "", "legacy/old_a.py": "", "legacy/v1/old_b.py": "",
        "legacy/v1/new_b.py": "", "test_1.py": "", "test_a.py": "", "cache1.py": "", "cache12.py": "",
    }),
    "glob_nested_ignore_files": ("glob", {
        ".airflowignore": "*.bak.py\n",
        "team/.airflowignore": "/private/\n!keep.bak.py\nexperiments\n",
        "team/private/p.py": "", "private/top.py": "", "team/keep.bak.py": "", "team/x.bak.py": "",
        "team/experiments/e.py": "", "team/sub/experiments/e2.py": "", "other/x.bak.py": "",
    }),
    "glob_dir_only_and_negated_dir": ("glob", {
        ".airflowignore": "build/\nnot_a_dir.py/\ngen\n!gen/keep.py\n",
        "build/b.py": "", "not_a_dir.py": "", "gen/g.py": "", "gen/keep.py": "", "x/build.py": "",
    }),
    "regexp_basics": ("regexp", {
        ".airflowignore": "scratch\n_draft\\.py$\n^sub/anchored\n[\n",  # "[" is invalid: skipped
        "scratch/a.py": "", "wip_draft.py": "", "keep_draft.py.py": "", "sub/anchored.py": "",
        "deep/sub/anchored.py": "", "my_scratchpad.py": "", "ok.py": "",
    }),
    "regexp_nested": ("regexp", {
        ".airflowignore": "\\.bak\n",
        "team/.airflowignore": "^team/private\nlocal_only\n",
        "team/private/p.py": "", "private/p.py": "", "team/a.bak.py": "", "team/local_only.py": "",
        "other/local_only.py": "",
    }),
}

_AIRFLOW_SIDE = """
import json, sys
from pathlib import Path
from airflow._shared.module_loading.file_discovery import find_path_from_directory
out = {}
for folder, syntax in json.loads(sys.argv[1]):
    out[folder] = sorted(str(Path(p).relative_to(folder)) for p in find_path_from_directory(folder, ".airflowignore", syntax)
                         if p.endswith(".py"))
print(json.dumps(out))
"""


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    root = tmp_path_factory.mktemp("ignore")
    made = {}
    for name, (syntax, files) in LAYOUTS.items():
        _write(root / name, files)
        made[name] = (root / name, syntax)
    return made


@pytest.fixture(scope="module")
def airflow_kept(layouts, tmp_path_factory) -> dict[str, list[str]]:
    pytest.importorskip("airflow")
    home = tmp_path_factory.mktemp("airflow-home")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__UNIT_TEST_MODE": "True"}
    jobs = [[str(folder), syntax] for folder, syntax in layouts.values()]
    done = subprocess.run([sys.executable, "-c", _AIRFLOW_SIDE, json.dumps(jobs)], capture_output=True, text=True,
                          env=env, timeout=240, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # Airflow logs before it


@pytest.mark.airflow
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_ignore_matches_airflow(name, layouts, airflow_kept):
    folder, syntax = layouts[name]
    ours = sorted(str(p.relative_to(folder)) for p in python_files(folder, syntax))
    assert ours == airflow_kept[str(folder)]


def test_glob_is_the_default_and_negation_works(layouts):
    folder, _ = layouts["glob_basics"]
    kept = {p.relative_to(folder).as_posix() for p in python_files(folder)}
    assert kept == {"keep_draft.py", "ok.py", "sub/deeper/anchored.py"}


def test_regexp_syntax_reads_patterns_as_airflow_2_did(layouts):
    folder, _ = layouts["regexp_basics"]
    kept = {p.relative_to(folder).as_posix() for p in python_files(folder, "regexp")}
    assert kept == {"keep_draft.py.py", "deep/sub/anchored.py", "ok.py"}
    # The same file read as globs ignores other files.
    assert {p.relative_to(folder).as_posix() for p in python_files(folder, "glob")} != kept


def test_config_chooses_the_syntax(tmp_path):
    _write(tmp_path / "dags", {
        ".airflowignore": "_draft\\.py$\n",
        "a_draft.py": "from airflow.sdk import DAG\nwith DAG('draft'):\n    pass\n",
        "b.py": "from airflow.sdk import DAG\nwith DAG('kept'):\n    pass\n",
    })
    (tmp_path / "pyproject.toml").write_text('[tool.af2kfp]\nignore_syntax = "regexp"\n', encoding="utf-8")
    config = load_config(tmp_path / "pyproject.toml")
    assert config.ignore_syntax == "regexp"
    found = {g.graph["dag"].dag_id for g in analyze_paths([tmp_path / "dags"], config=config).graphs}
    assert found == {"kept"}
    # As globs, "_draft\.py$" matches nothing: both DAGs are read.
    found = {g.graph["dag"].dag_id for g in analyze_paths([tmp_path / "dags"], config=Config()).graphs}
    assert found == {"kept", "draft"}


def test_unknown_syntax_is_a_config_error(tmp_path):
    from af2kfp.converters.errors import InputError

    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('[tool.af2kfp]\nignore_syntax = "regex"\n'))
    with pytest.raises(InputError, match="ignore_syntax"):
        load_config(tmp_path / "pyproject.toml")
