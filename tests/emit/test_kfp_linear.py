"""kfp's builder, patched to be linear in tasks (:mod:`af2kfp.converters.emit.kfp_linear`), writes the same
bytes as stock kfp: every sample, every Airflow example DAG and a generated DAG whose tasks share
components are converted here and compiled again by their own ``__main__`` block in a fresh
interpreter that never imports af2kfp."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from af2kfp.converters.config import find_pyproject, load_config
from af2kfp.converters.convert import convert_paths
from af2kfp.converters.emit import kfp_linear

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_DIR = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])  # not imported
sys.path.insert(0, str(REPO / "bench"))
from scaled_dags import dag_file  # noqa: E402

# Runs each pipeline.py as __main__ (its own compile call, stock kfp), one interpreter for all.
STOCK = """
import runpy, sys
for path in sys.argv[1:]:
    runpy.run_path(path, run_name="__main__")
assert not any(name.startswith(("converters", "bridge")) for name in sys.modules)
"""


def _convert(folder: Path, out: Path) -> list[Path]:
    convert_paths([folder], out, config=load_config(find_pyproject(folder)), jobs=1)
    return sorted(out.glob("*/pipeline.yaml"))


def _stock_bytes(compiled: list[Path], tmp: Path) -> dict[Path, bytes]:
    copies = {}
    for yaml_path in compiled:
        folder = tmp / "stock" / yaml_path.parent.name  # with what pipeline.py reads beside it (the fallback runner)
        shutil.copytree(yaml_path.parent, folder)
        (folder / "pipeline.yaml").unlink()
        copies[yaml_path] = folder / "pipeline.py"
    subprocess.run([sys.executable, "-c", STOCK, *map(str, copies.values())], check=True, cwd=tmp)
    return {yaml_path: copy.with_name("pipeline.yaml").read_bytes() for yaml_path, copy in copies.items()}


def _generated(tmp: Path) -> Path:
    folder = tmp / "generated"
    folder.mkdir()
    (folder / "scaled.py").write_text(dag_file(64), encoding="utf-8")  # 10 groups: components used 10 times
    return folder


@pytest.mark.parametrize("which", ["samples", "airflow_examples", "standard_examples", "generated"])
def test_patched_builder_writes_stock_kfp_bytes(which, tmp_path):
    folder = {"samples": REPO / "samples" / "dags", "airflow_examples": AIRFLOW_DIR / "example_dags",
              "standard_examples": AIRFLOW_DIR / "providers" / "standard" / "example_dags"}.get(which)
    if folder is None:
        folder = _generated(tmp_path)
    if not folder.is_dir():
        pytest.skip(f"{folder} not installed")
    compiled = _convert(folder, tmp_path / "out")
    assert kfp_linear.installed(), "kfp's builder was not patched: its source is not the shape expected"
    assert compiled
    stock = _stock_bytes(compiled, tmp_path)
    for yaml_path, expected in stock.items():
        assert _body(yaml_path.read_bytes()) == _body(expected), yaml_path.parent.name


def _body(text: bytes) -> bytes:
    """The spec without kfp's header comment, whose dict defaults kfp prints in an order that
    changes from one interpreter to the next (stock kfp against itself, whatever the builder)."""
    lines = text.splitlines(keepends=True)
    # the first top-level key: stock kfp writes a default's newline raw into the header (ours escapes it)
    start = next(i for i, line in enumerate(lines) if _TOP_KEY.match(line))
    return b"".join(lines[start:])


_TOP_KEY = re.compile(rb"^(components|deploymentSpec|pipelineInfo|root|schemaVersion|sdkVersion):")


MANY = """
from kfp import dsl

@dsl.component
def echo(text: str):
    print(text)

@dsl.pipeline(name="many")
def many():
    for i in range(30):
        echo(text=str(i))
    with dsl.ParallelFor(items=[1, 2]):
        echo(text="loop")
        echo(text="again")
    echo(text="after")

NAMES = (sorted(many.pipeline_spec.root.dag.tasks), sorted(many.pipeline_spec.components["comp-for-loop-2"].dag.tasks))
"""


def test_shared_component_names_as_kfp_numbers_them(tmp_path):
    """A component used by many tasks, also inside a loop: the remembered search gives kfp's own names."""
    kfp_linear.install()
    module = tmp_path / "many.py"
    module.write_text(MANY, encoding="utf-8")
    patched = {}
    exec(compile(MANY, str(module), "exec", dont_inherit=True), patched)
    stock = subprocess.run([sys.executable, "-c", f"import runpy; print(runpy.run_path({str(module)!r})['NAMES'])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert repr(patched["NAMES"]) == stock
    assert "echo-33" in patched["NAMES"][0] and patched["NAMES"][1] == ["echo-31", "echo-32"]
