"""Short circuits, trigger rules and a teardown: each task records that it ran in $CF_MARKERS."""

import pendulum
from airflow.providers.standard.operators.python import PythonOperator, ShortCircuitOperator
from airflow.sdk import DAG, setup, task, teardown


def work(name: str) -> str:
    import os

    with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
        markers.write(name + "\n")
    return name


def fail(name: str) -> None:
    import os

    with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
        markers.write(name + "\n")
    raise RuntimeError(f"{name} fails on purpose")


for dag_id, rows in (("cf_gate_open", 5), ("cf_gate_closed", 0)):
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        gate = ShortCircuitOperator(task_id="gate", python_callable=work, op_kwargs={"name": "gate" * bool(rows)})
        load = PythonOperator(task_id="load", python_callable=work, op_kwargs={"name": "load"})
        audit = PythonOperator(task_id="audit", python_callable=work, op_kwargs={"name": "audit"},
                               trigger_rule="all_done")
        free = PythonOperator(task_id="free", python_callable=work, op_kwargs={"name": "free"})
        gate >> load >> audit

with DAG("cf_all_done", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
    boom = PythonOperator(task_id="boom", python_callable=fail, op_kwargs={"name": "boom"})
    notify = PythonOperator(task_id="notify", python_callable=work, op_kwargs={"name": "notify"},
                            trigger_rule="all_done")
    after = PythonOperator(task_id="after", python_callable=work, op_kwargs={"name": "after"})
    boom >> notify
    boom >> after

with DAG("cf_teardown", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):

    @setup
    def create_cluster():
        import os

        with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
            markers.write("create_cluster\n")
        return "c1"

    @task
    def train(cluster: str):
        import os

        with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
            markers.write("train\n")
        raise RuntimeError(f"training on {cluster} fails on purpose")

    @teardown
    def delete_cluster():
        import os

        with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
            markers.write("delete_cluster\n")

    cluster = create_cluster()
    cluster >> train(cluster) >> delete_cluster()


def page(name: str) -> None:
    import os

    with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
        markers.write(name + "\n")


for dag_id, broken in (("cf_alert_fired", True), ("cf_alert_quiet", False)):
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        load = PythonOperator(task_id="load", python_callable=fail if broken else work, op_kwargs={"name": "load"})
        publish = PythonOperator(task_id="publish", python_callable=work, op_kwargs={"name": "publish"})
        alert = PythonOperator(task_id="alert", python_callable=page, op_kwargs={"name": "alert"},
                               trigger_rule="one_failed")
        load >> publish >> alert
