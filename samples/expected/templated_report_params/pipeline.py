"""KFP v2 pipeline for the Airflow DAG templated_report_params, converted by af2kfp.

Airflow source: samples/dags/templated_report_params.py:31
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.component(base_image="python:3.11")
def run_context(
    logical_date_override: str,
    schedule_time: str,
    create_time: str,
    ds: dsl.OutputPath(str),
    ds_add_ds_1_9f0089: dsl.OutputPath(str),
    ds_nodash: dsl.OutputPath(str),
):
    """Airflow's dates for this run, from one source (added by af2kfp, see docs/templating.md).

    The logical date is the logical_date parameter when given, else the recurring run's
    scheduled time, else the run's creation time (Airflow 3's trigger timetables).
    """
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    paths = {
        "ds": ds,
        "ds_add_ds_1_9f0089": ds_add_ds_1_9f0089,
        "ds_nodash": ds_nodash,
    }  # the output files, by name

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
    ds_nodash = logical_date.strftime("%Y%m%d")

    def ds_add(ds, days):
        """Airflow's macros.ds_add: a YYYY-MM-DD date moved by a number of days."""
        if not days:
            return str(ds)
        moved = datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)
        return moved.strftime("%Y-%m-%d")

    macros = SimpleNamespace(ds_add=ds_add)

    values = {
        "ds": ds,
        "ds_add_ds_1_9f0089": macros.ds_add(ds, -1),
        "ds_nodash": ds_nodash,
    }
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.component(base_image="python:3.11")
def collect_orders(day: str, source_dag: str, bucket: str, limit: str) -> str:
    """Write the day's orders to a file and return its path (pushed as the XCom)."""
    path = f"/tmp/{source_dag}-{day}.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"bucket,{bucket}\nlimit,{limit}\n")
    return path


@dsl.container_component
def summarize(template_1: str):
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=[template_1]
    )


@dsl.container_component
def publish_report(template_1: str, template_2: str, template_3: str):
    return dsl.ContainerSpec(
        image="registry.example.com/finance/revenue-report:2.3.1",
        args=["publish", template_1, template_2, "--threshold", template_3],
    )


@dsl.pipeline(
    name="templated-report-params",
    description="Daily revenue report: templates and typed params",
)
def templated_report_params(
    limit: int = 1000,
    threshold: float = 0.5,
    dry_run: bool = False,
    region: str = "eu",
    channels: list = ["web", "store"],
    report_bucket: str = "finance-reports",
    logical_date: str = "",
):
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
    # Airflow: samples/dags/templated_report_params.py:48 collect_orders (PythonOperator)
    collect_orders_task = (
        collect_orders(
            day=run_context_task.outputs["ds"],
            source_dag="templated_report_params",
            bucket=report_bucket,
            limit=f"{limit}",
        )
        .set_display_name("collect_orders")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/templated_report_params.py:59 summarize (BashOperator)
    summarize_task = (
        summarize(
            template_1=f'wc -l {collect_orders_task.output} && echo summarize {run_context_task.outputs["ds"]} since {run_context_task.outputs["ds_add_ds_1_9f0089"]} run {dsl.PIPELINE_JOB_ID_PLACEHOLDER} region {region} try {{{{ ti.try_number }}}}'
        )
        .set_display_name("summarize")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/templated_report_params.py:68 publish_report (DockerOperator)
    publish_report_task = (
        publish_report(
            template_1=f'--date={run_context_task.outputs["ds_nodash"]}',
            template_2=f"--bucket={report_bucket}",
            template_3=f"{threshold}",
        )
        .set_display_name("publish_report")
        .set_caching_options(False)
    )
    publish_report_task.after(summarize_task)
    publish_report_task.set_env_variable(name="LOG_LEVEL", value="INFO")
    kubernetes.use_secret_as_env(
        publish_report_task,
        secret_name="airflow-conn-finance-api",
        secret_key_to_env={"password": "API_TOKEN"},
    )
    # Airflow: samples/dags/templated_report_params.py:81 notify (BashOperator)
    notify_task = (
        summarize(
            template_1=f'curl -fsS -u ${{AF2KFP_CONN_SLACK_LOGIN}}:${{AF2KFP_CONN_SLACK_PASSWORD}} https://hooks.example.com/report?day={run_context_task.outputs["ds"]}&dry_run={dry_run}'
        )
        .set_display_name("notify")
        .set_caching_options(False)
    )
    notify_task.after(publish_report_task)
    kubernetes.use_secret_as_env(
        notify_task,
        secret_name="airflow-conn-slack",
        secret_key_to_env={
            "login": "AF2KFP_CONN_SLACK_LOGIN",
            "password": "AF2KFP_CONN_SLACK_PASSWORD",
        },
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=templated_report_params,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
