"""One DAG per customer from a factory function called in a loop.

Shows a function that builds and returns a DAG, called for each entry of a module
constant, with the result stored in ``globals()`` as many repositories still do.
DAG ids: ``customer_sync_acme``, ``customer_sync_globex``, ``customer_sync_initech``.
"""

from datetime import datetime, timedelta

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

CUSTOMERS = {
    "acme": {"schedule": "0 * * * *", "tier": "gold"},
    "globex": {"schedule": "0 */6 * * *", "tier": "silver"},
    "initech": {"schedule": "@daily", "tier": "bronze"},
}


def create_customer_dag(customer: str, schedule: str, tier: str) -> DAG:
    """The sync DAG of one customer: pull their SFTP drop, load it, notify."""
    with DAG(
        dag_id=f"customer_sync_{customer}",
        schedule=schedule,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        default_args={"owner": "integrations", "retries": 2, "retry_delay": timedelta(minutes=10)},
        tags=["customers", tier],
    ) as dag:
        pull = DockerOperator(
            task_id="pull_sftp_drop",
            image="registry.example.com/integrations/sftp-pull:2.0.3",
            command=["pull", "--customer", customer, "--dest", f"/drops/{customer}"],
            environment={"CUSTOMER": customer, "TIER": tier},
        )
        load = DockerOperator(
            task_id="load_drop",
            image="registry.example.com/integrations/loader:2.0.3",
            command=f"load --customer {customer} --schema customer_{customer}",
        )
        notify = BashOperator(
            task_id="notify_account_team",
            bash_command=f"notify --channel '#cust-{customer}' --message 'sync done'",
        )
        pull >> load >> notify
    return dag


for name, settings in CUSTOMERS.items():
    globals()[f"customer_sync_{name}"] = create_customer_dag(name, settings["schedule"], settings["tier"])
