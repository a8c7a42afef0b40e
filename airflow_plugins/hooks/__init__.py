"""Kubeflow Pipelines hooks for Airflow."""
