"""KFP v2 pipeline for the Airflow DAG ledger_checks_fallback, converted by af2kfp.

Airflow source: samples/dags/ledger_checks_fallback.py:23
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
    ds: dsl.OutputPath(str),
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
        "ds": ds,
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
    ts = logical_date.isoformat()

    values = {
        "data_interval_end": data_interval_end,
        "data_interval_start": data_interval_start,
        "ds": ds,
        "ts": ts,
    }
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.container_component
def wait_for_ledger(ts: str, data_interval_start: str, data_interval_end: str):
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.standard.sensors.filesystem.FileSensor",
            "--dag-id",
            "ledger_checks_fallback",
            "--task-id",
            "wait_for_ledger",
            "--kwargs",
            '{"filepath": "ledger_{{ ds_nodash }}.csv", "fs_conn_id": "ledger_drop", "mode": "reschedule", "poke_interval": 2, "timeout": 600}',
            "--logical-date",
            ts,
            "--data-interval",
            data_interval_start,
            data_interval_end,
        ],
    )


@dsl.container_component
def ledger_not_empty(ts: str, data_interval_start: str, data_interval_end: str):
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.standard.sensors.bash.BashSensor",
            "--dag-id",
            "ledger_checks_fallback",
            "--task-id",
            "ledger_not_empty",
            "--kwargs",
            '{"bash_command": "test -s /mnt/ledger/ledger_{{ ds_nodash }}.csv", "poke_interval": 2, "timeout": 60}',
            "--logical-date",
            ts,
            "--data-interval",
            data_interval_start,
            data_interval_end,
        ],
    )


@dsl.container_component
def record_run(ts: str, data_interval_start: str, data_interval_end: str):
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
            "--dag-id",
            "ledger_checks_fallback",
            "--task-id",
            "record_run",
            "--kwargs",
            '{"autocommit": true, "conn_id": "ledger_db", "sql": "insert into ledger_runs(day) values (\'{{ ds }}\')"}',
            "--logical-date",
            ts,
            "--data-interval",
            data_interval_start,
            data_interval_end,
        ],
    )


@dsl.container_component
def count_runs():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
            "--dag-id",
            "ledger_checks_fallback",
            "--task-id",
            "count_runs",
            "--kwargs",
            '{"conn_id": "ledger_db", "sql": "select count(*) from ledger_runs"}',
        ],
    )


@dsl.container_component
def announce(template_1: str):
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=[template_1]
    )


@dsl.pipeline(
    name="ledger-checks-fallback",
    description="Converted from Airflow DAG ledger_checks_fallback (samples/dags/ledger_checks_fallback.py:23).",
)
def ledger_checks_fallback(logical_date: str = ""):
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
    # Airflow: samples/dags/ledger_checks_fallback.py:31 wait_for_ledger (FileSensor)
    wait_for_ledger_task = (
        wait_for_ledger(
            ts=run_context_task.outputs["ts"],
            data_interval_start=run_context_task.outputs["data_interval_start"],
            data_interval_end=run_context_task.outputs["data_interval_end"],
        )
        .set_display_name("wait_for_ledger")
        .set_caching_options(False)
    )
    wait_for_ledger_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        wait_for_ledger_task,
        secret_name="airflow-conn-ledger-drop",
        secret_key_to_env={"uri": "AIRFLOW_CONN_LEDGER_DROP"},
    )
    # Airflow: samples/dags/ledger_checks_fallback.py:39 ledger_not_empty (BashSensor)
    ledger_not_empty_task = (
        ledger_not_empty(
            ts=run_context_task.outputs["ts"],
            data_interval_start=run_context_task.outputs["data_interval_start"],
            data_interval_end=run_context_task.outputs["data_interval_end"],
        )
        .set_display_name("ledger_not_empty")
        .set_caching_options(False)
    )
    ledger_not_empty_task.after(wait_for_ledger_task)
    ledger_not_empty_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    # Airflow: samples/dags/ledger_checks_fallback.py:45 record_run (SQLExecuteQueryOperator)
    record_run_task = (
        record_run(
            ts=run_context_task.outputs["ts"],
            data_interval_start=run_context_task.outputs["data_interval_start"],
            data_interval_end=run_context_task.outputs["data_interval_end"],
        )
        .set_display_name("record_run")
        .set_caching_options(False)
    )
    record_run_task.after(ledger_not_empty_task)
    record_run_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        record_run_task,
        secret_name="airflow-conn-ledger-db",
        secret_key_to_env={"uri": "AIRFLOW_CONN_LEDGER_DB"},
    )
    # Airflow: samples/dags/ledger_checks_fallback.py:52 count_runs (SQLExecuteQueryOperator)
    count_runs_task = (
        count_runs().set_display_name("count_runs").set_caching_options(False)
    )
    count_runs_task.after(record_run_task)
    count_runs_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    kubernetes.use_secret_as_env(
        count_runs_task,
        secret_name="airflow-conn-ledger-db",
        secret_key_to_env={"uri": "AIRFLOW_CONN_LEDGER_DB"},
    )
    # Airflow: samples/dags/ledger_checks_fallback.py:57 announce (BashOperator)
    announce_task = (
        announce(template_1=f'echo ledger checked for {run_context_task.outputs["ds"]}')
        .set_display_name("announce")
        .set_caching_options(False)
    )
    announce_task.after(count_runs_task)
    announce_task.set_retry(num_retries=1, backoff_duration="120s", backoff_factor=1.0)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=ledger_checks_fallback,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
