"""SubDAG factories (Airflow 2): each call builds the DAG a SubDagOperator runs.

Before TaskGroups (Airflow 2.0) teams grouped tasks by building a child DAG with a
factory like this one and running it with ``SubDagOperator``. The child's ``dag_id``
must be ``<parent dag_id>.<operator task_id>``; its tasks use the child's own
``default_args``, not the parent's.
"""

from __future__ import annotations

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

ROLLUP_START = pendulum.datetime(2024, 1, 1, tz="UTC")


def region_rollup_subdag(parent_dag_id: str, task_id: str, regions: list[str], args: dict) -> DAG:
    """One rollup per region in parallel, then a merge of the regional totals."""
    subdag = DAG(
        dag_id=f"{parent_dag_id}.{task_id}",
        default_args=args,
        schedule="@daily",
        start_date=ROLLUP_START,
        catchup=False,
    )
    merge = BashOperator(
        task_id="merge_regions",
        bash_command="rollup-merge --date {{ ds }} " + " ".join(regions),
        dag=subdag,
    )
    for region in regions:
        rollup = BashOperator(
            task_id=f"rollup_{region}",
            bash_command=f"rollup --region {region} --date {{{{ ds }}}}",
            dag=subdag,
        )
        rollup >> merge
    return subdag
