"""KFP v2 pipeline for the Airflow DAG templated_report_params, converted by af2kfp.

Airflow source: samples/dags/templated_report_params.py:31
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def collect_orders(day: str, source_dag: str, bucket: str, limit: str) -> str:
    """Write the day's orders to a file and return its path (pushed as the XCom)."""
    path = f"/tmp/{source_dag}-{day}.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"bucket,{bucket}\nlimit,{limit}\n")
    return path


@dsl.container_component
def summarize():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            "wc -l {{ ti.xcom_pull(task_ids='collect_orders') }} && echo {{ task.task_id }} {{ ds }} since {{ macros.ds_add(ds, -1) }} run {{ run_id }} region {{ params.region }} try {{ ti.try_number }}"
        ],
    )


@dsl.container_component
def publish_report():
    return dsl.ContainerSpec(
        image="registry.example.com/finance/revenue-report:2.3.1",
        args=[
            "publish",
            "--date={{ ds_nodash }}",
            "--bucket={{ var.value.report_bucket }}",
            "--threshold",
            "{{ params.threshold }}",
        ],
    )


@dsl.container_component
def notify():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=[
            "curl -fsS -u {{ conn.slack.login }}:{{ conn.slack.password }} https://hooks.example.com/report?day={{ ds }}&dry_run={{ params.dry_run }}"
        ],
    )


@dsl.pipeline(
    name="templated-report-params",
    description="Daily revenue report: templates and typed params",
)
def templated_report_params():
    # Airflow: samples/dags/templated_report_params.py:48 collect_orders (PythonOperator)
    collect_orders_task = (
        collect_orders(
            day="{{ ds }}",
            source_dag="{{ dag.dag_id }}",
            bucket="{{ var.value.get('report_bucket', 'finance-reports') }}",
            limit="{{ params.limit }}",
        )
        .set_display_name("collect_orders")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/templated_report_params.py:59 summarize (BashOperator)
    summarize_task = (
        summarize().set_display_name("summarize").set_caching_options(False)
    )
    summarize_task.after(collect_orders_task)
    # Airflow: samples/dags/templated_report_params.py:68 publish_report (DockerOperator)
    publish_report_task = (
        publish_report().set_display_name("publish_report").set_caching_options(False)
    )
    publish_report_task.after(summarize_task)
    publish_report_task.set_env_variable(
        name="API_TOKEN", value="{{ conn.finance_api.password }}"
    )
    publish_report_task.set_env_variable(name="LOG_LEVEL", value="INFO")
    # Airflow: samples/dags/templated_report_params.py:81 notify (BashOperator)
    notify_task = notify().set_display_name("notify").set_caching_options(False)
    notify_task.after(publish_report_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=templated_report_params,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
