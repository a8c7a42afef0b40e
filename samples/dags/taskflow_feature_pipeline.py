"""TaskFlow feature pipeline: ``@dag`` and ``@task`` functions passing return values.

Shows return values flowing between tasks (data edges), one task called several
times (Airflow names the calls ``clean_events``, ``clean_events__1``, ...), and
``.override(task_id=...)`` to give calls explicit ids.
"""

from datetime import datetime

from airflow.sdk import dag, task

SOURCES = ["web", "mobile", "pos"]


@dag(
    dag_id="taskflow_feature_pipeline",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["ml", "features", "taskflow"],
)
def feature_pipeline():
    @task
    def extract_events(source: str) -> dict:
        """Pretend to pull one day of events from a source system."""
        return {"source": source, "rows": 1000, "path": f"s3://acme-events/raw/{source}/"}

    @task
    def clean_events(batch: dict) -> dict:
        """Drop bots and malformed rows."""
        return {**batch, "rows": int(batch["rows"] * 0.97), "clean": True}

    @task(retries=2)
    def build_features(web: dict, mobile: dict, pos: dict) -> str:
        total = web["rows"] + mobile["rows"] + pos["rows"]
        return f"s3://acme-features/daily/rows={total}/"

    @task
    def publish(feature_path: str, store: str = "online") -> None:
        print(f"publishing {feature_path} to the {store} feature store")

    web = clean_events(extract_events.override(task_id="extract_web")("web"))
    mobile = clean_events(extract_events.override(task_id="extract_mobile")("mobile"))
    pos = clean_events(extract_events.override(task_id="extract_pos")("pos"))
    features = build_features(web, mobile, pos)
    publish(features)
    publish.override(task_id="publish_offline")(features, store="offline")


feature_pipeline()
