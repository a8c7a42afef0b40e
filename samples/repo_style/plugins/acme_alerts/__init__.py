"""Airflow plugin package of the data team: failure alerts."""
