"""Reporting DAG using an operator af2kfp does not convert (SQLExecuteQueryOperator).

Shows SQL run through an Airflow connection (``conn_id``); the conversion keeps a
placeholder task with an ``unsupported`` finding so the pipeline keeps its shape.
The Docker task next to it converts normally.
"""

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk import DAG

with DAG(
    dag_id="sql_unsupported_operator",
    schedule="0 8 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["reporting", "sql"],
) as dag:
    refresh = SQLExecuteQueryOperator(
        task_id="refresh_daily_revenue",
        conn_id="warehouse_postgres",
        sql="""
            delete from reporting.daily_revenue where day = current_date - 1;
            insert into reporting.daily_revenue
            select current_date - 1, sum(amount) from sales.orders
            where created_at::date = current_date - 1;
        """,
        autocommit=True,
    )
    vacuum = SQLExecuteQueryOperator(
        task_id="vacuum_reporting",
        conn_id="warehouse_postgres",
        sql="vacuum analyze reporting.daily_revenue",
        autocommit=True,
    )
    export = DockerOperator(
        task_id="export_revenue_csv",
        image="registry.example.com/reporting/exporter:0.4.0",
        command="export --table reporting.daily_revenue --to s3://acme-reports/revenue/",
    )
    refresh >> vacuum >> export
