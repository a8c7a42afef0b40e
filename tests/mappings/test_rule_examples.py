"""Every rule's EXAMPLES: mapped fields, findings and fate, and the emitted code compiles."""

from __future__ import annotations

import pytest

from af2kfp.converters.config import Config
from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.graph import DagInfo, add_task, new_graph
from af2kfp.converters.mappings import RULE_MODULES, map_graph, map_task

EXAMPLES = [
    pytest.param(module, example, id=f"{module.__name__.rsplit('.', 1)[-1]}-{i}")
    for module in RULE_MODULES
    for i, example in enumerate(module.EXAMPLES)
]


@pytest.mark.parametrize(("module", "example"), EXAMPLES)
def test_example_maps_as_documented(module, example):
    kfp, ctx = map_task(example.task, dag_id="example", config=Config(), consumers=set(),
                        producers=dict(example.producers), downstream=example.downstream)
    if example.fate == "folded":
        assert kfp is None
        return
    assert kfp is not None
    for name, expected in example.fields.items():
        assert getattr(kfp, name) == expected, name
    assert sorted(f.code for f in kfp.findings) == sorted(example.codes)
    assert kfp.fate == example.fate


@pytest.mark.parametrize(("module", "example"), EXAMPLES)
def test_example_emits_expected_code_that_compiles(module, example):
    graph = new_graph(DagInfo(dag_id="example", file="example.py", line=1))
    for producer, kind in example.producers.items():
        add_task(graph, _producer(producer, kind))
    add_task(graph, example.task)
    for target in example.downstream:
        add_task(graph, _producer(target, "str"))
        graph.add_edge(example.task.task_id, target, kind="order")
    mapped = map_graph(graph)
    emitted = render_pipeline(mapped)
    for line in example.kfp:
        assert line in emitted.code, line
    if example.fate == "folded":
        assert example.task.task_id not in {t.task_id for t in mapped.tasks}
        return
    result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="example", file="example.py")
    assert result.findings == []
    assert result.yaml is not None


def _producer(task_id: str, kind: str):
    from af2kfp.converters.graph import PythonCallable
    from af2kfp.converters.mappings.example import example_task

    source = f"def {task_id}() -> {kind}:\n    return {kind}()\n"
    python = PythonCallable(name=task_id, source=source, file="example.py", line=1)
    task = example_task("airflow.sdk.task", task_id, python=python)
    task.line = 0
    return task
