"""The lab's shared Airflow code."""
