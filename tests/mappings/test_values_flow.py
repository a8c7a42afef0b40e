"""How values are wired between tasks: literal arguments, ``multiple_outputs`` keys, loops, containers.

Each DAG is analyzed, mapped, emitted and compiled by the real KFP compiler; what the
generated code says is checked here, what it does at run time in ``tests/runs``.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.config import Config
from af2kfp.converters.emit import compile_pipeline, render_pipeline
from af2kfp.converters.mappings import map_graph

HEADER = """
from datetime import datetime
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, task
"""


def _convert(tmp_path: Path, body: str):
    path = tmp_path / "dag.py"
    path.write_text(HEADER + textwrap.dedent(body))
    (graph,) = analyze_paths([path], config=Config()).graphs
    mapped = map_graph(graph, Config())
    emitted = render_pipeline(mapped)
    result = compile_pipeline(emitted.code, emitted.names.pipeline, dag_id="d", file=str(path))
    assert result.findings == [], result.findings
    by_id = {t.task_id: t for t in mapped.tasks}
    return mapped, by_id, emitted.code


def test_literal_arguments_keep_their_exact_values(tmp_path):
    _, tasks, code = _convert(tmp_path, '''
        def load(n, cfg, names, skip, limits={"a": 1}, retries=None):
            return None

        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            PythonOperator(task_id="load", python_callable=load, op_kwargs={
                "n": 3, "cfg": {"a": 1, "b": None}, "names": ["x", "y"], "skip": None})
        ''')
    load = tasks["load"]
    assert load.python.params == [("n", "int", None), ("cfg", "json", None), ("names", "list", None),
                                  ("skip", "str", "None"), ("limits", "json", repr('{"a": 1}')),
                                  ("retries", "str", "None")]
    assert load.arguments == {"n": 3, "cfg": '{"a": 1, "b": null}', "names": ["x", "y"]}  # skip: its None default
    assert "    cfg = json.loads(cfg)\n    limits = json.loads(limits)\n" in code
    assert "limits: str = '{\"a\": 1}'" in code or 'limits: str = "{\\"a\\": 1}"' in code
    assert load.python.returns is None  # always returns None: no output


def test_multiple_outputs_keys_become_named_outputs(tmp_path):
    mapped, tasks, code = _convert(tmp_path, '''
        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            @task
            def stats() -> dict[str, int]:
                return {"rows": 3, "1001": 7, "class": "a"}

            @task
            def use(rows: int, code, klass, everything):
                print(rows, code, klass, everything)

            s = stats()
            use(s["rows"], s["1001"], s["class"], s)
        ''')
    stats = tasks["stats"].python
    # Keys that are no identifiers or are keywords get an output name of their own.
    assert stats.outputs == {"1001": ("key_1001", "int"), "class": ("key_class", "str"), "rows": ("rows", "int"),
                             "return_value": ("return_value", "json")}
    assert '        ("key_1001", int),\n        ("key_class", str),\n        ("rows", int),\n' in code
    assert 'rows=stats_task.outputs["rows"],\n' in code and 'code=stats_task.outputs["key_1001"],\n' in code
    assert 'everything=stats_task.outputs["return_value"],\n' in code
    assert ('        return (\n            value["1001"],\n            value["class"],\n            value["rows"],\n'
            '            json.dumps(value),\n        )\n') in code
    assert [f.code for f in mapped.findings] == []


def test_a_key_of_a_task_without_multiple_outputs_is_reported(tmp_path):
    mapped, tasks, _ = _convert(tmp_path, '''
        def stats():
            return {"rows": 3}

        def use(rows):
            print(rows)

        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            s = PythonOperator(task_id="stats", python_callable=stats)
            PythonOperator(task_id="use", python_callable=use, op_kwargs={"rows": s.output["rows"]})
        ''')
    assert [(f.code, f.task_id) for f in mapped.findings] == [("M262", "use")]
    assert tasks["use"].fate == "review" and tasks["use"].arguments == {}


def test_a_key_the_producer_pushes_itself_is_not_said_to_fail(tmp_path):
    mapped, _, _ = _convert(tmp_path, '''
        def stats(ti=None):
            ti.xcom_push(key="rows", value=3)
            return "done"

        def use(rows):
            print(rows)

        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            s = PythonOperator(task_id="stats", python_callable=stats)
            PythonOperator(task_id="use", python_callable=use, op_kwargs={"rows": s.output["rows"]})
        ''')
    assert ("M213", "use") in [(f.code, f.task_id) for f in mapped.findings]  # not converted, and not M262


def test_a_container_reading_json_text_is_reported_and_a_str_is_not(tmp_path):
    mapped, _, code = _convert(tmp_path, '''
        def rows():
            return {"rows": 3}

        def day():
            return "2024-01-01"

        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            r = PythonOperator(task_id="rows", python_callable=rows)
            d = PythonOperator(task_id="day", python_callable=day)
            b = BashOperator(task_id="echo", bash_command="echo {{ ti.xcom_pull(task_ids='rows') }} "
                                                          "{{ ti.xcom_pull(task_ids='day') }}")
            [r, d] >> b
        ''')
    assert [(f.code, f.task_id) for f in mapped.findings] == [("M263", "echo")]
    assert "'rows'" in mapped.findings[0].message


def test_expanding_a_mapped_tasks_results_runs_in_its_loop(tmp_path):
    _, tasks, code = _convert(tmp_path, '''
        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            @task
            def files():
                return ["a.csv", "b.csv"]

            @task
            def size(name):
                return len(name)

            @task
            def double(n):
                return n * 2

            @task
            def total(values):
                print(sum(values))

            total(double.expand(n=size.expand(name=files())))
        ''')
    assert tasks["size"].loops == tasks["double"].loops  # one iteration per file, both tasks
    assert "double(n=size_task.output)" in code
    assert "total(values=dsl.Collected(double_task.output))" in code
    assert tasks["files"].python.carrier == "json-items" and tasks["size"].python.carrier == "int"
    assert tasks["total"].python.params == [("values", "int-items", None)]  # collected ints: back to ints


def test_mixed_literal_loop_items_travel_as_json(tmp_path):
    _, tasks, code = _convert(tmp_path, '''
        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            @task
            def show(item):
                print(item)

            show.expand(item=[{"n": 1}, None, 2])
        ''')
    (loop,) = tasks["show"].loops
    assert loop.items == ['{"n": 1}', "null", "2"]
    assert [json.loads(i) for i in loop.items] == [{"n": 1}, None, 2]
    assert tasks["show"].python.params == [("item", "json", None)]


def test_a_function_that_may_return_none_returns_json(tmp_path):
    _, tasks, code = _convert(tmp_path, '''
        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            @task
            def maybe(flag: bool = False) -> str:
                if flag:
                    return "yes"

            @task
            def show(value):
                print(value)

            show(maybe())
        ''')
    assert tasks["maybe"].python.carrier == "json"  # -> str, but it falls off the end: None
    assert '        return json.dumps("yes")\n    return json.dumps(None)\n' in code


def test_returned_expressions_stay_one_value_when_wrapped(tmp_path):
    _, tasks, code = _convert(tmp_path, '''
        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            @task
            def ids(raw):
                return sorted(set(raw), key=lambda x: (x.endswith("_n"), x)) if raw and len(raw) > 0 else []

            @task
            def pair(n):
                return n, n * 2

            @task
            def show(i, p):
                print(i, p)

            show.partial(p=pair(1)).expand(i=ids(["b_n", "a"]))
            show.expand(i=[pair(2)])  # a task's output inside a literal list: not known statically
        ''')
    assert "    return [\n        json.dumps(item)\n        for item in (sorted(set(raw), key=lambda x: (" in code
    assert "    return json.dumps((n, n * 2))\n" in code
    assert [f.code for f in tasks["show__1"].findings][0] == "M222"


def test_a_json_input_after_a_failed_producer_defaults_to_none(tmp_path):
    # all_done: KFP runs the task with the input's default when its producer failed; Airflow passes None.
    _, tasks, code = _convert(tmp_path, '''
        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)):
            @task
            def totals():
                return {"rows": 3}

            @task(trigger_rule="all_done")
            def report(found):
                print(found)

            report(totals())
        ''')
    assert tasks["report"].python.params == [("found", "json", "'null'")]
    assert "def report(found: str = \"null\"):" in code and ".ignore_upstream_failure()" in code
