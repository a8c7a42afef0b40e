"""KFP v2 pipeline for the Airflow DAG subdag_sections, converted by af2kfp.

Airflow source: samples/dags/subdag_sections.py:65
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def run_context(
    logical_date_override: str,
    schedule_time: str,
    create_time: str,
    ds: dsl.OutputPath(str),
):
    """Airflow's dates for this run, from one source (added by af2kfp, see docs/templating.md).

    The logical date is the logical_date parameter when given, else the recurring run's
    scheduled time, else the run's creation time (Airflow 3's trigger timetables).
    """
    from datetime import datetime, timezone

    paths = {"ds": ds}  # the output files, by name

    def when(text):
        """A time KFP gave; "" (KFP before 2.17) or a placeholder left as is (kfp.local) is None."""
        if not text or text.startswith("{{"):
            return None
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    run_time = when(schedule_time) or when(create_time) or datetime.now(timezone.utc)
    given = when(logical_date_override)
    logical_date = given or run_time
    ds = logical_date.strftime("%Y-%m-%d")

    values = {"ds": ds}
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.container_component
def extract_orders(template_1: str):
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=[template_1]
    )


@dsl.component(base_image="python:3.11")
def check_totals(min_rows: int):
    """Fail the run when the merged rollup looks truncated."""
    import json
    import pathlib

    rows = json.loads(pathlib.Path("/data/rollups/summary.json").read_text())["rows"]
    if rows < min_rows:
        raise ValueError(f"the rollup has {rows} rows, expected {min_rows} or more")


@dsl.pipeline(
    name="subdag-sections",
    description="Converted from Airflow DAG subdag_sections (samples/dags/subdag_sections.py:65).",
)
def subdag_sections(logical_date: str = ""):
    # Added by af2kfp: the run's Airflow dates, read by the tasks below
    run_context_task = (
        run_context(
            logical_date_override=logical_date,
            schedule_time=dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
            create_time=dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
        )
        .set_display_name("run context (added by af2kfp)")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/subdag_sections.py:75 extract_orders (BashOperator)
    extract_orders_task = (
        extract_orders(
            template_1=f'extract-orders --date {run_context_task.outputs["ds"]} --out /data/orders'
        )
        .set_display_name("extract_orders")
        .set_caching_options(False)
    )
    extract_orders_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/common/subdags.py:33 regional_rollups.rollup_amer (BashOperator)
    regional_rollups_rollup_amer_task = (
        extract_orders(
            template_1=f'rollup --region amer --date {run_context_task.outputs["ds"]}'
        )
        .set_display_name("regional_rollups.rollup_amer")
        .set_caching_options(False)
    )
    regional_rollups_rollup_amer_task.after(extract_orders_task)
    regional_rollups_rollup_amer_task.set_retry(
        num_retries=3, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/common/subdags.py:33 regional_rollups.rollup_apac (BashOperator)
    regional_rollups_rollup_apac_task = (
        extract_orders(
            template_1=f'rollup --region apac --date {run_context_task.outputs["ds"]}'
        )
        .set_display_name("regional_rollups.rollup_apac")
        .set_caching_options(False)
    )
    regional_rollups_rollup_apac_task.after(extract_orders_task)
    regional_rollups_rollup_apac_task.set_retry(
        num_retries=3, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/common/subdags.py:33 regional_rollups.rollup_emea (BashOperator)
    regional_rollups_rollup_emea_task = (
        extract_orders(
            template_1=f'rollup --region emea --date {run_context_task.outputs["ds"]}'
        )
        .set_display_name("regional_rollups.rollup_emea")
        .set_caching_options(False)
    )
    regional_rollups_rollup_emea_task.after(extract_orders_task)
    regional_rollups_rollup_emea_task.set_retry(
        num_retries=3, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/common/subdags.py:27 regional_rollups.merge_regions (BashOperator)
    regional_rollups_merge_regions_task = (
        extract_orders(
            template_1=f'rollup-merge --date {run_context_task.outputs["ds"]} emea amer apac'
        )
        .set_display_name("regional_rollups.merge_regions")
        .set_caching_options(False)
    )
    regional_rollups_merge_regions_task.after(
        regional_rollups_rollup_amer_task,
        regional_rollups_rollup_apac_task,
        regional_rollups_rollup_emea_task,
    )
    regional_rollups_merge_regions_task.set_retry(
        num_retries=3, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/subdag_sections.py:85 check_totals (PythonOperator)
    check_totals_task = (
        check_totals(min_rows=1000)
        .set_display_name("check_totals")
        .set_caching_options(False)
    )
    check_totals_task.after(regional_rollups_merge_regions_task)
    check_totals_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/subdag_sections.py:53 publish.export_parquet (BashOperator)
    publish_export_parquet_task = (
        extract_orders(
            template_1=f'rollup-export --format parquet --date {run_context_task.outputs["ds"]} --to /mnt/finance/rollups'
        )
        .set_display_name("publish.export_parquet")
        .set_caching_options(False)
    )
    publish_export_parquet_task.after(check_totals_task)
    publish_export_parquet_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/subdag_sections.py:57 publish.notify_finance (BashOperator)
    publish_notify_finance_task = (
        extract_orders(
            template_1=f'notify --channel finance-data --text \'Sales rollup {run_context_task.outputs["ds"]} published\''
        )
        .set_display_name("publish.notify_finance")
        .set_caching_options(False)
    )
    publish_notify_finance_task.after(publish_export_parquet_task)
    publish_notify_finance_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=subdag_sections,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
