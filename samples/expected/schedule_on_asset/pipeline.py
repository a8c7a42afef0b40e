"""KFP v2 pipeline for the Airflow DAG schedule_on_asset, converted by af2kfp.

Airflow source: samples/dags/scheduled_variants.py:43
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def rebuild_aggregates():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo aggregates"]
    )


@dsl.pipeline(
    name="schedule-on-asset",
    description="Converted from Airflow DAG schedule_on_asset (samples/dags/scheduled_variants.py:43).",
)
def schedule_on_asset():
    # Airflow: samples/dags/scheduled_variants.py:44 rebuild_aggregates (BashOperator)
    rebuild_aggregates_task = (
        rebuild_aggregates()
        .set_display_name("rebuild_aggregates")
        .set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=schedule_on_asset,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
