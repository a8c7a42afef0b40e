"""Daily marketing attribution: dbt staging models, sharded touchpoint scoring, attribution marts.

Tasks come from the team's builders and operators in include/acme_airflow; the scoring
image's tag and the number of shards are Airflow Variables, read when the DAG is parsed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from include.acme_airflow.builders import dbt_model
from include.acme_airflow.operators import AcmePodOperator
from include.acme_airflow.settings import IMAGE_REGISTRY, WAREHOUSE
from acme_alerts.callbacks import notify_on_failure
from airflow.models import Variable
from airflow.sdk import DAG

SCORING_IMAGE = f"{IMAGE_REGISTRY}/touchpoint-scoring:{Variable.get('dbt_image_tag')}"
SHARDS = int(Variable.get("attribution_shards", default_var="1"))

default_args = {
    "owner": "marketing-analytics",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
    "on_failure_callback": notify_on_failure,
}

with DAG(
    dag_id="marketing_attribution",
    schedule="0 5 * * *",
    start_date=datetime(2024, 6, 1),
    catchup=False,
    default_args=default_args,
    tags=["marketing", "dbt"],
) as dag:
    staging = [dbt_model(model) for model in ("stg_sessions", "stg_orders", "stg_ad_spend")]

    scoring = []
    for shard in range(SHARDS):
        scoring.append(
            AcmePodOperator(
                task_id=f"score_touchpoints_{shard}",
                name=f"score-touchpoints-{shard}",
                image=SCORING_IMAGE,
                cmds=["python", "-m", "scoring.touchpoints"],
                arguments=["--shard", str(shard), "--shards", str(SHARDS), "--day", "{{ ds }}"],
                env_vars={"GCP_PROJECT": WAREHOUSE["project"], "BQ_LOCATION": WAREHOUSE["location"]},
                execution_timeout=timedelta(hours=2),
            )
        )

    marts = dbt_model("+fct_attribution", command="run")
    staging >> scoring[0]
    for upstream, downstream in zip(scoring, scoring[1:]):
        upstream >> downstream
    scoring[-1] >> marts
