"""KFP v2 pipeline for the Airflow DAG customer_sync_globex, converted by af2kfp.

Airflow source: samples/dags/customer_dag_factory.py:23
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.container_component
def pull_sftp_drop():
    return dsl.ContainerSpec(
        image="registry.example.com/integrations/sftp-pull:2.0.3",
        args=["pull", "--customer", "globex", "--dest", "/drops/globex"],
    )


@dsl.container_component
def load_drop():
    return dsl.ContainerSpec(
        image="registry.example.com/integrations/loader:2.0.3",
        args=["load", "--customer", "globex", "--schema", "customer_globex"],
    )


@dsl.container_component
def notify_account_team():
    return dsl.ContainerSpec(
        image="bash:5.2",
        command=["bash", "-c"],
        args=["notify --channel '#cust-globex' --message 'sync done'"],
    )


@dsl.pipeline(
    name="customer-sync-globex",
    description="Converted from Airflow DAG customer_sync_globex (samples/dags/customer_dag_factory.py:23).",
)
def customer_sync_globex():
    # Airflow: samples/dags/customer_dag_factory.py:31 pull_sftp_drop (DockerOperator)
    pull_sftp_drop_task = (
        pull_sftp_drop().set_display_name("pull_sftp_drop").set_caching_options(False)
    )
    pull_sftp_drop_task.set_env_variable(name="CUSTOMER", value="globex")
    pull_sftp_drop_task.set_env_variable(name="TIER", value="silver")
    pull_sftp_drop_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )
    # Airflow: samples/dags/customer_dag_factory.py:37 load_drop (DockerOperator)
    load_drop_task = (
        load_drop().set_display_name("load_drop").set_caching_options(False)
    )
    load_drop_task.after(pull_sftp_drop_task)
    load_drop_task.set_retry(num_retries=2, backoff_duration="600s", backoff_factor=1.0)
    # Airflow: samples/dags/customer_dag_factory.py:42 notify_account_team (BashOperator)
    notify_account_team_task = (
        notify_account_team()
        .set_display_name("notify_account_team")
        .set_caching_options(False)
    )
    notify_account_team_task.after(load_drop_task)
    notify_account_team_task.set_retry(
        num_retries=2, backoff_duration="600s", backoff_factor=1.0
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=customer_sync_globex,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
