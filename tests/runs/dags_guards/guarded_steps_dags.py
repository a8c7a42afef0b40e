"""DAGs whose steps skip or fail themselves through StepOperator's guards."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from guarded_steps import StepOperator

START = pendulum.datetime(2025, 1, 1, tz="UTC")


def step(name):
    print(f"step {name} ran")
    return name


with DAG(dag_id="steps_by_params", schedule=None, start_date=START, catchup=False,
         params={"load": Param("no", enum=["yes", "no"]), "report": Param("yes", enum=["yes", "no"])}):
    extract = StepOperator(task_id="extract", python_callable=step, op_args=["extract"],
                           skip="{% if params.load == 'yes' %}{% else %}yes{% endif %}")
    transform = StepOperator(task_id="transform", python_callable=step, op_args=["transform"])
    summary = StepOperator(task_id="summary", python_callable=step, op_args=["summary"], trigger_rule="none_failed")
    report = StepOperator(task_id="report", python_callable=step, op_args=["report"],
                          skip="{% if params.report == 'yes' %}{% else %}yes{% endif %}")
    dev_only = StepOperator(task_id="not_in_dev", python_callable=step, op_args=["not_in_dev"], skip_envs=["dev"])
    final = StepOperator(task_id="final", python_callable=step, op_args=["final"], trigger_rule="all_done")
    extract >> transform >> summary >> report >> dev_only >> final

# Airflow renders templated fields to text: "0" is a non-empty string, the step skips ...
with DAG(dag_id="steps_count_as_text", schedule=None, start_date=START, catchup=False,
         params={"count": Param(0, type="integer")}):
    StepOperator(task_id="count_gate", python_callable=step, op_args=["count_gate"], skip="{{ params.count }}")

# ... unless the DAG renders native objects: 0 is falsy, the step runs.
with DAG(dag_id="steps_count_native", schedule=None, start_date=START, catchup=False,
         render_template_as_native_obj=True, params={"count": Param(0, type="integer")}):
    StepOperator(task_id="count_gate", python_callable=step, op_args=["count_gate"], skip="{{ params.count }}")

with DAG(dag_id="steps_fail_guard", schedule=None, start_date=START, catchup=False,
         params={"source": Param("", type="string")}):
    checked = StepOperator(task_id="checked", python_callable=step, op_args=["checked"], require="{{ params.source }}")
    after = StepOperator(task_id="after_checked", python_callable=step, op_args=["after"])
    checked >> after
