"""What differs between Airflow 3 (the main environment) and Airflow 2.10 (``.ci/airflow2.sh``)
for these tests, in one place: the DAG class, how a DAG reaches the metadata DB, XCom reads."""

from __future__ import annotations

from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from packaging.version import Version

__all__ = [
    "AIRFLOW_3",
    "AIRFLOW_VERSION",
    "DAG",
    "extra_link_url",
    "has_task_state_store",
    "import_string",
    "reset_db",
    "serialization_round_trip",
    "store_dag",
    "xcom_value",
]

AIRFLOW_3 = Version(Version(AIRFLOW_VERSION).base_version) >= Version("3.0")


def has_task_state_store() -> bool:
    """Airflow 3.3+ gives tasks a state store that survives retries of one task instance."""
    return Version(Version(AIRFLOW_VERSION).base_version) >= Version("3.3")

if AIRFLOW_3:
    from airflow.sdk import DAG
    from airflow.sdk._shared.module_loading import import_string
else:
    from airflow.models.dag import DAG  # type: ignore[no-redef]
    from airflow.utils.module_loading import import_string  # type: ignore[no-redef]


def reset_db() -> None:
    from airflow.utils import db

    db.resetdb()
    if AIRFLOW_3:
        from airflow.dag_processing.bundles.manager import DagBundlesManager

        DagBundlesManager().sync_bundles_to_db()


def store_dag(dag: Any) -> None:
    """Serialise ``dag`` into the metadata DB, as the DAG processor would (dag.test needs it)."""
    if AIRFLOW_3:
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

        bag = DagBag(dag_folder="/nonexistent")
        bag.bag_dag(dag)
        sync_bag_to_db(bag, "dags-folder", None)
    else:
        from airflow.models.serialized_dag import SerializedDagModel

        dag.sync_to_db()
        SerializedDagModel.write_dag(dag)


def serialization_round_trip(dag: Any) -> Any:
    """The DAG as the scheduler and UI see it after serialisation."""
    if AIRFLOW_3:
        from airflow.serialization.serialized_objects import DagSerialization

        return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    from airflow.serialization.serialized_objects import SerializedDAG

    return SerializedDAG.deserialize_dag(SerializedDAG.serialize_dag(dag))


def extra_link_url(dag_id: str, run_id: str, task_id: str, ti_key: Any) -> Any:
    """The "KFP run" link as the UI gets it: Airflow 3 stores it in XCom when the task ends,
    Airflow 2 asks the link class when the page is shown."""
    if AIRFLOW_3:
        return xcom_value(dag_id, run_id, task_id, "_link_KfpRunLink")
    from af2kfp.airflow_plugins.links.kfp import KfpRunLink

    return KfpRunLink().get_link(None, ti_key=ti_key)


def xcom_value(dag_id: str, run_id: str, task_id: str, key: str) -> Any:
    from airflow.utils.session import create_session

    with create_session() as session:
        if AIRFLOW_3:
            from airflow.models.xcom import XComModel

            row = session.scalars(
                XComModel.get_many(run_id=run_id, dag_ids=dag_id, task_ids=task_id, key=key)
            ).first()
            return None if row is None else XComModel.deserialize_value(row)
        from airflow.models.xcom import XCom

        row = XCom.get_many(
            run_id=run_id, dag_ids=dag_id, task_ids=task_id, key=key, session=session
        ).first()
        return None if row is None else row.value  # Airflow 2 deserialises rows when loading them
