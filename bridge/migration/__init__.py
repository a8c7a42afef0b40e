"""The DAG-by-DAG migration: deploy converted DAGs to KFP, cut Airflow over, and track each DAG's stage.

- :mod:`af2kfp.bridge.migration.state`: the state file ``af2kfp-migration.yaml`` (stages
  ``airflow``, ``shadow``, ``kfp``, ``kfp-scheduled``; what deploy recorded).
- :mod:`af2kfp.bridge.migration.output`: what is read from an ``af2kfp convert`` output.
- :mod:`af2kfp.bridge.migration.versions`: a pipeline version named after its content.
- :mod:`af2kfp.bridge.migration.plan`: what to do with a DAG's recurring run (pure).
- :mod:`af2kfp.bridge.migration.deploy`: ``af2kfp deploy``'s work against KFP.
- :mod:`af2kfp.bridge.migration.status`: ``af2kfp migrate status``'s rows; the reports' view of the stages.
- :mod:`af2kfp.bridge.migration.dag_source`: a DAG's values (report.json) as Python source for a generated DAG file.
- :mod:`af2kfp.bridge.migration.cutover`: ``af2kfp cutover``'s Airflow DAG files of stages ``kfp`` and ``shadow``.
"""
