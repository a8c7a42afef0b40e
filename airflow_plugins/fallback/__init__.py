"""Run one original Airflow operator outside Airflow: the entry point of af2kfp's fallback components.

``python -m airflow_plugins.fallback --operator QUALNAME --dag-id D --task-id T --kwargs JSON
[--xcom-output PATH]`` imports the operator class, builds it with the keyword arguments
(af2kfp's lossless JSON: ``{"$duration": s}`` etc.) in a throwaway DAG, renders its
templates with a minimal context, calls ``execute(context)`` and writes the return value
(Airflow's XCom) to ``PATH``. It exits 1 with the operator's error when the operator fails,
2 on bad arguments. Connections come from ``AIRFLOW_CONN_<ID>`` variables, as Airflow reads them.
"""

from airflow_plugins.fallback.runner import main, run_operator

__all__ = ["main", "run_operator"]
