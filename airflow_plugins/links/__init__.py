"""Kubeflow Pipelines links for Airflow."""
