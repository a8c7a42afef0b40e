"""The lab's pod operators: each step of a sequencing run is one pod of the tools image."""

from __future__ import annotations

from typing import Any, Sequence

from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

from include.labflow.settings import DRY_RUN, LAB_ENV, NAMESPACE, TOOLS_IMAGE


class LabPodOperator(KubernetesPodOperator):
    """One lab step; ``skip`` (templated) and ``skip_envs`` let a DAG turn it off per run or deployment."""

    template_fields: Sequence[str] = (*KubernetesPodOperator.template_fields, "skip")

    def __init__(self, *, step: str, skip: str | bool = False, skip_envs: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(image=TOOLS_IMAGE, namespace=NAMESPACE, cmds=["lab-step"], arguments=[step],
                         **kwargs)
        self.skip = skip
        self.skip_envs = skip_envs or []

    def execute(self, context: Any) -> Any:
        if DRY_RUN:
            raise AirflowSkipException("dry run: lab pods are skipped")
        if self.skip:
            raise AirflowSkipException(f"{self.task_id} skipped by the run's params")
        if LAB_ENV in self.skip_envs:
            raise AirflowSkipException(f"{self.task_id} does not run in {LAB_ENV}")
        return super().execute(context)


class SampleSheetOperator(KubernetesPodOperator):
    """Validates a run's sample sheet; a run without one is an error, not a skip."""

    template_fields: Sequence[str] = (*KubernetesPodOperator.template_fields, "sheet")

    def __init__(self, *, sheet: str, **kwargs: Any) -> None:
        super().__init__(image=TOOLS_IMAGE, namespace=NAMESPACE, cmds=["check-sheet"], **kwargs)
        self.sheet = sheet

    def execute(self, context: Any) -> Any:
        if not self.sheet:
            raise AirflowFailException("no sample sheet for this run")
        return super().execute(context)
