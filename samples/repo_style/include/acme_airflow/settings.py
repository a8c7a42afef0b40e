"""Deployment settings, read from Airflow Variables when the scheduler parses the DAGs.

One Airflow deployment per environment; the Variables say which one this is and which
images and warehouse it uses (`airflow variables import` from the ops repository).
"""

from __future__ import annotations

from airflow.models import Variable
from airflow.sdk import Asset

DEPLOYMENT_ENV = Variable.get("deployment_env", default_var="dev")
IMAGE_REGISTRY = "europe-docker.pkg.dev/acme-data/images"
DBT_IMAGE = f"{IMAGE_REGISTRY}/dbt-runner:{Variable.get('dbt_image_tag')}"
WAREHOUSE = Variable.get("warehouse_config", deserialize_json=True)
NAMESPACE = f"data-{DEPLOYMENT_ENV}"
SPARK_IMAGE = f"{IMAGE_REGISTRY}/spark-submit:3.5.1"
SPARK_EVENT_LOG = "gs://acme-spark-history/events"
SNAPSHOT_RETENTION_DAYS = int(Variable.get("snapshot_retention_days", default_var="30"))
ORDERS_SNAPSHOT = Asset(f"gs://acme-lake-{DEPLOYMENT_ENV}/snapshots/orders/")
