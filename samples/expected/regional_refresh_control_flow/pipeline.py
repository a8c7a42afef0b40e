"""KFP v2 pipeline for the Airflow DAG regional_refresh_control_flow, converted by af2kfp.

Airflow source: samples/dags/regional_refresh_control_flow.py:36
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def reserve_warehouse() -> str:
    print("resizing the warehouse up")
    return "wh-refresh"


@dsl.component(base_image="python:3.11")
def has_new_data(table: str, minimum: int) -> bool:
    """Stand-in for a warehouse count; the real job queries the landing table."""
    print(f"checking {table}")
    return bool(minimum > 0)


@dsl.component(base_image="python:3.11")
def list_partitions() -> list:
    import json

    return [json.dumps(item) for item in ["2024-03-01", "2024-03-02"]]


@dsl.component(base_image="python:3.11")
def rebuild_partition(partition: str, table: str) -> int:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    partition = json.loads(partition)

    print(f"rebuilding {table} {partition}")
    return 1


@dsl.component(base_image="python:3.11")
def pick_regions(
    regions: list,
    follow_load_amer: dsl.OutputPath(bool),
    follow_load_apac: dsl.OutputPath(bool),
    follow_load_emea: dsl.OutputPath(bool),
):
    def choose(regions):
        params = {"regions": regions}

        wanted = params["regions"] if params else ["emea"]
        return [f"load_{region}" for region in wanted]

    chosen = choose(regions=regions)
    chosen = [chosen] if isinstance(chosen, str) else list(chosen or [])
    follow = {  # output -> the task id and the TaskGroup ids that follow it
        follow_load_amer: ["load_amer"],
        follow_load_apac: ["load_apac"],
        follow_load_emea: ["load_emea"],
    }
    for path, names in follow.items():
        with open(path, "w") as output:
            output.write("true" if any(n in chosen for n in names) else "false")


@dsl.container_component
def load_amer():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/feature-jobs:2.8.1",
        command=["feature-jobs"],
        args=["load", "--region", "amer"],
    )


@dsl.container_component
def load_apac():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/feature-jobs:2.8.1",
        command=["feature-jobs"],
        args=["load", "--region", "apac"],
    )


@dsl.container_component
def load_emea():
    return dsl.ContainerSpec(
        image="registry.example.com/ml/feature-jobs:2.8.1",
        command=["feature-jobs"],
        args=["load", "--region", "emea"],
    )


@dsl.component(base_image="python:3.11")
def merge_regions(rebuilt: list):
    # KFP collects integers as floats: back to what Airflow passes
    rebuilt = [int(item) for item in rebuilt]

    print(f"merging regions, {sum(rebuilt)} partitions rebuilt")


@dsl.component(base_image="python:3.11")
def page_on_call(team: str):
    print(f"paging {team}: a regional refresh failed")


@dsl.component(base_image="python:3.11")
def release_warehouse():
    print("resizing the warehouse down")


@dsl.pipeline(
    name="pick-regions-follow-load-amer",
    description="The tasks Airflow runs after pick_regions decides, as one unit a join waits for.",
)
def pick_regions_follow_load_amer(follow_load_amer: bool):
    with dsl.If(follow_load_amer == True):
        # Airflow: samples/dags/regional_refresh_control_flow.py:66 load_amer (KubernetesPodOperator)
        load_amer_task = (
            load_amer().set_display_name("load_amer").set_caching_options(False)
        )


@dsl.pipeline(
    name="pick-regions-follow-load-apac",
    description="The tasks Airflow runs after pick_regions decides, as one unit a join waits for.",
)
def pick_regions_follow_load_apac(follow_load_apac: bool):
    with dsl.If(follow_load_apac == True):
        # Airflow: samples/dags/regional_refresh_control_flow.py:66 load_apac (KubernetesPodOperator)
        load_apac_task = (
            load_apac().set_display_name("load_apac").set_caching_options(False)
        )


@dsl.pipeline(
    name="pick-regions-follow-load-emea",
    description="The tasks Airflow runs after pick_regions decides, as one unit a join waits for.",
)
def pick_regions_follow_load_emea(follow_load_emea: bool):
    with dsl.If(follow_load_emea == True):
        # Airflow: samples/dags/regional_refresh_control_flow.py:66 load_emea (KubernetesPodOperator)
        load_emea_task = (
            load_emea().set_display_name("load_emea").set_caching_options(False)
        )


@dsl.pipeline(
    name="regional-refresh-control-flow",
    description="Converted from Airflow DAG regional_refresh_control_flow (samples/dags/regional_refresh_control_flow.py:36).",
)
def regional_refresh_control_flow(regions: list = ["emea", "amer"]):
    # Airflow: samples/dags/regional_refresh_control_flow.py:101 release_warehouse (@task)
    release_warehouse_task = (
        release_warehouse()
        .set_display_name("release_warehouse")
        .set_caching_options(False)
    )
    with dsl.ExitHandler(exit_task=release_warehouse_task):
        # Airflow: samples/dags/regional_refresh_control_flow.py:95 reserve_warehouse (@task)
        reserve_warehouse_task = (
            reserve_warehouse()
            .set_display_name("reserve_warehouse")
            .set_caching_options(False)
        )
        # Airflow: samples/dags/regional_refresh_control_flow.py:54 has_new_data (ShortCircuitOperator)
        has_new_data_task = (
            has_new_data(table="landing.events", minimum=1)
            .set_display_name("has_new_data")
            .set_caching_options(False)
        )
        has_new_data_task.after(reserve_warehouse_task)
        # Airflow: samples/dags/regional_refresh_control_flow.py:96 list_partitions (@task)
        list_partitions_task = (
            list_partitions()
            .set_display_name("list_partitions")
            .set_caching_options(False)
        )
        with dsl.ParallelFor(items=list_partitions_task.output) as partition_item:
            # Airflow: samples/dags/regional_refresh_control_flow.py:96 rebuild_partition (@task)
            rebuild_partition_task = (
                rebuild_partition(partition=partition_item, table="features.daily")
                .set_display_name("rebuild_partition")
                .set_caching_options(False)
            )
        with dsl.If(has_new_data_task.output == True):
            # Airflow: samples/dags/regional_refresh_control_flow.py:98 pick_regions (@task.branch)
            pick_regions_task = (
                pick_regions(regions=regions)
                .set_display_name("pick_regions")
                .set_caching_options(False)
            )
            pick_regions_follow_load_amer_task = (
                pick_regions_follow_load_amer(
                    follow_load_amer=pick_regions_task.outputs["follow_load_amer"]
                )
                .set_display_name("pick_regions follow_load_amer")
                .set_caching_options(False)
            )
            pick_regions_follow_load_apac_task = (
                pick_regions_follow_load_apac(
                    follow_load_apac=pick_regions_task.outputs["follow_load_apac"]
                )
                .set_display_name("pick_regions follow_load_apac")
                .set_caching_options(False)
            )
            pick_regions_follow_load_emea_task = (
                pick_regions_follow_load_emea(
                    follow_load_emea=pick_regions_task.outputs["follow_load_emea"]
                )
                .set_display_name("pick_regions follow_load_emea")
                .set_caching_options(False)
            )
            # Airflow: samples/dags/regional_refresh_control_flow.py:97 merge_regions (@task)
            merge_regions_task = (
                merge_regions(rebuilt=dsl.Collected(rebuild_partition_task.output))
                .set_display_name("merge_regions")
                .set_caching_options(False)
            )
            merge_regions_task.after(
                pick_regions_follow_load_amer_task,
                pick_regions_follow_load_apac_task,
                pick_regions_follow_load_emea_task,
            )
            # Airflow: samples/dags/regional_refresh_control_flow.py:88 page_on_call (PythonOperator)
            page_on_call_task = (
                page_on_call(team="features")
                .set_display_name("page_on_call")
                .set_caching_options(False)
            )
            page_on_call_task.after(merge_regions_task)
            page_on_call_task.ignore_upstream_failure()


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=regional_refresh_control_flow,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
