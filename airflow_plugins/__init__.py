"""Airflow provider for Kubeflow Pipelines: hook, connection type, operators, trigger,
sensor and extra link. Airflow finds it through the ``apache_airflow_provider`` entry point."""
