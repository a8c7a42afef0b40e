"""KFP v2 pipeline for the Airflow DAG inline_operator_blocked, converted by af2kfp.

Airflow source: samples/dags/inline_operator_blocked.py:33
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def snapshot_orders():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["sh", "-c"],
        args=[
            "echo 'af2kfp placeholder: Airflow task snapshot_orders (inline_operator_blocked.WarehouseSnapshotOperator) was not converted' >&2; exit 1"
        ],
    )


@dsl.container_component
def verify_snapshot():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["gsutil ls gs://acme-warehouse-snapshots/"],
    )


@dsl.pipeline(
    name="inline-operator-blocked",
    description="Converted from Airflow DAG inline_operator_blocked (samples/dags/inline_operator_blocked.py:33).",
)
def inline_operator_blocked():
    # Airflow: samples/dags/inline_operator_blocked.py:40 snapshot_orders (WarehouseSnapshotOperator) - placeholder, not converted
    snapshot_orders_task = (
        snapshot_orders().set_display_name("snapshot_orders").set_caching_options(False)
    )
    # Airflow: samples/dags/inline_operator_blocked.py:45 verify_snapshot (BashOperator)
    verify_snapshot_task = (
        verify_snapshot().set_display_name("verify_snapshot").set_caching_options(False)
    )
    verify_snapshot_task.after(snapshot_orders_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=inline_operator_blocked,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
