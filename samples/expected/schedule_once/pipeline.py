"""KFP v2 pipeline for the Airflow DAG schedule_once, converted by af2kfp.

Airflow source: samples/dags/scheduled_variants.py:46
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def backfill_history():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo backfill"]
    )


@dsl.pipeline(
    name="schedule-once",
    description="Converted from Airflow DAG schedule_once (samples/dags/scheduled_variants.py:46).",
)
def schedule_once():
    # Airflow: samples/dags/scheduled_variants.py:47 backfill_history (BashOperator)
    backfill_history_task = (
        backfill_history()
        .set_display_name("backfill_history")
        .set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=schedule_once,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
