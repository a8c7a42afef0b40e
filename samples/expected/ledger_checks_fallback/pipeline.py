"""KFP v2 pipeline for the Airflow DAG ledger_checks_fallback, converted by af2kfp.

Airflow source: samples/dags/ledger_checks_fallback.py:23
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


@dsl.container_component
def wait_for_ledger():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-m", "airflow_plugins.fallback"],
        args=[
            "--operator",
            "airflow.providers.standard.sensors.filesystem.FileSensor",
            "--dag-id",
            "ledger_checks_fallback",
            "--task-id",
            "wait_for_ledger",
            "--kwargs",
            '{"filepath": "ledger_{{ ds_nodash }}.csv", "fs_conn_id": "ledger_drop", "mode": "reschedule", "poke_interval": 2, "timeout": 600}',
        ],
    )


@dsl.container_component
def ledger_not_empty():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-m", "airflow_plugins.fallback"],
        args=[
            "--operator",
            "airflow.providers.standard.sensors.bash.BashSensor",
            "--dag-id",
            "ledger_checks_fallback",
            "--task-id",
            "ledger_not_empty",
            "--kwargs",
            '{"bash_command": "test -s /mnt/ledger/ledger_{{ ds_nodash }}.csv", "poke_interval": 2, "timeout": 60}',
        ],
    )


@dsl.container_component
def record_run():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-m", "airflow_plugins.fallback"],
        args=[
            "--operator",
            "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
            "--dag-id",
            "ledger_checks_fallback",
            "--task-id",
            "record_run",
            "--kwargs",
            '{"autocommit": true, "conn_id": "ledger_db", "sql": "insert into ledger_runs(day) values (\'{{ ds }}\')"}',
        ],
    )


@dsl.container_component
def count_runs():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-m", "airflow_plugins.fallback"],
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
def ledger_checks_fallback(ds: str):
    # Airflow: samples/dags/ledger_checks_fallback.py:31 wait_for_ledger (FileSensor)
    wait_for_ledger_task = (
        wait_for_ledger().set_display_name("wait_for_ledger").set_caching_options(False)
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
        ledger_not_empty()
        .set_display_name("ledger_not_empty")
        .set_caching_options(False)
    )
    ledger_not_empty_task.after(wait_for_ledger_task)
    ledger_not_empty_task.set_retry(
        num_retries=1, backoff_duration="120s", backoff_factor=1.0
    )
    # Airflow: samples/dags/ledger_checks_fallback.py:45 record_run (SQLExecuteQueryOperator)
    record_run_task = (
        record_run().set_display_name("record_run").set_caching_options(False)
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
        announce(template_1=f"echo ledger checked for {ds}")
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
