"""Dynamic task mapping: each task instance records that it ran in $CF_MARKERS."""

import pendulum
from airflow.sdk import DAG, task, task_group

with DAG("cf_mapped", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):

    @task
    def partitions() -> list:
        return ["p1", "p2"]

    @task
    def add(x: int, y: int) -> int:
        import os

        with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
            markers.write(f"add {x}+{y}\n")
        return x + y

    @task
    def total(values: list):
        import os

        with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
            markers.write(f"total {sum(values)}\n")

    @task
    def load(partition: str):
        import os

        with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
            markers.write(f"load {partition}\n")

    total(add.partial(y=10).expand(x=[1, 2, 3]))
    load.expand(partition=partitions())

    @task_group
    def per_region(region: str):
        @task
        def fetch(region: str) -> int:
            import os

            with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
                markers.write(f"fetch {region}\n")
            return len(region)

        @task
        def store(n: int):
            import os

            with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
                markers.write(f"store {n}\n")

        store(fetch(region))

    @task
    def regions() -> list:
        return ["us", "latam"]

    per_region.expand(region=["eu", "apac"])
    per_region.expand(region=regions())
