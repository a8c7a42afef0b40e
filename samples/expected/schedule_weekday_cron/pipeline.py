"""KFP v2 pipeline for the Airflow DAG schedule_weekday_cron, converted by af2kfp.

Airflow source: samples/dags/scheduled_variants.py:18
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def refresh_dashboards():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo refresh"]
    )


@dsl.pipeline(
    name="schedule-weekday-cron",
    description="Converted from Airflow DAG schedule_weekday_cron (samples/dags/scheduled_variants.py:18).",
)
def schedule_weekday_cron():
    # Airflow: samples/dags/scheduled_variants.py:25 refresh_dashboards (BashOperator)
    refresh_dashboards_task = (
        refresh_dashboards()
        .set_display_name("refresh_dashboards")
        .set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=schedule_weekday_cron,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
