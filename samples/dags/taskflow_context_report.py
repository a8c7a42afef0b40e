"""A TaskFlow report that reads the run's dates the Airflow 3 way.

Shows ``get_current_context()`` (``airflow.sdk``) in a task and in a helper-free short circuit,
named context parameters (``data_interval_start``, ``ts``, ``dag_run``), ``{{ ds }}`` and
``{{ ds | replace('-', '/') }}`` passed as task arguments, a BashOperator rendering
``{{ ds_nodash }}`` and ``{{ macros.ds_format(...) }}``, and the run's ``conf`` and ``run_id``.
All dates come from one run context in the converted pipeline: it runs with no arguments.
"""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="taskflow_context_report",
    schedule="0 6 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    params={"region": "eu"},
    tags=["reporting"],
)
def taskflow_context_report():
    @task
    def collect(day: str, folder: str) -> dict:
        context = get_current_context()
        region = context["params"]["region"]
        print(f"collecting {region} metrics of {day} from {folder}")
        files = [f"{folder}/part-{n}.csv" for n in range(2)]
        return {"day": day, "region": region, "files": files}

    @task.short_circuit
    def has_files(metrics: dict) -> bool:
        context = get_current_context()
        task_id, day = context["ti"].task_id, context["ds"]
        print(f"{task_id} sees {len(metrics['files'])} files of {day}")
        return len(metrics["files"]) > 0

    @task
    def build_report(metrics: dict, data_interval_start=None, ts=None, dag_run=None) -> str:
        week = data_interval_start.strftime("%G-W%V")
        owner = dag_run.conf.get("owner", "analytics")
        print(f"report for week {week} at {ts} by {owner}: {', '.join(metrics['files'])}")
        return f"{metrics['region']}-{week}"

    archive = BashOperator(
        task_id="archive",
        bash_command=(
            "echo archiving reports/{{ ds_nodash }} "
            "as {{ macros.ds_format(ds, '%Y-%m-%d', '%d.%m.%Y') }}"
        ),
    )

    metrics = collect(day="{{ ds }}", folder="metrics/{{ ds | replace('-', '/') }}")
    has_files(metrics) >> build_report(metrics) >> archive


taskflow_context_report()
