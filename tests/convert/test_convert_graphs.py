"""convert_graphs: files written, report.json complete and consistent, failures contained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from af2kfp.converters import convert
from af2kfp.converters.convert import convert_graphs
from af2kfp.converters.mappings import map_graph
from af2kfp.converters.graph import DagInfo, PythonCallable, add_edge, add_task, graph_from_json, graph_to_json, new_graph
from af2kfp.converters.mappings.example import example_task
from af2kfp.converters.values import TaskRef

BASH = "airflow.providers.standard.operators.bash.BashOperator"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"


def _good(dag_id="etl"):
    g = new_graph(DagInfo(dag_id=dag_id, file="dags/etl.py", line=1))
    add_task(g, example_task(EMPTY, "start"))
    add_task(g, example_task(BASH, "grp.a", bash_command="echo a"))
    add_task(g, example_task(BASH, "grp.b", bash_command="echo {{ ti.try_number }}"))
    add_task(g, example_task("acme.Custom", "c"))
    for up, down in [("start", "grp.a"), ("start", "grp.b"), ("grp.a", "c"), ("grp.b", "c")]:
        add_edge(g, up, down)
    return g


def _broken():
    """A parameter named ``Output`` (reserved by kfp): the compiler rejects task c, a placeholder stands in."""
    g = new_graph(DagInfo(dag_id="broken", file="dags/broken.py", line=4))
    produce = PythonCallable(name="p", source="def p() -> dict:\n    return {}\n", file="dags/broken.py", line=5)
    consume = PythonCallable(name="c", source="def c(Output: dict):\n    print(Output)\n", file="dags/broken.py", line=8)
    add_task(g, example_task("airflow.sdk.task", "p", python=produce))
    add_task(g, example_task("airflow.sdk.task", "c", python=consume, call_kwargs={"Output": TaskRef(task_id="p")}))
    add_edge(g, "p", "c", kind="data")
    return g


def _unfixable():
    """A task whose outputs kfp refuses (its stand-in keeps them, so it is refused too): no pipeline."""
    g = new_graph(DagInfo(dag_id="unfixable", file="dags/unfixable.py", line=2))
    produce = PythonCallable(name="p", source="def p() -> dict:\n    return {}\n", file="dags/unfixable.py", line=3)
    add_task(g, example_task("airflow.sdk.task", "p", python=produce))
    return g


def _map_with_a_bad_output(graph, config=None, pipelines=None):
    """The real mapping, then an output name kfp rejects on the ``unfixable`` DAG's task (a fault injected
    into af2kfp's own output, so the compile path that keeps E301 runs against the real compiler)."""
    mapped = map_graph(graph, config, pipelines)
    for task in mapped.tasks:
        if mapped.graph.graph["dag"].dag_id == "unfixable" and task.python is not None:
            task.python.params.append(("Output", "dsl.OutputPath(bool)", None))
    return mapped


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    (out / "unfixable").mkdir()
    (out / "unfixable" / "pipeline.yaml").write_text("stale")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(convert, "map_graph", _map_with_a_bad_output)
        report = convert_graphs([_good(), _broken(), _good(), _unfixable()], out,
                                files=["dags/etl.py", "dags/broken.py", "dags/unfixable.py"])
    return out, report


def test_outputs_written_and_compile_failure_contained(converted):
    out, report = converted
    assert (out / "etl" / "pipeline.py").is_file() and (out / "etl" / "pipeline.yaml").is_file()
    assert (out / "unfixable" / "pipeline.py").is_file()
    assert not (out / "unfixable" / "pipeline.yaml").exists()
    assert (out / "etl-2" / "pipeline.yaml").is_file()
    assert json.loads((out / "report.json").read_text()) == report
    unfixable = next(d for d in report["dags"] if d["dag_id"] == "unfixable")
    assert unfixable["kfp"] | {"tasks": None} == unfixable["kfp"] | {
        "compiled": False, "yaml": None, "python": "unfixable/pipeline.py", "tasks": None}
    codes = {f["code"] for f in report["findings"]}
    assert {"E301", "E304", "E306", "M201", "M240"} <= codes
    e301 = [f for f in report["findings"] if f["code"] == "E301"]
    assert [f["dag_id"] for f in e301] == ["unfixable"] and "invalid parameter name" in e301[0]["message"]


def test_a_task_kfp_rejects_costs_that_task_not_the_dag(converted):
    out, report = converted
    broken = next(d for d in report["dags"] if d["dag_id"] == "broken")
    assert broken["kfp"]["compiled"] is True and (out / "broken" / "pipeline.yaml").is_file()
    assert {t["task_id"]: t["fate"] for t in broken["airflow"]["tasks"]} == {"p": "converted", "c": "unsupported"}
    assert {t["display_name"]: t["kind"] for t in broken["kfp"]["tasks"]} == {"p": "python", "c": "placeholder"}
    rejected = [f for f in report["findings"] if f["code"] == "E306"]
    assert [(f["dag_id"], f["task_id"], f["severity"]) for f in rejected] == [("broken", "c", "error")]
    assert "Output" in rejected[0]["message"] and rejected[0]["line"] is not None
    assert broken["kfp"]["edges"] == [["p", "c"]]


