"""Kubeflow Pipelines operators for Airflow."""
