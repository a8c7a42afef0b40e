"""KFP v2 pipeline for the Airflow DAG schedule_every_six_hours, converted by af2kfp.

Airflow source: samples/dags/scheduled_variants.py:27
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def sync_inventory():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo sync"]
    )


@dsl.pipeline(
    name="schedule-every-six-hours",
    description="Converted from Airflow DAG schedule_every_six_hours (samples/dags/scheduled_variants.py:27).",
)
def schedule_every_six_hours():
    # Airflow: samples/dags/scheduled_variants.py:33 sync_inventory (BashOperator)
    sync_inventory_task = (
        sync_inventory().set_display_name("sync_inventory").set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=schedule_every_six_hours,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
