"""KFP v2 pipeline for the Airflow DAG dependency_styles, converted by af2kfp.

Airflow source: samples/dags/dependency_styles.py:13
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def fetch_a():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo fetch a"]
    )


@dsl.container_component
def fetch_b():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo fetch b"]
    )


@dsl.container_component
def parse_a():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo parse a"]
    )


@dsl.container_component
def parse_b():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo parse b"]
    )


@dsl.container_component
def merge_x():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo merge x"]
    )


@dsl.container_component
def merge_y():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo merge y"]
    )


@dsl.container_component
def validate():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo validate"]
    )


@dsl.container_component
def notify():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo notify"]
    )


@dsl.container_component
def archive():
    return dsl.ContainerSpec(
        image="bash:5.2", command=["bash", "-c"], args=["echo archive"]
    )


@dsl.pipeline(
    name="dependency-styles",
    description="Converted from Airflow DAG dependency_styles (samples/dags/dependency_styles.py:13).",
)
def dependency_styles():
    # Airflow: samples/dags/dependency_styles.py:21 fetch_a (BashOperator)
    fetch_a_task = fetch_a().set_display_name("fetch_a").set_caching_options(False)
    # Airflow: samples/dags/dependency_styles.py:22 fetch_b (BashOperator)
    fetch_b_task = fetch_b().set_display_name("fetch_b").set_caching_options(False)
    # Airflow: samples/dags/dependency_styles.py:23 parse_a (BashOperator)
    parse_a_task = parse_a().set_display_name("parse_a").set_caching_options(False)
    parse_a_task.after(fetch_a_task)
    # Airflow: samples/dags/dependency_styles.py:24 parse_b (BashOperator)
    parse_b_task = parse_b().set_display_name("parse_b").set_caching_options(False)
    parse_b_task.after(fetch_b_task)
    # Airflow: samples/dags/dependency_styles.py:25 merge_x (BashOperator)
    merge_x_task = merge_x().set_display_name("merge_x").set_caching_options(False)
    merge_x_task.after(parse_a_task, parse_b_task)
    # Airflow: samples/dags/dependency_styles.py:26 merge_y (BashOperator)
    merge_y_task = merge_y().set_display_name("merge_y").set_caching_options(False)
    merge_y_task.after(parse_a_task, parse_b_task)
    # Airflow: samples/dags/dependency_styles.py:27 validate (BashOperator)
    validate_task = validate().set_display_name("validate").set_caching_options(False)
    validate_task.after(merge_x_task, merge_y_task)
    # Airflow: samples/dags/dependency_styles.py:28 notify (BashOperator)
    notify_task = notify().set_display_name("notify").set_caching_options(False)
    notify_task.after(validate_task)
    # Airflow: samples/dags/dependency_styles.py:29 archive (BashOperator)
    archive_task = archive().set_display_name("archive").set_caching_options(False)
    archive_task.after(validate_task)


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=dependency_styles,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
