"""KFP v2 pipeline for the Airflow DAG legacy_weekly_reporting, converted by af2kfp.

Airflow source: samples/dags/legacy_reporting_110.py:30
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def run_context(
    logical_date_override: str,
    schedule_time: str,
    create_time: str,
    execution_date: dsl.OutputPath(str),
):
    """Airflow's dates for this run, from one source (added by af2kfp, see docs/templating.md).

    The logical date is the logical_date parameter when given, else the recurring run's
    scheduled time, else the run's creation time (Airflow 3's trigger timetables).
    """
    from datetime import datetime, timezone

    paths = {"execution_date": execution_date}  # the output files, by name

    def when(text):
        """A time KFP gave; "" (KFP before 2.17) or a placeholder left as is (kfp.local) is None."""
        if not text or text.startswith("{{"):
            return None
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    run_time = when(schedule_time) or when(create_time) or datetime.now(timezone.utc)
    given = when(logical_date_override)
    logical_date = given or run_time
    execution_date = logical_date

    values = {"execution_date": execution_date}
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.component(base_image="python:3.11")
def pick_report_week(execution_date: str) -> str:
    from datetime import datetime

    context = {"execution_date": datetime.fromisoformat(execution_date)}

    execution_date = context["execution_date"]
    return execution_date.strftime("%Y-W%W")


@dsl.container_component
def build_report(input_1: str):
    return dsl.ContainerSpec(
        image="registry.example.com/bi/reports:2019.11",
        command=["python", "build_report.py"],
        args=["--week", input_1],
    )


@dsl.container_component
def email_report():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["python send_report.py --to bi-readers@example.com"],
    )


@dsl.pipeline(
    name="legacy-weekly-reporting",
    description="Converted from Airflow DAG legacy_weekly_reporting (samples/dags/legacy_reporting_110.py:30).",
)
def legacy_weekly_reporting(logical_date: str = ""):
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
    # Airflow: samples/dags/legacy_reporting_110.py:45 pick_report_week (PythonOperator)
    pick_report_week_task = (
        pick_report_week(execution_date=run_context_task.outputs["execution_date"])
        .set_display_name("pick_report_week")
        .set_caching_options(False)
    )
    pick_report_week_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/legacy_reporting_110.py:52 build_report (KubernetesPodOperator)
    build_report_task = (
        build_report(input_1=pick_report_week_task.output)
        .set_display_name("build_report")
        .set_caching_options(False)
    )
    build_report_task.set_env_variable(name="REPORT_KIND", value="weekly")
    build_report_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/legacy_reporting_110.py:66 email_report (BashOperator)
    email_report_task = (
        email_report().set_display_name("email_report").set_caching_options(False)
    )
    email_report_task.after(build_report_task)
    email_report_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=legacy_weekly_reporting,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
