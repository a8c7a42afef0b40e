"""The pure functions real DAGs use around arguments are evaluated, not left unknown."""

from __future__ import annotations

import pytest

from af2kfp.converters.graph import task
from af2kfp.converters.values import DateTime, Duration, Symbolic, is_known
from tests.analysis.conftest import only_graph

CASES = [
    ('typing.cast("list[str]", ["a", "b"])', ["a", "b"]),
    ('textwrap.dedent("  select 1\\n  from t\\n")', "select 1\nfrom t\n"),
    ('textwrap.indent("a\\nb", "  ")', "  a\n  b"),
    ('os.path.join("/data", "raw", "day.csv")', "/data/raw/day.csv"),
    ('posixpath.join("gs://b", "x")', "gs://b/x"),
    ('os.path.basename("/a/b.csv")', "b.csv"),
    ('shlex.join(["echo", "a b"])', "echo 'a b'"),
    ('shlex.quote("a b")', "'a b'"),
    ('urllib.parse.urljoin("https://api.example.com/v1/", "items")', "https://api.example.com/v1/items"),
    ('json.dumps({"b": 1, "a": [1, 2]}, sort_keys=True, separators=(",", ":"))', '{"a":[1,2],"b":1}'),
    ('json.loads(\'{"a": 1}\')["a"]', 1),
    ('dict(BASE, **{"b": 2})', {"a": 1, "b": 2}),
    ('{**BASE, "c": 3}', {"a": 1, "c": 3}),
    ('list(itertools.chain(["a"], ("b",)))', ["a", "b"]),
    ('copy.deepcopy(BASE)', {"a": 1}),
    ('[f"{k}={v}" for k, v in sorted(BASE.items())]', ["a=1"]),
    ('" ".join(["run", str(3), "x".upper()])', "run 3 X"),
    ('"%s-%05d" % ("part", 42)', "part-00042"),
    ('"{}/{}".format("a", "b").removeprefix("a")', "/b"),
    ('int("7") * 2 + math.ceil(1.2)', 16),
    ('timedelta(hours=1) * 3 - timedelta(minutes=30)', Duration(seconds=9000.0)),
    ('(timedelta(days=1) / timedelta(hours=1))', 24.0),
    ('datetime(2024, 1, 31) + timedelta(days=1)', DateTime(iso="2024-02-01T00:00:00")),
    ('datetime(2024, 3, 1) - datetime(2024, 2, 1)', Duration(seconds=29 * 86400.0)),
    ('-timedelta(minutes=5)', Duration(seconds=-300.0)),
    ('timedelta(hours=2) > timedelta(minutes=90)', True),
    ('collections.OrderedDict(a=1)', {"a": 1}),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_pure_functions_are_evaluated(analyze, expression, expected):
    graph = only_graph(analyze(f"""
        import collections, copy, itertools, json, math, os, posixpath, shlex, textwrap, typing, urllib.parse
        from datetime import datetime, timedelta
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        BASE = {{"a": 1}}
        with DAG("pure"):
            BashOperator(task_id="t", bash_command="x", params={{"value": {expression}}})
    """))
    assert task(graph, "t").args["params"]["value"] == expected


def test_typing_cast_keeps_tasks_and_dependencies(analyze):
    graph = only_graph(analyze("""
        from typing import cast
        from airflow import DAG
        from airflow.models.baseoperator import BaseOperator
        from airflow.operators.bash import BashOperator

        with DAG("casts"):
            a = BashOperator(task_id="a", bash_command="x")
            b = BashOperator(task_id="b", bash_command="x")
            cast(BaseOperator, a) >> b
    """))
    assert set(graph.edges) == {("a", "b")}


def test_impure_or_run_time_calls_stay_unknown(analyze):
    graph = only_graph(analyze("""
        import random
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        with DAG("impure"):
            BashOperator(task_id="t", bash_command="x", params={"now": datetime.now(), "r": random.random(),
                                                                 "dumped": __import__("json").dumps([1])})
    """))
    params = task(graph, "t").args["params"]
    assert all(isinstance(value, Symbolic) for value in params.values())
    assert not is_known(params)
