"""KFP v2 pipeline for the Airflow DAG taskflow_feature_pipeline, converted by af2kfp.

Airflow source: samples/dags/taskflow_feature_pipeline.py:50
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def extract_web(source: str) -> str:
    """Pretend to pull one day of events from a source system."""
    import json

    return json.dumps(
        {"source": source, "rows": 1000, "path": f"s3://acme-events/raw/{source}/"}
    )


@dsl.component(base_image="python:3.11")
def clean_events(batch: str) -> str:
    """Drop bots and malformed rows."""
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    batch = json.loads(batch)

    return json.dumps({**batch, "rows": int(batch["rows"] * 0.97), "clean": True})


@dsl.component(base_image="python:3.11")
def build_features(web: str, mobile: str, pos: str) -> str:
    import json

    # Values that travel as JSON text, decoded back to what Airflow passes
    web = json.loads(web)
    mobile = json.loads(mobile)
    pos = json.loads(pos)

    total = web["rows"] + mobile["rows"] + pos["rows"]
    return f"s3://acme-features/daily/rows={total}/"


@dsl.component(base_image="python:3.11")
def publish(feature_path: str, store: str = "online"):
    print(f"publishing {feature_path} to the {store} feature store")


@dsl.pipeline(
    name="taskflow-feature-pipeline",
    description="Converted from Airflow DAG taskflow_feature_pipeline (samples/dags/taskflow_feature_pipeline.py:50).",
)
def taskflow_feature_pipeline():
    # Airflow: samples/dags/taskflow_feature_pipeline.py:42 extract_web (@task)
    extract_web_task = (
        extract_web(source="web")
        .set_display_name("extract_web")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:42 clean_events (@task)
    clean_events_task = (
        clean_events(batch=extract_web_task.output)
        .set_display_name("clean_events")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:43 extract_mobile (@task)
    extract_mobile_task = (
        extract_web(source="mobile")
        .set_display_name("extract_mobile")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:43 clean_events__1 (@task)
    clean_events_1_task = (
        clean_events(batch=extract_mobile_task.output)
        .set_display_name("clean_events__1")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:44 extract_pos (@task)
    extract_pos_task = (
        extract_web(source="pos")
        .set_display_name("extract_pos")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:44 clean_events__2 (@task)
    clean_events_2_task = (
        clean_events(batch=extract_pos_task.output)
        .set_display_name("clean_events__2")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:45 build_features (@task)
    build_features_task = (
        build_features(
            web=clean_events_task.output,
            mobile=clean_events_1_task.output,
            pos=clean_events_2_task.output,
        )
        .set_display_name("build_features")
        .set_caching_options(False)
    )
    build_features_task.set_retry(
        num_retries=2, backoff_duration="300s", backoff_factor=1.0
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:46 publish (@task)
    publish_task = (
        publish(feature_path=build_features_task.output)
        .set_display_name("publish")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/taskflow_feature_pipeline.py:47 publish_offline (@task)
    publish_offline_task = (
        publish(feature_path=build_features_task.output, store="offline")
        .set_display_name("publish_offline")
        .set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=taskflow_feature_pipeline,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
