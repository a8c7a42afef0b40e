"""Whatever the analyzer could not resolve, in any argument, never breaks mapping or emitting."""

from __future__ import annotations

import dataclasses

import pytest

from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.graph import DagInfo, add_task, new_graph
from af2kfp.converters.mappings import RULE_MODULES, map_graph
from af2kfp.converters.values import Call, DateTime, Duration, Symbolic, TaskRef

ODD = [
    Symbolic(source="get_value(\n  'x')"),
    TaskRef(task_id="elsewhere"),
    Call(func="somewhere.Thing", args=(Symbolic(source="y"),)),
    Duration(seconds=3),
    DateTime(iso="2024-01-01T00:00:00"),
    [Symbolic(source="a"), TaskRef(task_id="b")],
    {"k": Symbolic(source="v"), "t": TaskRef(task_id="c")},
]
CASES = [
    pytest.param(example, key, id=f"{module.__name__.rsplit('.', 1)[-1]}-{i}-{key}")
    for module in RULE_MODULES
    for i, example in enumerate(module.EXAMPLES)
    for key in example.task.args
    if key not in ("task_id", "python_callable")  # the callable's source travels in AirflowTask.python
]


@pytest.mark.parametrize(("example", "key"), CASES)
def test_odd_values_become_findings_not_a_crash(example, key):
    graph = new_graph(DagInfo(dag_id="odd", file="odd.py", line=1))
    for j, odd in enumerate(ODD):  # one task per odd value, one compile per argument
        task_id = f"{example.task.task_id}_{j}"
        add_task(graph, dataclasses.replace(example.task, task_id=task_id, args={**example.task.args, key: odd}))
    mapped = map_graph(graph)
    if not mapped.tasks:
        return
    emitted = render_pipeline(mapped)  # raises if a non-literal value reached the code
    result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="odd", file="odd.py")
    assert result.findings == [], result.findings[0].message
    for j, task in enumerate(mapped.tasks):
        if isinstance(ODD[j], Duration) and key in ("retry_delay", "max_retry_delay", "execution_timeout"):
            continue  # the one odd value that is right here
        assert task.findings, f"{task.task_id}: an odd {key} went unnoticed"