def test_report_fields_and_fates(converted):
    _, report = converted
    assert report["schema_version"] == 1
    etl = report["dags"][0]
    assert (etl["dag_id"], etl["file"], etl["line"]) == ("etl", "dags/etl.py", 1)
    fates = {t["task_id"]: t["fate"] for t in etl["airflow"]["tasks"]}
    assert fates == {"start": "folded", "grp.a": "converted", "grp.b": "review", "c": "unsupported"}
    assert ["start", "grp.a"] in etl["airflow"]["edges"]
    names = {t["display_name"]: t["name"] for t in etl["kfp"]["tasks"]}
    assert names == {"grp.a": "grp-a", "grp.b": "grp-b", "c": "c"}
    assert sorted(etl["kfp"]["edges"]) == [["grp-a", "c"], ["grp-b", "c"]]
    assert etl["kfp"]["compiled"] is True and etl["kfp"]["yaml"] == "etl/pipeline.yaml"
    assert graph_to_json(graph_from_json(etl["graph"])) == etl["graph"]


def test_summary_counts_add_up(converted):
    _, report = converted
    s = report["summary"]
    assert s["dags"] == len(report["dags"]) == 4
    assert s["tasks"] == sum(len(d["airflow"]["tasks"]) for d in report["dags"])
    assert s["tasks"] == s["converted"] + s["folded"] + s["review"] + s["unsupported"]
    assert s["compiled"] == sum(d["kfp"]["compiled"] for d in report["dags"]) == 3
    assert s["findings"]["total"] == len(report["findings"]) == s["findings"]["info"] + s["findings"]["warning"] + s["findings"]["error"]
    assert s["files"] == 3


def test_private_values_never_written(tmp_path):
    g = new_graph(DagInfo(dag_id="s", file="dags/s.py", line=1,
                          default_args={"private_environment": {"K": "from-default-args-value"}}))
    add_task(g, example_task("airflow.providers.docker.operators.docker.DockerOperator", "t", image="a:1",
                             private_environment={"DB_PASSWORD": "hunter2-value"}, environment={"MODE": "x"}))
    add_task(g, example_task("acme.SnowflakeOperator", "q", password="pw-value", warehouse="wh"))
    report = convert_graphs([g], tmp_path)
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    for secret in ("hunter2-value", "pw-value", "from-default-args-value"):
        assert secret not in written and secret not in json.dumps(report)
    assert "DB_PASSWORD" in written and "wh" in written
    assert graph_from_json(report["dags"][0]["graph"]) is not None


def test_code_spans_point_at_component_and_task(converted):
    out, report = converted
    etl = report["dags"][0]
    code = (out / "etl" / "pipeline.py").read_text().splitlines()
    for task in etl["kfp"]["tasks"]:
        first, last = task["lines"]["task"]
        assert code[first - 1].strip().startswith("# Airflow: ") and task["display_name"] in code[first - 1]
        assert any(f'set_display_name("{task["display_name"]}")' in line for line in code[first - 1:last])
        start, end = task["lines"]["component"]
        assert code[start - 1].startswith("@dsl.") and f"def {task['component']}(" in code[start]


def test_progress_called_once_per_dag(tmp_path):
    calls = []
    convert_graphs([_good("a"), _good("b")], tmp_path, progress=lambda *args: calls.append(args))
    assert calls == [(1, 2, "a"), (2, 2, "b")]


def test_report_matches_its_json_schema(converted):
    import jsonschema

    schema = json.loads((Path(__file__).parent / "report.schema.json").read_text())
    jsonschema.validate(converted[1], schema)


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_workers_give_the_same_output(tmp_path, jobs):
    graphs = [_good(f"dag{i}") for i in range(8)] + [_broken()]
    serial = convert_graphs(graphs, tmp_path / "serial", jobs=1)
    parallel = convert_graphs([_good(f"dag{i}") for i in range(8)] + [_broken()], tmp_path / "parallel", jobs=jobs)
    assert parallel == serial
    for path in (tmp_path / "serial").rglob("*"):
        if path.is_file():
            assert (tmp_path / "parallel" / path.relative_to(tmp_path / "serial")).read_text() == path.read_text()


def test_running_pipeline_py_writes_the_same_yaml(converted, tmp_path):
    import shutil
    import subprocess
    import sys

    out, _ = converted
    shutil.copy(out / "etl" / "pipeline.py", tmp_path / "pipeline.py")
    done = subprocess.run([sys.executable, "pipeline.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pipeline.yaml").read_text() == (out / "etl" / "pipeline.yaml").read_text()


def test_a_worker_that_never_answers_is_a_finding_not_a_hang(monkeypatch):
    """Without a way to see who took the job (a pool given from outside), the timeout still ends the wait."""
    import multiprocessing
    import os

    import af2kfp.converters.convert as convert

    monkeypatch.setattr(convert, "WORKER_TIMEOUT", 2)
    result = convert._generate(_good("lost"), None)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        compiling = pool.apply_async(os._exit, (3,))  # the worker dies without answering
        outcome = convert._outcome(result, compiling)
    assert outcome.yaml is None and outcome.findings[0].code == "E301"
    assert "gave no result" in outcome.findings[0].message
