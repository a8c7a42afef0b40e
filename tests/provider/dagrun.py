"""Run an in-memory DAG with dag.test() and read back what the run left in the metadata DB."""

from __future__ import annotations

from typing import Any


def run_dag(dag: Any) -> Any:
    """Serialise ``dag`` into the DB (dag.test needs it) and run it once; returns the DagRun."""
    from tests.provider.airflow_versions import store_dag

    store_dag(dag)
    return dag.test()


def task_instance(dag_run: Any, task_id: str, map_index: int = -1) -> Any:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_run.dag_id,
                TaskInstance.run_id == dag_run.run_id,
                TaskInstance.task_id == task_id,
                TaskInstance.map_index == map_index,
            )
        ).one()


def xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    from tests.provider.airflow_versions import xcom_value

    return xcom_value(dag_run.dag_id, dag_run.run_id, task_id, key)


def extra_link(dag_run: Any, task_id: str) -> Any:
    """The task's "KFP run" link, as the UI shows it."""
    from tests.provider.airflow_versions import extra_link_url

    ti = task_instance(dag_run, task_id)
    return extra_link_url(dag_run.dag_id, dag_run.run_id, task_id, ti.key)
