"""Fates that mean something: one rule (``fate_of``) decides every task's fate from every finding about it."""

from __future__ import annotations

import pytest

from af2kfp.converters.findings import Finding, Severity
from af2kfp.converters.graph import DagInfo, add_edge, add_task, new_graph
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.mappings.base import fate_of
from af2kfp.converters.mappings.example import example_task

BASH = "airflow.providers.standard.operators.bash.BashOperator"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"


def _finding(severity: str, task_id: str = "t") -> Finding:
    return Finding(code="A110", severity=Severity(severity), message="m", suggestion="s", file="f.py", line=1,
                   dag_id="d", task_id=task_id)


@pytest.mark.parametrize("kind,severities,fate", [
    ("container", [], "converted"), ("python", ["info"], "converted"), ("container", ["info", "warning"], "review"),
    ("python", ["error"], "review"), ("placeholder", [], "unsupported"), ("placeholder", ["warning"], "unsupported"),
    (None, [], "folded"), (None, ["info"], "folded"), (None, ["warning"], "review"),
])
def test_fate_of(kind, severities, fate):
    assert fate_of(kind, [_finding(s) for s in severities]) == fate


def test_every_source_of_findings_counts():
    g = new_graph(DagInfo(dag_id="d", file="f.py", line=1))
    add_task(g, example_task(BASH, "plain", bash_command="echo ok"))
    add_task(g, example_task(BASH, "doubted", bash_command="echo ok"))
    add_task(g, example_task(BASH, "noted", bash_command="echo ok", pool="web"))  # M203, info
    add_task(g, example_task(EMPTY, "join", trigger_rule="all_done"))  # folded, but its rule is lost: M215
    add_task(g, example_task(BASH, "after", bash_command="echo ok"))
    for up, down in [("plain", "join"), ("doubted", "join"), ("noted", "join"), ("join", "after")]:
        add_edge(g, up, down)
    g.graph["findings"] = [_finding("warning", "doubted"), _finding("info", "plain")]  # the analyzer's
    fates = map_graph(g).fates
    assert fates == {"plain": "converted", "doubted": "review", "noted": "converted", "join": "review",
                     "after": "converted"}
