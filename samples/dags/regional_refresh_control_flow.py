"""Refresh the regional feature tables: gate, branch per region, fan out, join, clean up.

Shows the control flow a conversion has to keep:

* a ``ShortCircuitOperator`` that ends the run when no new data landed (``dsl.If`` on a bool);
* ``@task.branch`` returning a *list* of task ids, computed from a DAG param (one boolean
  output per region, a ``dsl.If`` each);
* a join with ``trigger_rule="none_failed_min_one_success"`` after the regional loads (the
  regions become a sub-pipeline the join waits for);
* ``.partial().expand()`` over a task's list return value (``dsl.ParallelFor``) and a task
  that reads all the mapped results (``dsl.Collected``);
* ``@setup``/``@teardown`` around the work (``dsl.ExitHandler``), and an alert with
  ``trigger_rule="one_failed"`` (no exact KFP equivalent: a review finding).
"""

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.python import PythonOperator, ShortCircuitOperator
from airflow.sdk import DAG, Param, setup, task, teardown

FEATURE_IMAGE = "registry.example.com/ml/feature-jobs:2.8.1"
REGIONS = ["emea", "amer", "apac"]


def landed_rows(table: str, minimum: int) -> bool:
    """Stand-in for a warehouse count; the real job queries the landing table."""
    print(f"checking {table}")
    return minimum > 0


def page_on_call(team: str) -> None:
    print(f"paging {team}: a regional refresh failed")


with DAG(
    dag_id="regional_refresh_control_flow",
    schedule="30 4 * * *",
    start_date=datetime(2024, 3, 1),
    catchup=False,
    params={"regions": Param(["emea", "amer"], type="array")},
    tags=["features", "control-flow"],
) as dag:

    @setup
    def reserve_warehouse() -> str:
        print("resizing the warehouse up")
        return "wh-refresh"

    @teardown
    def release_warehouse() -> None:
        print("resizing the warehouse down")

    has_new_data = ShortCircuitOperator(
        task_id="has_new_data",
        python_callable=landed_rows,
        op_kwargs={"table": "landing.events", "minimum": 1},
    )

    @task.branch
    def pick_regions(params=None) -> list:
        wanted = params["regions"] if params else ["emea"]
        return [f"load_{region}" for region in wanted]

    loads = [
        KubernetesPodOperator(
            task_id=f"load_{region}",
            image=FEATURE_IMAGE,
            cmds=["feature-jobs"],
            arguments=["load", "--region", region],
        )
        for region in REGIONS
    ]

    @task
    def list_partitions() -> list:
        return ["2024-03-01", "2024-03-02"]

    @task
    def rebuild_partition(partition: str, table: str) -> int:
        print(f"rebuilding {table} {partition}")
        return 1

    @task(trigger_rule="none_failed_min_one_success")
    def merge_regions(rebuilt: list) -> None:
        print(f"merging regions, {sum(rebuilt)} partitions rebuilt")

    alert = PythonOperator(
        task_id="page_on_call",
        python_callable=page_on_call,
        op_kwargs={"team": "features"},
        trigger_rule="one_failed",
    )

    warehouse = reserve_warehouse()
    rebuilt = rebuild_partition.partial(table="features.daily").expand(partition=list_partitions())
    merged = merge_regions(rebuilt)
    warehouse >> has_new_data >> pick_regions() >> loads
    loads >> merged
    merged >> alert
    [alert, merged] >> release_warehouse()
