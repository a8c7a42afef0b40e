"""KFP v2 pipeline for the Airflow DAG partner_orders_context, converted by af2kfp.

Airflow source: samples/dags/partner_orders_context.py:57
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def run_context(
    logical_date_override: str,
    schedule_time: str,
    create_time: str,
    ds: dsl.OutputPath(str),
    ds_add_ds_1_9f0089: dsl.OutputPath(str),
    ds_nodash: dsl.OutputPath(str),
    logical_date: dsl.OutputPath(str),
):
    """Airflow's dates for this run, from one source (added by af2kfp, see docs/templating.md).

    The logical date is the logical_date parameter when given, else the recurring run's
    scheduled time, else the run's creation time (Airflow 3's trigger timetables).
    """
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    paths = {
        "ds": ds,
        "ds_add_ds_1_9f0089": ds_add_ds_1_9f0089,
        "ds_nodash": ds_nodash,
        "logical_date": logical_date,
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
    ds = logical_date.strftime("%Y-%m-%d")
    ds_nodash = logical_date.strftime("%Y%m%d")

    def ds_add(ds, days):
        """Airflow's macros.ds_add: a YYYY-MM-DD date moved by a number of days."""
        if not days:
            return str(ds)
        moved = datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)
        return moved.strftime("%Y-%m-%d")

    macros = SimpleNamespace(ds_add=ds_add)

    values = {
        "ds": ds,
        "ds_add_ds_1_9f0089": macros.ds_add(ds, -1),
        "ds_nodash": ds_nodash,
        "logical_date": logical_date,
    }
    for name, path in paths.items():
        with open(path, "w") as output:
            output.write(str(values[name]))


@dsl.component(base_image="python:3.11")
def fetch_orders(ds: str, max_orders: int, dag_run_conf: dict) -> int:
    """Fetch the day's orders of every partner (counted here from the partner names)."""
    import json
    from types import SimpleNamespace

    PARTNERS = ["acme", "globex"]

    def number(text):  # KFP carries a run's JSON numbers as floats: 25 arrives as 25.0
        return int(float(text)) if float(text).is_integer() else float(text)

    dag_run_conf = json.loads(json.dumps(dag_run_conf), parse_float=number)
    context = {
        "ds": ds,
        "params": {"max_orders": max_orders},
        "dag_run": SimpleNamespace(conf=dag_run_conf),
    }

    day = context["ds"]
    limit = context["dag_run"].conf.get("limit", context["params"]["max_orders"])
    counts = {partner: min(len(partner) * 10, limit) for partner in PARTNERS}
    print(f"fetched orders of {day}: {counts}")
    return sum(counts.values())


@dsl.component(base_image="python:3.11")
def fetch_refunds(ds: str, include_refunds: bool) -> int:
    params = {"include_refunds": include_refunds}

    refunds = 3 if params["include_refunds"] else 0
    print(f"refunds of {ds}: {refunds}")
    return refunds


@dsl.component(base_image="python:3.11")
def reconcile(
    partition: str,
    fetch_orders_output: int,
    fetch_refunds_output: int,
    logical_date: str,
) -> str:
    from datetime import datetime

    kwargs = {"logical_date": datetime.fromisoformat(logical_date)}

    orders, refunds = [fetch_orders_output, fetch_refunds_output]
    total = orders - refunds
    run_hour = kwargs["logical_date"].strftime("%H")
    print(f"partition {partition} at hour {run_hour}: {total} orders net of refunds")
    return f"{partition}:{total}"


@dsl.component(base_image="python:3.11")
def choose_publication(logical_date: str) -> str:
    """Weekdays publish to the partners' feed; weekends only refresh the internal report."""
    from datetime import datetime

    context = {"logical_date": datetime.fromisoformat(logical_date)}

    if context["logical_date"].weekday() < 5:
        return "publish_feed"
    return "refresh_report"


@dsl.component(base_image="python:3.11")
def publish_feed(reconcile_output: str, dag_run_conf: dict) -> str:
    import json
    from types import SimpleNamespace

    def number(text):  # KFP carries a run's JSON numbers as floats: 25 arrives as 25.0
        return int(float(text)) if float(text).is_integer() else float(text)

    dag_run_conf = json.loads(json.dumps(dag_run_conf), parse_float=number)
    dag_run = SimpleNamespace(conf=dag_run_conf)
    task = SimpleNamespace(task_id="publish_feed")

    summary = reconcile_output
    target = dag_run.conf.get("target", "s3://partner-feeds/orders")
    print(f"{task.task_id}: publishing {summary} to {target}")
    return target


@dsl.container_component
def refresh_report(template_1: str):
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=[template_1]
    )


@dsl.pipeline(
    name="partner-orders-context",
    description="Daily partner orders: context-reading callables",
)
def partner_orders_context(
    max_orders: int = 500,
    include_refunds: bool = True,
    dag_run_conf: dict = {},
    logical_date: str = "",
):
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
    # Airflow: samples/dags/partner_orders_context.py:70 fetch_orders (PythonOperator)
    fetch_orders_task = (
        fetch_orders(
            ds=run_context_task.outputs["ds"],
            max_orders=max_orders,
            dag_run_conf=dag_run_conf,
        )
        .set_display_name("fetch_orders")
        .set_caching_options(False)
    )
    fetch_orders_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/partner_orders_context.py:71 fetch_refunds (PythonOperator)
    fetch_refunds_task = (
        fetch_refunds(
            ds=run_context_task.outputs["ds"], include_refunds=include_refunds
        )
        .set_display_name("fetch_refunds")
        .set_caching_options(False)
    )
    fetch_refunds_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/partner_orders_context.py:72 reconcile (PythonOperator)
    reconcile_task = (
        reconcile(
            partition=f'orders/{run_context_task.outputs["ds_nodash"]}',
            fetch_orders_output=fetch_orders_task.output,
            fetch_refunds_output=fetch_refunds_task.output,
            logical_date=run_context_task.outputs["logical_date"],
        )
        .set_display_name("reconcile")
        .set_caching_options(False)
    )
    reconcile_task.set_retry(num_retries=1, backoff_duration="300s", backoff_factor=1.0)
    # Airflow: samples/dags/partner_orders_context.py:77 choose_publication (BranchPythonOperator)
    choose_publication_task = (
        choose_publication(logical_date=run_context_task.outputs["logical_date"])
        .set_display_name("choose_publication")
        .set_caching_options(False)
    )
    choose_publication_task.after(reconcile_task)
    choose_publication_task.set_retry(
        num_retries=1, backoff_duration="300s", backoff_factor=1.0
    )
    with dsl.If(choose_publication_task.output == "publish_feed"):
        # Airflow: samples/dags/partner_orders_context.py:78 publish_feed (PythonOperator)
        publish_feed_task = (
            publish_feed(
                reconcile_output=reconcile_task.output, dag_run_conf=dag_run_conf
            )
            .set_display_name("publish_feed")
            .set_caching_options(False)
        )
        publish_feed_task.set_retry(
            num_retries=1, backoff_duration="300s", backoff_factor=1.0
        )
    with dsl.Else():
        # Airflow: samples/dags/partner_orders_context.py:79 refresh_report (BashOperator)
        refresh_report_task = (
            refresh_report(
                template_1=f'echo refreshing orders report for {run_context_task.outputs["ds"]} since {run_context_task.outputs["ds_add_ds_1_9f0089"]}'
            )
            .set_display_name("refresh_report")
            .set_caching_options(False)
        )
        refresh_report_task.set_retry(
            num_retries=1, backoff_duration="300s", backoff_factor=1.0
        )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=partner_orders_context,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
