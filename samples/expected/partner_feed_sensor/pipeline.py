"""KFP v2 pipeline for the Airflow DAG partner_feed_sensor, converted by af2kfp.

Airflow source: samples/dags/partner_feed_sensor.py:30
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes

# airflow_operator_runner.py: written by af2kfp beside this file; pipeline.yaml carries its text.
AIRFLOW_OPERATOR_RUNNER = (
    Path(__file__).with_name("airflow_operator_runner.py").read_text(encoding="utf-8")
)


@dsl.component(base_image="python:3.11")
def run_context(
    logical_date_override: str,
    schedule_time: str,
    create_time: str,
    data_interval_end: dsl.OutputPath(str),
    data_interval_start: dsl.OutputPath(str),
    ts: dsl.OutputPath(str),
):
    """Airflow's dates for this run, from one source (added by af2kfp, see docs/templating.md).

    The logical date is the logical_date parameter when given, else the recurring run's
    scheduled time, else the run's creation time (Airflow 3's trigger timetables).
    """
    from datetime import datetime, timezone

    paths = {
        "data_interval_end": data_interval_end,
        "data_interval_start": data_interval_start,
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
    ts = logical_date.isoformat()

    values = {
        "data_interval_end": data_interval_end,
        "data_interval_start": data_interval_start,
        "ts": ts,
    }
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.container_component
def let_upload_settle(ts: str, data_interval_start: str, data_interval_end: str):
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.standard.sensors.time_delta.TimeDeltaSensor",
            "--dag-id",
            "partner_feed_sensor",
            "--task-id",
            "let_upload_settle",
            "--kwargs",
            '{"delta": {"$duration": 600.0}, "mode": "reschedule"}',
            "--logical-date",
            ts,
            "--data-interval",
            data_interval_start,
            data_interval_end,
        ],
    )


@dsl.container_component
def wait_for_drop():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.standard.sensors.filesystem.FileSensor",
            "--dag-id",
            "partner_feed_sensor",
            "--task-id",
            "wait_for_drop",
            "--kwargs",
            '{"filepath": "/mnt/partner-drops/acme/feed.csv", "mode": "reschedule", "poke_interval": 300, "timeout": 21600}',
        ],
    )


@dsl.component(base_image="python:3.11")
def drop_not_empty(path: str) -> bool:
    import os

    return bool(os.path.getsize(path) > 0)


@dsl.component(base_image="python:3.11")
def count_rows(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


@dsl.container_component
def process_drop():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            "partner-feed process /mnt/partner-drops/acme/feed.csv --archive /mnt/partner-drops/acme/archive/"
        ],
    )


@dsl.pipeline(
    name="partner-feed-sensor",
    description="Converted from Airflow DAG partner_feed_sensor (samples/dags/partner_feed_sensor.py:30).",
)
def partner_feed_sensor(logical_date: str = ""):
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
    # Airflow: samples/dags/partner_feed_sensor.py:39 let_upload_settle (TimeDeltaSensor)
    let_upload_settle_task = (
        let_upload_settle(
            ts=run_context_task.outputs["ts"],
            data_interval_start=run_context_task.outputs["data_interval_start"],
            data_interval_end=run_context_task.outputs["data_interval_end"],
        )
        .set_display_name("let_upload_settle")
        .set_caching_options(False)
    )
    let_upload_settle_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/partner_feed_sensor.py:40 wait_for_drop (FileSensor)
    wait_for_drop_task = (
        wait_for_drop().set_display_name("wait_for_drop").set_caching_options(False)
    )
    wait_for_drop_task.after(let_upload_settle_task)
    wait_for_drop_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        wait_for_drop_task,
        secret_name="airflow-conn-fs-default",
        secret_key_to_env={"uri": "AIRFLOW_CONN_FS_DEFAULT"},
        optional=True,
    )
    # Airflow: samples/dags/partner_feed_sensor.py:48 drop_not_empty (ShortCircuitOperator)
    drop_not_empty_task = (
        drop_not_empty(path="/mnt/partner-drops/acme/feed.csv")
        .set_display_name("drop_not_empty")
        .set_caching_options(False)
    )
    drop_not_empty_task.after(wait_for_drop_task)
    drop_not_empty_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    with dsl.If(drop_not_empty_task.output == True):
        # Airflow: samples/dags/partner_feed_sensor.py:54 count_rows (PythonOperator)
        count_rows_task = (
            count_rows(path="/mnt/partner-drops/acme/feed.csv")
            .set_display_name("count_rows")
            .set_caching_options(False)
        )
        count_rows_task.set_retry(
            num_retries=1, backoff_duration="300s", backoff_factor=1.0
        )
        # Airflow: samples/dags/partner_feed_sensor.py:55 process_drop (BashOperator)
        process_drop_task = (
            process_drop().set_display_name("process_drop").set_caching_options(False)
        )
        process_drop_task.after(count_rows_task)
        process_drop_task.set_retry(
            num_retries=1, backoff_duration="300s", backoff_factor=1.0
        )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=partner_feed_sensor,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
