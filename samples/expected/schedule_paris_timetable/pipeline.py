"""KFP v2 pipeline for the Airflow DAG schedule_paris_timetable, converted by af2kfp.

Airflow source: samples/dags/scheduled_variants.py:35
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def morning_digest():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo digest"]
    )


@dsl.pipeline(
    name="schedule-paris-timetable",
    description="Converted from Airflow DAG schedule_paris_timetable (samples/dags/scheduled_variants.py:35).",
)
def schedule_paris_timetable():
    # Airflow: samples/dags/scheduled_variants.py:41 morning_digest (BashOperator)
    morning_digest_task = (
        morning_digest().set_display_name("morning_digest").set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=schedule_paris_timetable,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
