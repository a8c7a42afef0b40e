"""Branches with joins: each task records that it ran in the file $CF_MARKERS."""

import pendulum
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG, TaskGroup, task


def work(name: str) -> str:
    import os

    with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
        markers.write(name + "\n")
    return name


def choose(size: int):
    if size > 10:
        return "big"
    return "small"


for dag_id, size in (("cf_branch_big", 42), ("cf_branch_small", 1)):
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        pick = BranchPythonOperator(task_id="pick", python_callable=choose, op_kwargs={"size": size})
        big = PythonOperator(task_id="big", python_callable=work, op_kwargs={"name": "big"})
        big_more = PythonOperator(task_id="big_more", python_callable=work, op_kwargs={"name": "big_more"})
        small = PythonOperator(task_id="small", python_callable=work, op_kwargs={"name": "small"})
        join = PythonOperator(task_id="join", python_callable=work, op_kwargs={"name": "join"},
                              trigger_rule="none_failed_min_one_success")
        never = PythonOperator(task_id="never", python_callable=work, op_kwargs={"name": "never"})
        report = PythonOperator(task_id="report", python_callable=work, op_kwargs={"name": "report"})
        pick >> [big, small]
        big >> big_more >> join
        small >> join >> report
        big_more >> never


with DAG("cf_regions", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):

    @task.branch
    def regions(names: list):
        return [f"load_{n}" for n in names]

    loads = [
        PythonOperator(task_id=f"load_{r}", python_callable=work, op_kwargs={"name": f"load_{r}"})
        for r in ("eu", "us", "apac")
    ]
    merged = PythonOperator(task_id="merged", python_callable=work, op_kwargs={"name": "merged"},
                            trigger_rule="none_failed")
    regions(["eu", "us"]) >> loads
    loads >> merged


def to_heavy():
    return "heavy"  # a TaskGroup id: Airflow follows its root tasks


def to_heavy_computed():
    return ["heavy", "light"][:1]  # known only at run time: one flag per downstream task


for dag_id, decide in (("cf_branch_group", to_heavy), ("cf_branch_group_set", to_heavy_computed)):
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        route = BranchPythonOperator(task_id="route", python_callable=decide)
        with TaskGroup("heavy") as heavy:
            first = PythonOperator(task_id="first", python_callable=work, op_kwargs={"name": "heavy.first"})
            second = PythonOperator(task_id="second", python_callable=work, op_kwargs={"name": "heavy.second"})
            first >> second
        light = PythonOperator(task_id="light", python_callable=work, op_kwargs={"name": "light"})
        route >> [heavy, light]
