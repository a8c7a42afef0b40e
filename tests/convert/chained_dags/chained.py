"""Chained dynamic task mapping: each instance of ``describe`` takes the result of one instance of ``size``."""

import pendulum
from airflow.sdk import DAG, task

with DAG("chained_mapping", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):

    @task
    def names() -> list:
        return ["ab", "cde"]

    @task
    def size(name: str) -> dict:
        return {"name": name, "size": str(len(name))}  # ints in a dict travel as floats in kfp.local

    @task
    def describe(details: dict, unit: str):
        import os

        with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
            markers.write(f"{details['name']} is {details['size']} {unit}\n")

    describe.partial(unit="letters").expand(details=size.expand(name=names()))
