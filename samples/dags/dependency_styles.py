"""Every way of wiring dependencies that real DAG files mix.

Shows ``>>`` and ``<<`` on tasks and lists, ``set_upstream``/``set_downstream``,
``chain`` with lists of equal length (pairwise) and ``cross_downstream`` (all to all).
"""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, chain, cross_downstream

with DAG(
    dag_id="dependency_styles",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["dependencies"],
) as dag:
    begin = EmptyOperator(task_id="begin")
    fetch_a = BashOperator(task_id="fetch_a", bash_command="echo fetch a")
    fetch_b = BashOperator(task_id="fetch_b", bash_command="echo fetch b")
    parse_a = BashOperator(task_id="parse_a", bash_command="echo parse a")
    parse_b = BashOperator(task_id="parse_b", bash_command="echo parse b")
    merge_x = BashOperator(task_id="merge_x", bash_command="echo merge x")
    merge_y = BashOperator(task_id="merge_y", bash_command="echo merge y")
    validate = BashOperator(task_id="validate", bash_command="echo validate")
    notify = BashOperator(task_id="notify", bash_command="echo notify")
    archive = BashOperator(task_id="archive", bash_command="echo archive")
    end = EmptyOperator(task_id="end")

    # begin -> fetch_a, begin -> fetch_b (written right to left)
    [fetch_a, fetch_b] << begin
    # fetch_a -> parse_a, fetch_b -> parse_b (pairwise)
    chain([fetch_a, fetch_b], [parse_a, parse_b])
    # each parse -> each merge
    cross_downstream([parse_a, parse_b], [merge_x, merge_y])
    validate.set_upstream([merge_x, merge_y])
    validate.set_downstream(notify)
    archive << validate
    end << [notify, archive]
