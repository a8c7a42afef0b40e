"""Daily revenue report driven by Jinja templates and typed DAG params.

Shows ``params`` with ``Param`` types (integer, number, boolean, enum string, array),
templates in ``bash_command``, a DockerOperator ``command`` list and ``environment``,
and PythonOperator ``op_kwargs``: ``{{ ds }}``, ``{{ params.x }}``, ``{{ run_id }}``,
``{{ macros.ds_add(ds, -1) }}``, ``{{ dag.dag_id }}``, ``{{ task.task_id }}``,
``{{ var.value.x }}``, ``{{ conn.x.password }}``, ``{{ ti.xcom_pull(...) }}`` inside
text, ``Variable.get`` with a default, and one macro with no KFP translation
(``{{ ti.try_number }}``). The schedule is ``@daily`` with ``catchup`` and
``max_active_runs``. Converted: see ``docs/templating.md`` and ``docs/schedules.md``.
"""

from datetime import datetime

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, Variable

REPORT_IMAGE = "registry.example.com/finance/revenue-report:2.3.1"


def collect_orders(day: str, source_dag: str, bucket: str, limit: str) -> str:
    """Write the day's orders to a file and return its path (pushed as the XCom)."""
    path = f"/tmp/{source_dag}-{day}.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"bucket,{bucket}\nlimit,{limit}\n")
    return path


with DAG(
    dag_id="templated_report_params",
    description="Daily revenue report: templates and typed params",
    schedule="@daily",
    start_date=datetime(2024, 3, 1),
    end_date=datetime(2026, 12, 31),
    catchup=True,
    max_active_runs=2,
    params={
        "limit": Param(1000, type="integer", description="rows per page"),
        "threshold": Param(0.5, type="number"),
        "dry_run": Param(False, type="boolean"),
        "region": Param("eu", type="string", enum=["eu", "us", "apac"]),
        "channels": Param(["web", "store"], type="array"),
    },
    tags=["finance", "templating"],
) as dag:
    collect = PythonOperator(
        task_id="collect_orders",
        python_callable=collect_orders,
        op_kwargs={
            "day": "{{ ds }}",
            "source_dag": "{{ dag.dag_id }}",
            "bucket": Variable.get("report_bucket", default="finance-reports"),
            "limit": "{{ params.limit }}",
        },
    )

    summarize = BashOperator(
        task_id="summarize",
        bash_command=(
            "wc -l {{ ti.xcom_pull(task_ids='collect_orders') }} && "
            "echo {{ task.task_id }} {{ ds }} since {{ macros.ds_add(ds, -1) }} run {{ run_id }} "
            "region {{ params.region }} try {{ ti.try_number }}"
        ),
    )

    publish = DockerOperator(
        task_id="publish_report",
        image=REPORT_IMAGE,
        command=[
            "publish",
            "--date={{ ds_nodash }}",
            "--bucket={{ var.value.report_bucket }}",
            "--threshold",
            "{{ params.threshold }}",
        ],
        environment={"API_TOKEN": "{{ conn.finance_api.password }}", "LOG_LEVEL": "INFO"},
    )

    notify = BashOperator(
        task_id="notify",
        bash_command=(
            "curl -fsS -u {{ conn.slack.login }}:{{ conn.slack.password }} "
            "https://hooks.example.com/report?day={{ ds }}&dry_run={{ params.dry_run }}"
        ),
    )

    collect >> summarize >> publish >> notify
