"""Deployment settings, read from Airflow Variables when the scheduler parses the DAGs."""

from __future__ import annotations

from airflow.models import Variable

LAB_ENV = Variable.get("lab_env", default_var="dev")
# Set lab_dry_run to "on" in a sandbox deployment: every lab pod then skips itself.
DRY_RUN = Variable.get("lab_dry_run", default_var="off") == "on"
NAMESPACE = "lab-pipelines"
TOOLS_IMAGE = "ghcr.io/example-lab/seq-tools:4.2"
