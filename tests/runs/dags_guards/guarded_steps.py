"""A team's Python operator that decides at run time whether to run (helper module, no DAG here).

``skip`` is templated: DAGs pass Jinja that renders non-empty to skip the step. ``skip_envs`` lists
the deployments where the step never runs (the ``steps_env`` Variable says which this is), and the
``steps_quiet`` Variable turns every step off. ``require`` fails the step when it renders empty.
"""

from __future__ import annotations

from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.models import Variable
from airflow.providers.standard.operators.python import PythonOperator

STEPS_ENV = Variable.get("steps_env", default_var="dev")
QUIET = Variable.get("steps_quiet", default_var="no") == "yes"


class StepOperator(PythonOperator):
    """A PythonOperator that may skip itself, per run (``skip``) or per deployment (``skip_envs``)."""

    template_fields = (*PythonOperator.template_fields, "skip", "require")

    def __init__(self, *, skip="", skip_envs=None, require="ok", **kwargs):
        super().__init__(**kwargs)
        self.skip = skip
        self.skip_envs = skip_envs or []
        self.require = require

    def execute(self, context):
        if QUIET:
            raise AirflowSkipException("quiet mode")
        if self.skip:
            raise AirflowSkipException(f"{self.task_id}: skipped by the run's params")
        if STEPS_ENV in self.skip_envs:
            raise AirflowSkipException(f"{self.task_id}: not in {STEPS_ENV}")
        if not self.require:
            raise AirflowFailException(f"{self.task_id}: nothing to work on")
        return super().execute(context)
