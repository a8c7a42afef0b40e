"""KFP v2 pipeline for the Airflow DAG taskflow_context_report, converted by af2kfp.

Airflow source: samples/dags/taskflow_context_report.py:59
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def run_context(
    logical_date_override: str,
    schedule_time: str,
    create_time: str,
    data_interval_start: dsl.OutputPath(str),
    ds: dsl.OutputPath(str),
    ds_format_ds_y_m_d_d_m_y_5bf871: dsl.OutputPath(str),
    ds_nodash: dsl.OutputPath(str),
    ds_replace_c05e9e: dsl.OutputPath(str),
    ts: dsl.OutputPath(str),
):
    """Airflow's dates for this run, from one source (added by af2kfp, see docs/templating.md).

    The logical date is the logical_date parameter when given, else the recurring run's
    scheduled time, else the run's creation time (Airflow 3's trigger timetables).
    """
    from datetime import datetime, timezone
    from types import SimpleNamespace

    paths = {
        "data_interval_start": data_interval_start,
        "ds": ds,
        "ds_format_ds_y_m_d_d_m_y_5bf871": ds_format_ds_y_m_d_d_m_y_5bf871,
        "ds_nodash": ds_nodash,
        "ds_replace_c05e9e": ds_replace_c05e9e,
        "ts": ts,
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
    data_interval_start = data_interval_end = logical_date
    ds = logical_date.strftime("%Y-%m-%d")
    ds_nodash = logical_date.strftime("%Y%m%d")
    ts = logical_date.isoformat()

    def ds_format(ds, input_format, output_format):
        """Airflow's macros.ds_format: a date string from one format to another."""
        return datetime.strptime(str(ds), input_format).strftime(output_format)

    macros = SimpleNamespace(ds_format=ds_format)

    values = {
        "data_interval_start": data_interval_start,
        "ds": ds,
        "ds_format_ds_y_m_d_d_m_y_5bf871": macros.ds_format(ds, "%Y-%m-%d", "%d.%m.%Y"),
        "ds_nodash": ds_nodash,
        "ds_replace_c05e9e": str(ds).replace("-", "/"),
        "ts": ts,
    }
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.component(base_image="python:3.11")
def collect(day: str, folder: str, region: str) -> str:
    import json

    context = {"params": {"region": region}}

    region = context["params"]["region"]
    print(f"collecting {region} metrics of {day} from {folder}")
    files = [f"{folder}/part-{n}.csv" for n in range(2)]
    return json.dumps({"day": day, "region": region, "files": files})


@dsl.component(base_image="python:3.11")
def has_files(metrics: str, ds: str) -> bool:
    import json
    from types import SimpleNamespace

    context = {"ds": ds, "ti": SimpleNamespace(task_id="has_files")}

    # Values that travel as JSON text, decoded back to what Airflow passes
    metrics = json.loads(metrics)

    task_id, day = context["ti"].task_id, context["ds"]
    print(f"{task_id} sees {len(metrics['files'])} files of {day}")
    return bool(len(metrics["files"]) > 0)


@dsl.component(base_image="python:3.11")
def build_report(
    metrics: str, data_interval_start: str, ts: str, dag_run_conf: dict
) -> str:
    import json
    from datetime import datetime
    from types import SimpleNamespace

    def number(text):  # KFP carries a run's JSON numbers as floats: 25 arrives as 25.0
        return int(float(text)) if float(text).is_integer() else float(text)

    dag_run_conf = json.loads(json.dumps(dag_run_conf), parse_float=number)
    data_interval_start = datetime.fromisoformat(data_interval_start)
    dag_run = SimpleNamespace(conf=dag_run_conf)

    # Values that travel as JSON text, decoded back to what Airflow passes
    metrics = json.loads(metrics)

    week = data_interval_start.strftime("%G-W%V")
    owner = dag_run.conf.get("owner", "analytics")
    print(f"report for week {week} at {ts} by {owner}: {', '.join(metrics['files'])}")
    return f"{metrics['region']}-{week}"


@dsl.container_component
def archive(template_1: str):
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=[template_1]
    )


@dsl.pipeline(
    name="taskflow-context-report",
    description="Converted from Airflow DAG taskflow_context_report (samples/dags/taskflow_context_report.py:59).",
)
def taskflow_context_report(
    region: str = "eu", dag_run_conf: dict = {}, logical_date: str = ""
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
    # Airflow: samples/dags/taskflow_context_report.py:55 collect (@task)
    collect_task = (
        collect(
            day=run_context_task.outputs["ds"],
            folder=f'metrics/{run_context_task.outputs["ds_replace_c05e9e"]}',
            region=region,
        )
        .set_display_name("collect")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_context_report.py:56 has_files (@task.short_circuit)
    has_files_task = (
        has_files(metrics=collect_task.output, ds=run_context_task.outputs["ds"])
        .set_display_name("has_files")
        .set_caching_options(False)
    )
    with dsl.If(has_files_task.output == True):
        # Airflow: samples/dags/taskflow_context_report.py:56 build_report (@task)
        build_report_task = (
            build_report(
                metrics=collect_task.output,
                data_interval_start=run_context_task.outputs["data_interval_start"],
                ts=run_context_task.outputs["ts"],
                dag_run_conf=dag_run_conf,
            )
            .set_display_name("build_report")
            .set_caching_options(False)
        )
        # Airflow: samples/dags/taskflow_context_report.py:47 archive (BashOperator)
        archive_task = (
            archive(
                template_1=f'echo archiving reports/{run_context_task.outputs["ds_nodash"]} as {run_context_task.outputs["ds_format_ds_y_m_d_d_m_y_5bf871"]}'
            )
            .set_display_name("archive")
            .set_caching_options(False)
        )
        archive_task.after(build_report_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=taskflow_context_report,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
