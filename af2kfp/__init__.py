"""af2kfp: move Airflow DAGs to Kubeflow Pipelines v2, and run both side by side while you do.

One import namespace for the three parts, each kept in its own top-level folder of the
repository and installed under this package (``pyproject.toml``, ``package-dir``):

- :mod:`af2kfp.converters`: DAG files -> migration graph -> KFP pipelines and reports (static;
  never imports Airflow or user code);
- :mod:`af2kfp.bridge`: the KFP side (client, runs, the local KFP server, comparison, the
  ``af2kfp`` command line);
- :mod:`af2kfp.airflow_plugins`: the Airflow provider.

Installed under one name so a user's own ``bridge/`` or ``converters/`` package on Airflow's
``sys.path`` (the DAGs and plugins folders) cannot shadow ours.
"""

__version__ = "0.1.0"  # the single source: pyproject.toml reads it (dynamic version)
