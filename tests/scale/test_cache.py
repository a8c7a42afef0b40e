"""The conversion cache (:mod:`af2kfp.converters.cache`): an unchanged re-run converts and rewrites nothing and
its outputs are the bytes of a fresh conversion; each kind of change (DAG file, helper module, config,
tool version, an edited output) converts again; ``--no-cache`` always converts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from af2kfp.bridge.cli import main
from af2kfp.converters import cache, convert
from af2kfp.converters.cache import CACHE_NAME

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from scaled_dags import write_repo  # noqa: E402

PYPROJECT = '[tool.af2kfp]\nbash_image = "bash:5.2"\n'


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dags = write_repo(tmp_path / "repo", 3)
    (tmp_path / "repo" / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    # A helper outside the scanned folder, found from the repository root (the pyproject.toml's folder).
    (tmp_path / "repo" / "team_defaults.py").write_text('OWNER = "team-a"\n', encoding="utf-8")
    dag = dags / "dag_0002.py"
    dag.write_text(dag.read_text(encoding="utf-8").replace(
        "from common.settings import", "from team_defaults import OWNER\nfrom common.settings import").replace(
        'task_id="start")', 'task_id="start", owner=OWNER)'), encoding="utf-8")
    return dags


@pytest.fixture
def conversions(monkeypatch):
    """Counts the real conversions (cache misses) the CLI starts."""
    calls = []
    real = convert.convert_paths

    def counted(*args, **kwargs):
        calls.append(kwargs.get("cache"))
        return real(*args, **kwargs)

    monkeypatch.setattr(convert, "convert_paths", counted)
    return calls


def _convert(dags: Path, out: Path, *extra: str) -> int:
    return main(["convert", str(dags), "-o", str(out), "-j", "1", *extra])


def _files(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_unchanged_rerun_converts_and_rewrites_nothing(repo, conversions, capsys):
    out = Path("out")
    assert _convert(repo, out) == 0
    assert (out / CACHE_NAME).is_file() and conversions == [True]
    before = _files(out)
    capsys.readouterr()
    assert _convert(repo, out) == 0
    assert conversions == [True], "the unchanged re-run converted again"
    assert _files(out) == before  # same bytes, not even rewritten
    captured = capsys.readouterr()
    assert "cache: 3 of 3 DAGs unchanged" in captured.err
    assert "3 DAGs" in captured.out  # the summary comes from the report on disk


def test_cached_outputs_are_the_bytes_of_a_fresh_conversion(repo, conversions):
    _convert(repo, Path("cached"))
    _convert(repo, Path("cached"))
    _convert(repo, Path("fresh"), "--no-cache")
    cached = {name: data for name, (data, _) in _files(Path("cached")).items() if name != CACHE_NAME}
    fresh = {name: data for name, (data, _) in _files(Path("fresh")).items()}
    assert cached.keys() == fresh.keys()
    for name in cached:
        assert cached[name] == fresh[name].replace(b"fresh", b"cached"), name
    assert not (Path("fresh") / CACHE_NAME).exists()


def _edit_dag(repo: Path) -> None:
    path = repo / "dag_0001.py"
    path.write_text(path.read_text(encoding="utf-8").replace("load.sh 1", "load.sh one"), encoding="utf-8")


def _edit_helper(repo: Path) -> None:
    path = repo / "common" / "settings.py"
    path.write_text(path.read_text(encoding="utf-8").replace('"retries": 2', '"retries": 4'), encoding="utf-8")


def _edit_root_helper(repo: Path) -> None:
    (repo.parent / "team_defaults.py").write_text('OWNER = "team-b"\n', encoding="utf-8")


def _edit_config(repo: Path) -> None:
    (repo.parent / "pyproject.toml").write_text(PYPROJECT.replace("bash:5.2", "bash:5.1"), encoding="utf-8")


def _edit_tool(repo: Path) -> None:
    cache._TOOL = "another version"


def _edit_output(repo: Path) -> None:
    (Path("out") / "repo_dag_0000" / "pipeline.py").write_text("# edited\n", encoding="utf-8")


def _add_dag(repo: Path) -> None:
    (repo / "dag_0009.py").write_text((repo / "dag_0000.py").read_text(encoding="utf-8").replace(
        "repo_dag_0000", "repo_dag_0009"), encoding="utf-8")


@pytest.mark.parametrize("change", [_edit_dag, _edit_helper, _edit_root_helper, _edit_config, _edit_tool, _edit_output, _add_dag],
                         ids=lambda f: f.__name__.lstrip("_"))
def test_each_kind_of_change_converts_again(change, repo, conversions, monkeypatch):
    monkeypatch.setattr(cache, "_TOOL", cache.tool_fingerprint())
    out = Path("out")
    _convert(repo, out)
    change(repo)
    _convert(repo, out)
    assert conversions == [True, True], f"{change.__name__}: served from the cache"
    fresh = Path("fresh")
    _convert(repo, fresh, "--no-cache")
    names = ["repo_dag_0000/pipeline.py", "repo_dag_0001/pipeline.yaml", "repo_dag_0002/pipeline.yaml", "report.json"]
    if change is _edit_output:  # the user's edit is kept, the new output written beside it (E313)
        assert (out / "repo_dag_0000" / "pipeline.py").read_text(encoding="utf-8") == "# edited\n"
        assert (out / "repo_dag_0000" / "pipeline.generated.py").read_bytes() == (
            fresh / "repo_dag_0000" / "pipeline.py").read_bytes().replace(b"fresh", b"out")
        names = names[1:3]
    for name in names:
        assert (out / name).read_bytes() == (fresh / name).read_bytes().replace(b"fresh", b"out"), name


def test_no_cache_always_converts(repo, conversions):
    _convert(repo, Path("out"))
    _convert(repo, Path("out"), "--no-cache")
    assert conversions == [True, False]
