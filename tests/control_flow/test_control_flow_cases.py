"""Control-flow cases one by one: conditions, findings, and code that the real kfp compiler accepts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from af2kfp.converters.convert import convert_paths

HEADER = """\
import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator
from airflow.sdk import DAG, task, teardown


def work(name: str) -> str:
    return name


def pick_one():
    return "a"


with DAG("case", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
    def op(task_id, **kwargs):
        return PythonOperator(task_id=task_id, python_callable=work, op_kwargs={"name": task_id}, **kwargs)

"""


def _convert(tmp_path: Path, body: str) -> tuple[dict, str]:
    dag_file = tmp_path / "case.py"
    dag_file.write_text(HEADER + textwrap.indent(textwrap.dedent(body), "    "), encoding="utf-8")
    report = convert_paths([dag_file], tmp_path / "out")
    (dag,) = report["dags"]
    assert dag["kfp"]["compiled"], report["findings"]
    return report, (tmp_path / "out" / dag["folder"] / "pipeline.py").read_text(encoding="utf-8")


def _codes(report: dict, task_id: str) -> list[str]:
    return sorted(f["code"] for f in report["findings"] if f.get("task_id") == task_id)


def test_all_success_join_of_exclusive_arms_never_runs(tmp_path):
    dag, code = _convert(tmp_path, """
        pick = BranchPythonOperator(task_id="pick", python_callable=pick_one)
        a, b, both = op("a"), op("b"), op("both")
        pick >> [a, b] >> both
    """)
    assert _codes(dag, "both") == ["M254"]
    assert 'with dsl.If(pick_output == "a"):' in code and "both_task.after(pick_branches_task)" in code


def test_join_of_some_arms_is_approximated(tmp_path):
    dag, code = _convert(tmp_path, """
        @task.branch
        def pick(n: int):
            return ["a", "b", "c"][n]
        a, b, c = op("a"), op("b"), op("c")
        some = op("some", trigger_rule="none_failed_min_one_success")
        pick(1) >> [a, b, c]
        [a, b] >> some
    """)
    assert _codes(dag, "some") == ["M250", "M255"]  # Airflow skips it when pick follows only c
    assert "some_task.after(pick_follow_a_task, pick_follow_b_task)" in code  # each arm its own sub-pipeline


def test_branch_returning_an_id_that_is_not_downstream(tmp_path):
    dag, _ = _convert(tmp_path, """
        @task.branch
        def pick():
            return "elsewhere"
        pick() >> op("a")
    """)
    assert _codes(dag, "pick") == ["M252"]


def test_output_read_from_an_arm_outside_it_gets_an_empty_value(tmp_path):
    dag, code = _convert(tmp_path, """
        @task.branch
        def pick():
            return "make"
        @task
        def make() -> str:
            return "x"
        @task(trigger_rule="none_failed")
        def use(value: str):
            print(value)
        made = make()
        pick() >> [made, op("other")]
        use(made)
    """)
    assert "M253" in _codes(dag, "use")
    assert 'use(value="")' in code


def test_nested_branches_with_a_join_inside_an_arm(tmp_path):
    dag, code = _convert(tmp_path, """
        outer = BranchPythonOperator(task_id="outer", python_callable=pick_one)
        inner = BranchPythonOperator(task_id="a", python_callable=lambda: "x")
        x, y, b = op("x"), op("y"), op("b")
        join = op("join", trigger_rule="none_failed_min_one_success")
        outer >> [inner, b]
        inner >> [x, y] >> join
    """)
    assert _codes(dag, "join") == ["M250"]  # "a" always picks x or y: the join always runs after it
    assert 'def a_branches(a_output: str):\n    with dsl.If(a_output == "x"):' in code
    assert '    with dsl.Else():\n        # Airflow: ' in code
    arm = code[code.index('with dsl.If(outer_task.output == "b"):'):].split("    with dsl.Else():\n", 1)[1]
    assert "a_branches(a_output=a_task.output)" in arm and "join_task.after(a_branches_task)" in arm


def test_short_circuit_that_respects_downstream_trigger_rules(tmp_path):
    dag, code = _convert(tmp_path, """
        gate = ShortCircuitOperator(task_id="gate", python_callable=pick_one,
                                    ignore_downstream_trigger_rules=False)
        first, second, cleanup = op("first"), op("second"), op("cleanup", trigger_rule="all_done")
        gate >> first >> second >> cleanup
    """)
    # first is skipped by the gate, second by its all_success rule; cleanup (all_done) runs anyway.
    inside = code[code.index("def gate_branches(gate_output: bool):"):code.index("def case_():")]
    assert "with dsl.If(gate_output == True):" in inside and "first_task" in inside and "second_task" in inside
    assert "cleanup_task.after(gate_branches_task)" in code and "cleanup_task.ignore_upstream_failure()" in code


def test_teardown_with_downstream_tasks_ignores_upstream_failure(tmp_path):
    dag, code = _convert(tmp_path, """
        @teardown
        def stop():
            print("stop")
        work_task = op("work")
        stopped = stop()
        work_task >> stopped >> op("after")
    """)
    assert "dsl.ExitHandler" not in code
    assert "stop_task.ignore_upstream_failure()" in code
    assert _codes(dag, "stop") == ["M250"]


def test_one_success_without_a_branch_is_flagged(tmp_path):
    dag, _ = _convert(tmp_path, """
        [op("a"), op("b")] >> op("any", trigger_rule="one_success")
    """)
    assert _codes(dag, "any") == ["M251"]


def test_one_failed_alert_runs_after_upstream_whatever_happened(tmp_path):
    dag, code = _convert(tmp_path, """
        op("load") >> op("alert", trigger_rule="one_failed")
    """)
    assert _codes(dag, "alert") == ["M251"]
    assert "alert_task.ignore_upstream_failure()" in code


def test_expand_over_a_container_output_runs_once(tmp_path):
    dag, code = _convert(tmp_path, """
        listing = BashOperator(task_id="listing", bash_command="ls")
        BashOperator.partial(task_id="each").expand(bash_command=listing.output)
    """)
    assert "M222" in _codes(dag, "each")
    assert "ParallelFor" not in code


def test_expand_kwargs_and_parallelism(tmp_path):
    dag, code = _convert(tmp_path, """
        PythonOperator.partial(task_id="each", python_callable=work, max_active_tis_per_dagrun=3).expand_kwargs(
            [{"op_kwargs": {"name": "a"}}, {"op_kwargs": {"name": "b"}}])
        BashOperator.partial(task_id="echo", max_active_tis_per_dag=2).expand_kwargs(
            [{"bash_command": "echo a"}, {"bash_command": "echo b"}])
    """)
    assert _codes(dag, "each") == [] and "parallelism=3" in code  # op_kwargs: one loop field per key
    assert "each(name=kwargs_item.op_kwargs_name)" in code
    assert "parallelism=2" in code and "as kwargs_item:" in code
    assert "echo(input_1=kwargs_item.bash_command)" in code
    assert _codes(dag, "echo") == []


@pytest.mark.parametrize(("rule", "code"), [("all_done", "M250"), ("always", "M251")])
def test_finished_rules_use_ignore_upstream_failure(tmp_path, rule, code):
    dag, emitted = _convert(tmp_path, f"""
        op("a") >> op("b", trigger_rule="{rule}")
    """)
    assert "b_task.ignore_upstream_failure()" in emitted
    assert _codes(dag, "b") == [code]  # always: Airflow does not even wait for a


def test_always_task_is_never_skipped_by_a_branch(tmp_path):
    dag, code = _convert(tmp_path, """
        pick = BranchPythonOperator(task_id="pick", python_callable=pick_one)
        pick >> [op("a"), op("b", trigger_rule="always")]
    """)
    assert 'with dsl.If(pick_task.output == "a"):' in code and "dsl.Else" not in code
    assert not code.split("b_task = ")[0].rstrip().endswith(":")  # not under a condition


def test_operator_expand_fills_list_positions_and_dict_keys(tmp_path):
    dag, code = _convert(tmp_path, """
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
        KubernetesPodOperator.partial(task_id="train", image="t:1", cmds=["train"]).expand(
            arguments=[["--region", "eu"], ["--region", "us"]])
        PythonOperator.partial(task_id="score", python_callable=work).expand(
            op_kwargs=[{"name": "a"}, {"name": "b"}])
        KubernetesPodOperator.partial(task_id="env", image="t:1").expand(env_vars=[{"A": "1"}, {"A": "2"}])
    """)
    assert 'items=[{"arguments_1": "eu"}, {"arguments_1": "us"}]' in code
    assert "train(input_1=arguments_item.arguments_1)" in code and 'args=["--region", input_1]' in code
    assert "score(name=op_kwargs_item.op_kwargs_name)" in code
    assert _codes(dag, "train") == [] and _codes(dag, "score") == []
    assert "M222" in _codes(dag, "env")  # env values are constants in KFP


def test_expand_kwargs_items_must_set_the_same_arguments(tmp_path):
    dag, code = _convert(tmp_path, """
        BashOperator.partial(task_id="echo").expand_kwargs([{"bash_command": "echo a"}, {"env": {"A": "1"}}])
    """)
    assert "M222" in _codes(dag, "echo") and "ParallelFor" not in code
