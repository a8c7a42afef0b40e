"""The team's operators: every pod runs in the environment's namespace with the team's labels.

DAG authors use these instead of KubernetesPodOperator so nobody has to remember the
namespace, the pull policy or the log settings.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk.exceptions import AirflowSkipException
from kubernetes.client import models as k8s

from include.acme_airflow.settings import (
    DBT_IMAGE, DEPLOYMENT_ENV, NAMESPACE, SPARK_EVENT_LOG, SPARK_IMAGE, WAREHOUSE,
)


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


class SparkJobOperator(AcmePodOperator):
    """Submits one Spark application with the team's spark-submit image.

    The submit command and its environment are put together in ``execute``, after Airflow has
    rendered the templated fields, so ``main_class`` and ``app_args`` may use Jinja.
    """

    template_fields = (*AcmePodOperator.template_fields, "main_class", "app_args")

    def __init__(self, *, main_class: str, jar: str, app_args: list[str] | None = None,
                 executor_memory: str = "4g", skip: bool = False, **kwargs: Any) -> None:
        super().__init__(image=SPARK_IMAGE, **kwargs)
        self.main_class = main_class
        self.jar = jar
        self.app_args = app_args or []
        self.executor_memory = executor_memory
        self.skip = skip

    def execute(self, context):
        if self.skip:
            raise AirflowSkipException(f"{self.task_id} is switched off")

        self.cmds = ["/opt/spark/bin/spark-submit"]
        self.arguments = [
            "--class", self.main_class,
            "--conf", f"spark.executor.memory={self.executor_memory}",
            self.jar,
            *self.app_args,
        ]
        self.env_vars = [
            k8s.V1EnvVar(name="SPARK_ENV", value=DEPLOYMENT_ENV),
            k8s.V1EnvVar(name="GCP_PROJECT", value=WAREHOUSE["project"]),
        ]
        if DEPLOYMENT_ENV == "prod":
            self.env_vars.append(k8s.V1EnvVar(name="SPARK_EVENT_LOG_DIR", value=SPARK_EVENT_LOG))

        self.log.info("Submitting %s from %s", self.main_class, self.jar)
        return super().execute(context)
