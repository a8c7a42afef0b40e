"""Kubeflow Pipelines sensors for Airflow."""
