"""Kubeflow Pipelines triggers for Airflow."""
