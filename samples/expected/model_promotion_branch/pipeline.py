"""KFP v2 pipeline for the Airflow DAG model_promotion_branch, converted by af2kfp.

Airflow source: samples/dags/model_promotion_branch.py:32
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def compare_models(candidate_auc: float, production_auc: float) -> str:
    """Return both scores; the real job reads them from the model registry."""
    import json

    return json.dumps({"candidate": candidate_auc, "production": production_auc})


@dsl.component(base_image="python:3.11")
def decide(compare_models_output: str) -> str:
    import json

    MIN_AUC_GAIN = 0.002

    # Values that travel as JSON text, decoded back to what Airflow passes
    compare_models_output = json.loads(compare_models_output)

    scores = compare_models_output
    if scores["candidate"] - scores["production"] >= MIN_AUC_GAIN:
        return "promote_candidate"
    return "keep_production"


@dsl.component(base_image="python:3.11")
def promote_candidate(model_name: str, stage: str):
    print(f"moving {model_name} to {stage}")


@dsl.pipeline(
    name="model-promotion-branch",
    description="Converted from Airflow DAG model_promotion_branch (samples/dags/model_promotion_branch.py:32).",
)
def model_promotion_branch():
    # Airflow: samples/dags/model_promotion_branch.py:39 compare_models (PythonOperator)
    compare_models_task = (
        compare_models(candidate_auc=0.913, production_auc=0.907)
        .set_display_name("compare_models")
        .set_caching_options(False)
    )
    # Airflow: samples/dags/model_promotion_branch.py:44 decide (BranchPythonOperator)
    decide_task = (
        decide(compare_models_output=compare_models_task.output)
        .set_display_name("decide")
        .set_caching_options(False)
    )
    with dsl.If(decide_task.output == "promote_candidate"):
        # Airflow: samples/dags/model_promotion_branch.py:45 promote_candidate (PythonOperator)
        promote_candidate_task = (
            promote_candidate(model_name="churn", stage="production")
            .set_display_name("promote_candidate")
            .set_caching_options(False)
        )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=model_promotion_branch,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
