"""DAG shapes from real repositories that used to leave a whole DAG without a pipeline (E301): each now
compiles, what KFP cannot express being a finding on the task it touches."""

from __future__ import annotations

import textwrap

from af2kfp.converters.convert import convert_paths

XCOM_SHAPES = """
    from airflow.sdk import DAG, task, task_group
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from acme.operators import LookupOperator

    with DAG("xcom_shapes"):
        detect = KubernetesPodOperator(task_id="detect", name="detect", image="busybox:1.36", cmds=["echo"],
                                       do_xcom_push=True)

        @task_group
        def each(entry):
            @task
            def prepare(entry) -> str:
                return str(entry)
            prepare(entry)

        each.expand(entry=detect.output)  # a pod's XCom is a string: no dsl.ParallelFor over it

        lookup = LookupOperator(task_id="lookup", table="t")  # no rule: a placeholder

        @task
        def use(value) -> None:
            print(value)

        use(lookup.output)  # reads the placeholder's output
"""


def test_loops_and_readers_of_placeholders_compile(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "dag.py").write_text(textwrap.dedent(XCOM_SHAPES), encoding="utf-8")
    report = convert_paths([tmp_path / "dags"], tmp_path / "out")
    assert report["summary"]["compiled"] == 1
    codes = {(f["code"], f["task_id"]) for f in report["findings"]}
    assert ("M222", "each.prepare") in codes and ("M201", "lookup") in codes
    assert not {c for c, _ in codes} & {"E301", "E306"}
    fates = {t["task_id"]: t["fate"] for t in report["dags"][0]["airflow"]["tasks"]}
    assert fates == {"detect": "converted", "each.prepare": "review", "lookup": "unsupported", "use": "converted"}


def test_a_dag_of_empty_operators_compiles_as_no_op_containers(tmp_path):
    """Folding would leave KFP an empty pipeline it cannot compile (E305); Airflow runs such a DAG, so KFP runs
    one no-op container per EmptyOperator, in the same order."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "dag.py").write_text(textwrap.dedent("""
        from airflow.sdk import DAG, Label
        from airflow.providers.standard.operators.empty import EmptyOperator
        with DAG("only_empty"):
            EmptyOperator(task_id="start") >> Label("then") >> EmptyOperator(task_id="end")
    """), encoding="utf-8")
    report = convert_paths([tmp_path / "dags"], tmp_path / "out")
    dag = report["dags"][0]
    assert dag["kfp"]["compiled"] is True and not report["findings"]
    assert {t["task_id"]: t["fate"] for t in dag["airflow"]["tasks"]} == {"start": "converted", "end": "converted"}
    assert [(t["command"], t["args"]) for t in dag["kfp"]["tasks"]] == [(["sh", "-c"], ["true"])] * 2
    names = {t["name"]: t["display_name"] for t in dag["kfp"]["tasks"]}  # one shared no-op component
    assert [[names[u], names[v]] for u, v in dag["kfp"]["edges"]] == [["start", "end"]]
