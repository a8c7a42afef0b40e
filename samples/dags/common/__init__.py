"""Helpers shared by the DAG files in this folder (operators, task factories)."""
