"""Daily partner order pipeline in the classic PythonOperator style: callables that read the context.

Shows the Airflow context read by unchanged callables (built inside each component from the
run context and pipeline parameters, see ``docs/templating.md``): ``**context`` and
``**kwargs`` dicts, named context parameters (``ds``, ``ti``, ``params``, ``dag_run``),
``ti.xcom_pull`` of one task and of a list of tasks, ``dag_run.conf`` with a default,
``params``, a BranchPythonOperator reading ``context["logical_date"]``, templates in
``op_kwargs`` and a BashOperator ``{{ ds }}`` / ``{{ macros.ds_add(ds, -1) }}`` command.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG, Param

PARTNERS = ["acme", "globex"]


def fetch_orders(**context) -> int:
    """Fetch the day's orders of every partner (counted here from the partner names)."""
    day = context["ds"]
    limit = context["dag_run"].conf.get("limit", context["params"]["max_orders"])
    counts = {partner: min(len(partner) * 10, limit) for partner in PARTNERS}
    print(f"fetched orders of {day}: {counts}")
    return sum(counts.values())


def fetch_refunds(ds, params) -> int:
    refunds = 3 if params["include_refunds"] else 0
    print(f"refunds of {ds}: {refunds}")
    return refunds


def reconcile(partition, ti, **kwargs) -> str:
    orders, refunds = ti.xcom_pull(task_ids=["fetch_orders", "fetch_refunds"])
    total = orders - refunds
    run_hour = kwargs["logical_date"].strftime("%H")
    print(f"partition {partition} at hour {run_hour}: {total} orders net of refunds")
    return f"{partition}:{total}"


def choose_publication(**context) -> str:
    """Weekdays publish to the partners' feed; weekends only refresh the internal report."""
    if context["logical_date"].weekday() < 5:
        return "publish_feed"
    return "refresh_report"


def publish_feed(dag_run=None, task=None, **kwargs) -> str:
    summary = kwargs["ti"].xcom_pull(task_ids="reconcile")
    target = dag_run.conf.get("target", "s3://partner-feeds/orders")
    print(f"{task.task_id}: publishing {summary} to {target}")
    return target


with DAG(
    dag_id="partner_orders_context",
    description="Daily partner orders: context-reading callables",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    params={
        "max_orders": Param(500, type="integer"),
        "include_refunds": Param(True, type="boolean"),
    },
    tags=["partners", "orders"],
) as dag:
    orders = PythonOperator(task_id="fetch_orders", python_callable=fetch_orders)
    refunds = PythonOperator(task_id="fetch_refunds", python_callable=fetch_refunds)
    summary = PythonOperator(
        task_id="reconcile",
        python_callable=reconcile,
        op_kwargs={"partition": "orders/{{ ds_nodash }}"},
    )
    route = BranchPythonOperator(task_id="choose_publication", python_callable=choose_publication)
    publish = PythonOperator(task_id="publish_feed", python_callable=publish_feed)
    report = BashOperator(
        task_id="refresh_report",
        bash_command="echo refreshing orders report for {{ ds }} since {{ macros.ds_add(ds, -1) }}",
    )

    [orders, refunds] >> summary >> route >> [publish, report]
