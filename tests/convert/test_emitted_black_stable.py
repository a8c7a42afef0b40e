"""Everything af2kfp generates is laid out as black would, on the samples and Airflow's own examples.

``af2kfp convert`` no longer runs black; this is where black checks it. User function
bodies are kept as written (Airflow's examples use 110 columns), so they are replaced by
``pass`` here: the generated signature, decorators, pipeline and settings are checked.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import black
import pytest

from af2kfp.converters.config import find_pyproject, load_config
from af2kfp.converters.emit import render_pipeline
from af2kfp.converters.graph import dag_info
from af2kfp.converters.mappings import map_graph

pytest.importorskip("af2kfp.converters.analysis")

from af2kfp.converters.analysis import analyze_paths  # noqa: E402

AIRFLOW_DIR = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])  # not imported
FOLDERS = [AIRFLOW_DIR / "example_dags", AIRFLOW_DIR / "providers" / "standard" / "example_dags"]
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "dags"


@pytest.mark.parametrize("folder", [*FOLDERS, SAMPLES], ids=lambda p: p.parent.name + "/" + p.name)
def test_generated_code_is_black_stable(folder):
    if not folder.is_dir():
        pytest.skip(f"{folder} not installed")
    config = load_config(find_pyproject(folder))
    graphs = analyze_paths([folder], config=config).graphs
    assert graphs
    python = 0
    for graph in graphs:
        mapped = map_graph(graph, config)
        for task in mapped.tasks:
            if task.python is not None:
                python += 1
                task.python.code = task.python.code.split("\n", 1)[0] + "\n    pass\n"
        code = render_pipeline(mapped).code
        assert black.format_str(code, mode=black.Mode()) == code, dag_info(graph).dag_id
    assert python > 0
