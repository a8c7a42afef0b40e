"""Airflow provider for Kubeflow Pipelines: hook, connection type, operators, trigger,
sensor and extra link. Airflow finds it through the ``apache_airflow_provider`` entry point.

Layout (as Airflow's own providers): ``hooks/kfp.py`` (:class:`KfpHook`, connection type
``kubeflow_pipelines``, default ``kfp_default``), ``operators/kfp.py``
(``KfpRunPipelineOperator``, ``KfpUploadPipelineOperator``), ``triggers/kfp.py``
(``KfpRunTrigger``), ``sensors/kfp.py`` (``KfpRunSensor``), ``links/kfp.py`` (the "KFP run"
link) and ``get_provider_info.py``. A DAG that runs what ``af2kfp convert`` wrote::

    from af2kfp.airflow_plugins.operators.kfp import KfpRunPipelineOperator

    KfpRunPipelineOperator(
        task_id="etl",
        pipeline_package="build/kfp/etl",  # the convert output folder, or a pipeline.yaml
        parameters={"ds": "{{ ds }}", "run_id": "{{ run_id }}"},
        experiment_name="etl",
        deferrable=True,
    )

A retried task reattaches to its KFP run; a killed one terminates it (``cancel_on_kill``).
"""
