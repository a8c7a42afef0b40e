"""The team's operators: every pod runs in the environment's namespace with the team's labels.

DAG authors use these instead of KubernetesPodOperator so nobody has to remember the
namespace, the pull policy or the log settings.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

from include.acme_airflow.settings import DBT_IMAGE, DEPLOYMENT_ENV, NAMESPACE, WAREHOUSE


class AcmePodOperator(KubernetesPodOperator):
    """A KubernetesPodOperator with the data team's defaults."""

    team_labels = {"team": "data", "managed-by": "airflow"}

    def __init__(self, *, image_pull_policy: str = "IfNotPresent", startup_timeout_seconds: int = 600,
                 **kwargs: Any) -> None:
        kwargs.setdefault("namespace", NAMESPACE)
        kwargs.setdefault("labels", dict(self.team_labels))
        kwargs.setdefault("get_logs", True)
        super().__init__(
            image_pull_policy=image_pull_policy,
            startup_timeout_seconds=startup_timeout_seconds,
            **kwargs,
        )


class DbtOperator(AcmePodOperator):
    """Runs one dbt command against the environment's warehouse, in the dbt runner image."""

    template_fields = (*AcmePodOperator.template_fields, "select")

    def __init__(self, *, command: str = "build", select: str | None = None, full_refresh: bool = False,
                 **kwargs: Any) -> None:
        arguments = [command, "--target", DEPLOYMENT_ENV, "--project-dir", "/dbt"]
        if select:
            arguments += ["--select", select]
        if full_refresh:
            arguments.append("--full-refresh")
        super().__init__(
            image=DBT_IMAGE,
            cmds=["dbt"],
            arguments=arguments,
            env_vars={
                "DBT_PROFILES_DIR": "/dbt/profiles",
                "GCP_PROJECT": WAREHOUSE["project"],
                "BQ_DATASET": WAREHOUSE["dataset"],
            },
            **kwargs,
        )
        self.select = select
