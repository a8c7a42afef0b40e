"""KFP v2 pipeline for the Airflow DAG templated_report_params, converted by af2kfp.

Airflow source: samples/dags/templated_report_params.py:31
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes


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
    ds: str,
    ds_add_ds_1_9f0089: str,
    ds_nodash: str,
    limit: int = 1000,
    threshold: float = 0.5,
    dry_run: bool = False,
    region: str = "eu",
    channels: list = ["web", "store"],
    report_bucket: str = "finance-reports",
):
    # Airflow: samples/dags/templated_report_params.py:48 collect_orders (PythonOperator)
    collect_orders_task = (
        collect_orders(
            day=ds,
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
            template_1=f"wc -l {collect_orders_task.output} && echo summarize {ds} since {ds_add_ds_1_9f0089} run {dsl.PIPELINE_JOB_ID_PLACEHOLDER} region {region} try {{{{ ti.try_number }}}}"
        )
        .set_display_name("summarize")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/templated_report_params.py:68 publish_report (DockerOperator)
    publish_report_task = (
        publish_report(
            template_1=f"--date={ds_nodash}",
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
            template_1=f"curl -fsS -u ${{AF2KFP_CONN_SLACK_LOGIN}}:${{AF2KFP_CONN_SLACK_PASSWORD}} https://hooks.example.com/report?day={ds}&dry_run={dry_run}"
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
