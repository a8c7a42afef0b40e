"""Team-wide operator defaults.

``TeamPodOperator`` is a KubernetesPodOperator with the data platform team's
namespace, service account, labels and log settings baked in, so DAG authors only
pass the image and command. The af2kfp config in ``samples/pyproject.toml`` declares
it under ``[tool.af2kfp.operators]`` so it converts like a KubernetesPodOperator.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

TEAM_NAMESPACE = "data-platform"
TEAM_SERVICE_ACCOUNT = "airflow-workloads"
TEAM_LABELS = {"team": "data-platform", "cost-center": "cc-4711"}


class TeamPodOperator(KubernetesPodOperator):
    """A pod in the team namespace, labelled for cost tracking, deleted when done."""

    def __init__(self, *, labels: dict[str, str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("namespace", TEAM_NAMESPACE)
        kwargs.setdefault("service_account_name", TEAM_SERVICE_ACCOUNT)
        kwargs.setdefault("get_logs", True)
        kwargs.setdefault("on_finish_action", "delete_pod")
        super().__init__(labels={**TEAM_LABELS, **(labels or {})}, **kwargs)
