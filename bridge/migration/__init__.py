"""The DAG-by-DAG migration: deploy converted DAGs to KFP, cut Airflow over, and track each DAG's stage.

- :mod:`bridge.migration.state`: the state file ``af2kfp-migration.yaml`` (stages
  ``airflow``, ``shadow``, ``kfp``, ``kfp-scheduled``; what deploy recorded).
- :mod:`bridge.migration.output`: what is read from an ``af2kfp convert`` output.
- :mod:`bridge.migration.versions`: a pipeline version named after its content.
- :mod:`bridge.migration.plan`: what to do with a DAG's recurring run (pure).
- :mod:`bridge.migration.deploy`: ``af2kfp deploy``'s work against KFP.
- :mod:`bridge.migration.status`: ``af2kfp migrate status``'s rows; the reports' view of the stages.
- :mod:`bridge.migration.dag_source`: a DAG's values (report.json) as Python source for a generated DAG file.
- :mod:`bridge.migration.cutover`: ``af2kfp cutover``'s Airflow DAG files of stages ``kfp`` and ``shadow``.
"""
