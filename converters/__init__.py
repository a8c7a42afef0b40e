"""Static conversion of Airflow DAG files into Kubeflow Pipelines v2.

No network, no Airflow import, never runs user code. Data flows one way:
source -> ``analysis`` -> ``graph`` (the migration graph) -> ``mappings`` -> ``emit`` -> reports.
"""
