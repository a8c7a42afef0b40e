"""KFP v2 pipeline for the Airflow DAG sql_unsupported_operator, converted by af2kfp.

Airflow source: samples/dags/sql_unsupported_operator.py:14
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes

# airflow_operator_runner.py: written by af2kfp beside this file; pipeline.yaml carries its text.
AIRFLOW_OPERATOR_RUNNER = (
    Path(__file__).with_name("airflow_operator_runner.py").read_text(encoding="utf-8")
)


@dsl.container_component
def refresh_daily_revenue():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
            "--dag-id",
            "sql_unsupported_operator",
            "--task-id",
            "refresh_daily_revenue",
            "--kwargs",
            '{"autocommit": true, "conn_id": "warehouse_postgres", "sql": "\\n            delete from reporting.daily_revenue where day = current_date - 1;\\n            insert into reporting.daily_revenue\\n            select current_date - 1, sum(amount) from sales.orders\\n            where created_at::date = current_date - 1;\\n        "}',
        ],
    )


@dsl.container_component
def vacuum_reporting():
    return dsl.ContainerSpec(
        image="apache/airflow:3.3.2",
        command=["python", "-c", AIRFLOW_OPERATOR_RUNNER],
        args=[
            "--operator",
            "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
            "--dag-id",
            "sql_unsupported_operator",
            "--task-id",
            "vacuum_reporting",
            "--kwargs",
            '{"autocommit": true, "conn_id": "warehouse_postgres", "sql": "vacuum analyze reporting.daily_revenue"}',
        ],
    )


@dsl.container_component
def export_revenue_csv():
    return dsl.ContainerSpec(
        image="registry.example.com/reporting/exporter:0.4.0",
        args=[
            "export",
            "--table",
            "reporting.daily_revenue",
            "--to",
            "s3://acme-reports/revenue/",
        ],
    )


@dsl.pipeline(
    name="sql-unsupported-operator",
    description="Converted from Airflow DAG sql_unsupported_operator (samples/dags/sql_unsupported_operator.py:14).",
)
def sql_unsupported_operator():
    # Airflow: samples/dags/sql_unsupported_operator.py:21 refresh_daily_revenue (SQLExecuteQueryOperator)
    refresh_daily_revenue_task = (
        refresh_daily_revenue()
        .set_display_name("refresh_daily_revenue")
        .set_caching_options(False)
    )
    kubernetes.use_secret_as_env(
        refresh_daily_revenue_task,
        secret_name="airflow-conn-warehouse-postgres",
        secret_key_to_env={"uri": "AIRFLOW_CONN_WAREHOUSE_POSTGRES"},
    )
    # Airflow: samples/dags/sql_unsupported_operator.py:32 vacuum_reporting (SQLExecuteQueryOperator)
    vacuum_reporting_task = (
        vacuum_reporting()
        .set_display_name("vacuum_reporting")
        .set_caching_options(False)
    )
    vacuum_reporting_task.after(refresh_daily_revenue_task)
    kubernetes.use_secret_as_env(
        vacuum_reporting_task,
        secret_name="airflow-conn-warehouse-postgres",
        secret_key_to_env={"uri": "AIRFLOW_CONN_WAREHOUSE_POSTGRES"},
    )
    # Airflow: samples/dags/sql_unsupported_operator.py:38 export_revenue_csv (DockerOperator)
    export_revenue_csv_task = (
        export_revenue_csv()
        .set_display_name("export_revenue_csv")
        .set_caching_options(False)
    )
    export_revenue_csv_task.after(vacuum_reporting_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=sql_unsupported_operator,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
