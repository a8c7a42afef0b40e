"""The KFP side at run time: REST client, run lifecycle, local KFP API server,
runtime side-by-side comparison, and the ``af2kfp`` command line. Never imports Airflow
at module level."""
