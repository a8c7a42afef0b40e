"""Operators that run and upload Kubeflow Pipelines from Airflow.

:class:`KfpRunPipelineOperator` submits one KFP run per task instance and waits for it,
in the worker (sync) or in the triggerer (deferrable). A retried or cleared task reattaches
to the run it started: the run id is kept in Airflow 3.3's task state store (one per task
instance) and, as a fallback (older Airflow, a crash between submit and store), found again
by its generated display name, which holds dag_id, task_id, the DAG run's run_id and
map_index. A ``run_name`` given by the user is never looked up: it may repeat across DAG
runs (``"nightly"``), and a new DAG run must not pick up an old DAG run's KFP run.
:class:`KfpUploadPipelineOperator` uploads a compiled package as a pipeline or a new version.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from af2kfp.airflow_plugins._compat import AirflowException, BaseOperator, default_deferrable, task_state_store
from af2kfp.airflow_plugins.hooks.kfp import KfpHook
from af2kfp.airflow_plugins.links.kfp import XCOM_EXPERIMENT_ID, XCOM_RUN_ID, XCOM_RUN_URL, KfpRunLink
from af2kfp.airflow_plugins.triggers.kfp import KfpRunTrigger
from af2kfp.bridge.kfp import (
    DEFAULT_UNEXPECTED_STATE_TIMEOUT,
    KfpClient,
    KfpError,
    KfpNotFoundError,
    KfpUnexpectedStateError,
    KfpWaitTimeoutError,
    Run,
    RunSpec,
    RunWatch,
    Verdict,
    WaitOptions,
    describe_failure,
    deterministic_run_name,
    load_package,
)
from af2kfp.bridge.kfp.runs import DEFAULT_EXPERIMENT

__all__ = ["STATE_KEY", "KfpRunPipelineOperator", "KfpUploadPipelineOperator", "run_name_for"]

STATE_KEY = "kfp_run_id"
"""Task state store key of the run id; renaming it breaks reattachment of runs in flight."""


def run_name_for(context: Any) -> str:
    """The deterministic run name of a task instance: never the try number."""
    ti = context["ti"]
    parts = [ti.dag_id, ti.task_id, ti.run_id]
    if getattr(ti, "map_index", -1) not in (None, -1):
        parts.append(ti.map_index)
    return deterministic_run_name(*parts)


class KfpRunPipelineOperator(BaseOperator):
    """Run a Kubeflow pipeline and (by default) wait until it ends.

    Give one pipeline source: ``pipeline_package`` (a compiled YAML/JSON, a .tar.gz/.zip, or
    the output folder of ``af2kfp convert``), or an uploaded pipeline by ``pipeline_name`` /
    ``pipeline_id`` (+ ``pipeline_version_name`` / ``pipeline_version_id``; default: latest).

    :param parameters: pipeline parameters, templated: ``{"ds": "{{ ds }}"}`` fills the
        parameters ``af2kfp convert`` created from Airflow macros.
    :param logical_date_parameter: also pass the DAG run's logical date (its ``run_after``
        when it has none), as ISO 8601 text, in this pipeline parameter (a converted
        pipeline's is ``logical_date``: its dates are then the Airflow run's).
    :param params_as_parameters: also pass these DAG params, with their values in this DAG
        run (``dag_run.conf`` applied), in the pipeline parameters of the same names: the
        values keep their JSON type, which a template would render as text.
    :param experiment_name: experiment to run in, created if missing (default "Default").
    :param run_name: display name of the run (default: generated per task instance from
        dag_id, task_id, the DAG run's run_id and map_index; with it, a retry also finds its run
        by name when the task state store cannot). A given name is never used to find a run:
        a retry reattaches only through the task state store (Airflow 3.3+), else resubmits.
    :param wait_for_termination: wait for the run to end; else succeed once it is submitted.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poll_interval, timeout, unexpected_state_timeout, success_states, failure_states:
        the :class:`~af2kfp.bridge.kfp.WaitOptions` (seconds between two state reads, default 10; the
        wait's limit, None: none, the run is left going; how long a run may stay in a state no
        waiter expects, default 300; the states counted as success, default SUCCEEDED and
        SKIPPED, and as failure, default FAILED and CANCELED).
    :param cancel_on_kill: terminate the run when the task is killed (both modes).
    :param reattach: let a retried or cleared task reattach to the run an earlier try of the
        same task instance started, instead of submitting another (see docs/walkthrough.md).
    :param rerun_failed: when reattaching finds a failed or canceled run, submit a new one
        (default: fail again with that run's error).
    :returns: the run summary (``run_id``, ``display_name``, ``experiment_id``, ``state``,
        ``error``, ``created_at``, ``finished_at``, ``failed_tasks``, ``run_url``); ``run_id``,
        ``run_url`` and ``experiment_id`` are also pushed to XCom right after submission.
    """

    template_fields: Sequence[str] = (
        "pipeline_package",
        "pipeline_name",
        "pipeline_id",
        "pipeline_version_name",
        "pipeline_version_id",
        "parameters",
        "experiment_name",
        "run_name",
        "namespace",
        "pipeline_root",
        "service_account",
    )
    template_fields_renderers = {"parameters": "json"}
    ui_color = "#4285f4"
    operator_extra_links = (KfpRunLink(),)

    def __init__(
        self,
        *,
        kfp_conn_id: str = KfpHook.default_conn_name,
        pipeline_package: str | None = None,
        pipeline_name: str | None = None,
        pipeline_id: str | None = None,
        pipeline_version_name: str | None = None,
        pipeline_version_id: str | None = None,
        parameters: dict[str, Any] | None = None,
        logical_date_parameter: str | None = None,
        params_as_parameters: Sequence[str] = (),
        experiment_name: str | None = None,
        run_name: str | None = None,
        namespace: str | None = None,
        pipeline_root: str | None = None,
        service_account: str | None = None,
        enable_caching: bool | None = None,
        wait_for_termination: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = WaitOptions.poll_interval,
        timeout: float | None = None,
        unexpected_state_timeout: float | None = DEFAULT_UNEXPECTED_STATE_TIMEOUT,
        cancel_on_kill: bool = True,
        reattach: bool = True,
        rerun_failed: bool = False,
        success_states: list[str] | None = None,
        failure_states: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (pipeline_package is not None) == bool(pipeline_name or pipeline_id):
            raise ValueError(
                f"{self.task_id}: give exactly one pipeline source: pipeline_package, "
                "or an uploaded pipeline (pipeline_name or pipeline_id)"
            )
        self.kfp_conn_id = kfp_conn_id
        self.pipeline_package = pipeline_package
        self.pipeline_name = pipeline_name
        self.pipeline_id = pipeline_id
        self.pipeline_version_name = pipeline_version_name
        self.pipeline_version_id = pipeline_version_id
        self.parameters = parameters or {}
        self.logical_date_parameter = logical_date_parameter
        self.params_as_parameters = list(params_as_parameters)
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.namespace = namespace
        self.pipeline_root = pipeline_root
        self.service_account = service_account
        self.enable_caching = enable_caching
        self.wait_for_termination = wait_for_termination
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        try:
            self.wait_options = WaitOptions.create(
                poll_interval=poll_interval, timeout=timeout, unexpected_state_timeout=unexpected_state_timeout,
                success_states=success_states, failure_states=failure_states,
            )
        except ValueError as err:
            raise ValueError(f"{self.task_id}: {err}") from None
        self.cancel_on_kill = cancel_on_kill
        self.reattach = reattach
        self.rerun_failed = rerun_failed
        self.success_states = success_states
        self.failure_states = failure_states
        self.kfp_run_id: str | None = None

    @cached_property
    def hook(self) -> KfpHook:
        return KfpHook(self.kfp_conn_id, namespace=self.namespace)

    # -- execute ---------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any] | None:
        name = self.run_name or run_name_for(context)
        store = task_state_store(context)
        run = self._reattach(store, name) if self.reattach else None
        if run is None:
            run = self._submit(name, self._run_parameters(context))
        if store is not None:  # also after a by-name reattach: the next try finds it directly
            store.set(STATE_KEY, run.run_id)
        self._announce(context, run)
        if not self.wait_for_termination:
            return self._summary(run)
        if self.wait_options.policy.classify(run.state) is Verdict.WAIT:
            if self.deferrable:
                options = self.wait_options
                self.defer(
                    trigger=KfpRunTrigger(
                        run_id=run.run_id,
                        kfp_conn_id=self.kfp_conn_id,
                        namespace=self.namespace,
                        poll_interval=options.poll_interval,
                        end_time=None if options.timeout is None else time.time() + options.timeout,
                        unexpected_state_timeout=options.unexpected_state_timeout,
                        cancel_on_kill=self.cancel_on_kill,
                        success_states=self.success_states,
                        failure_states=self.failure_states,
                    ),
                    method_name="execute_complete",
                )
            run = self._wait(run.run_id)
        return self._finish(run)

    def _run_parameters(self, context: Any) -> dict[str, Any]:
        """``parameters``, with the logical date and the DAG params asked for (given ones win)."""
        added: dict[str, Any] = {}
        if self.logical_date_parameter:
            dag_run = context["dag_run"]
            when = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
            if when is None:
                raise AirflowException(f"{self.task_id}: DAG run {dag_run.run_id} has no logical date to pass")
            added[self.logical_date_parameter] = when.isoformat()
        params = context.get("params") or {}
        for name in self.params_as_parameters:
            if name not in params:
                raise AirflowException(f"{self.task_id}: DAG param {name!r} is not set in this DAG run")
            added[name] = params[name]
        return {**added, **self.parameters}

    def _submit(self, name: str, parameters: dict[str, Any]) -> Run:
        spec = RunSpec(
            display_name=name,
            package=self.pipeline_package,
            pipeline_id=self.pipeline_id,
            pipeline_name=self.pipeline_name,
            pipeline_version_id=self.pipeline_version_id,
            pipeline_version_name=self.pipeline_version_name,
            experiment_name=self.experiment_name,
            namespace=self.namespace,
            parameters=parameters,
            pipeline_root=self.pipeline_root,
            service_account=self.service_account,
            enable_caching=self.enable_caching,
        )
        try:
            return self.hook.client.submit_run(spec)
        except KfpError as err:
            raise AirflowException(f"{self.task_id}: submitting KFP run {name!r} failed: {err}") from None

    def _reattach(self, store: Any, name: str) -> Run | None:
        """The run an earlier try of this task instance started, if it should be resumed."""
        try:
            run = self._earlier_run(store, name)
        except KfpError as err:
            raise AirflowException(
                f"{self.task_id}: looking for the KFP run of an earlier try failed: {err}"
            ) from None
        if run is None:
            return None
        verdict = self.wait_options.policy.classify(run.state)
        if verdict is Verdict.FAILURE and self.rerun_failed:
            self.log.info(
                "KFP run %s of an earlier try ended %s; submitting a new run", run.run_id, run.state.value
            )
            return None
        self.log.info(
            "reattaching to KFP run %s (%s) started by an earlier try; it is %s",
            run.run_id,
            run.display_name,
            run.state.value,
        )
        return run

    def _earlier_run(self, store: Any, name: str) -> Run | None:
        client = self.hook.client
        stored = store.get(STATE_KEY) if store is not None else None
        if stored:
            try:
                return client.get_run(stored)
            except KfpNotFoundError:
                self.log.warning("KFP run %s from an earlier try no longer exists", stored)
        if self.run_name:  # a given name may repeat across DAG runs: never reattach by it
            self.log.info(
                "no KFP run of an earlier try in the task state store; run_name %r is given, so "
                "no look-up by name: submitting a new run",
                name,
            )
            return None
        experiment = client.find_experiment(
            self.experiment_name or DEFAULT_EXPERIMENT, namespace=self.namespace
        )
        if experiment is None:
            return None
        return client.find_run_by_name(experiment.experiment_id, name, namespace=self.namespace)

    def _announce(self, context: Any, run: Run) -> None:
        self.kfp_run_id = run.run_id
        url = self.hook.run_url(run.run_id)
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RUN_ID, value=run.run_id)
        ti.xcom_push(key=XCOM_RUN_URL, value=url)
        ti.xcom_push(key=XCOM_EXPERIMENT_ID, value=run.experiment_id)
        self.log.info("KFP run %s: %s", run.run_id, url)

    def _wait(self, run_id: str) -> Run:
        try:
            return self.hook.client.watch_run(RunWatch(run_id, self.wait_options), raise_on_failure=False)
        except KfpWaitTimeoutError as err:
            raise AirflowException(f"{err}; the run was left going") from None
        except KfpUnexpectedStateError as err:
            raise AirflowException(str(err)) from None
        except KfpError as err:
            raise AirflowException(f"waiting for KFP run {run_id} failed: {err}") from None

    def _finish(self, run: Run) -> dict[str, Any]:
        if self.wait_options.policy.classify(run.state) is Verdict.FAILURE:
            raise AirflowException(describe_failure(run))
        self.log.info("KFP run %s ended %s", run.run_id, run.state.value)
        return self._summary(run)

    def _summary(self, run: Run) -> dict[str, Any]:
        return {**run.summary(), "run_url": self.hook.run_url(run.run_id)}

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Resumes after the trigger: success returns the run summary, anything else fails."""
        self.kfp_run_id = event.get("run_id")
        if event.get("status") != "success":
            raise AirflowException(event.get("message") or f"KFP wait ended without a message: {event!r}")
        self.log.info("KFP run %s ended %s", event["run_id"], (event.get("run") or {}).get("state"))
        return {**event["run"], "run_url": self.hook.run_url(event["run_id"])}

    def on_kill(self) -> None:
        """Sync mode: called on SIGTERM or ``execution_timeout``; deferred tasks are the trigger's.

        Uses a client of its own: a SIGTERM handler may interrupt the waiting client mid-request.
        """
        if not (self.cancel_on_kill and self.kfp_run_id):
            return
        with KfpClient(self.hook.client.config) as client:
            client.terminate_run(self.kfp_run_id)
        self.log.info("terminated KFP run %s because the task was killed", self.kfp_run_id)


class KfpUploadPipelineOperator(BaseOperator):
    """Upload a compiled pipeline package: a new pipeline, or a new version of an existing one.

    Safe to retry: an existing version of the same name is returned, not uploaded twice.

    :param pipeline_package: a compiled YAML/JSON, .tar.gz/.zip, or ``af2kfp convert`` folder.
    :param pipeline_name: the pipeline to create or add a version to.
    :param version_name: the new version's name (default: a new pipeline keeps the first version
        KFP creates, named after it; an existing one gets ``<pipeline_name>-<Airflow run id>``).
    :returns: ``pipeline_id``, ``pipeline_version_id``, ``pipeline_name``, ``version_name``.
    """

    template_fields: Sequence[str] = (
        "pipeline_package",
        "pipeline_name",
        "version_name",
        "description",
        "namespace",
    )
    ui_color = "#4285f4"

    def __init__(
        self,
        *,
        pipeline_package: str,
        pipeline_name: str,
        version_name: str | None = None,
        description: str | None = None,
        namespace: str | None = None,
        kfp_conn_id: str = KfpHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline_package = pipeline_package
        self.pipeline_name = pipeline_name
        self.version_name = version_name
        self.description = description
        self.namespace = namespace
        self.kfp_conn_id = kfp_conn_id

    @cached_property
    def hook(self) -> KfpHook:
        return KfpHook(self.kfp_conn_id, namespace=self.namespace)

    def execute(self, context: Any) -> dict[str, str]:
        try:
            pipeline, version = self.hook.client.get_or_upload_pipeline(
                load_package(self.pipeline_package).to_yaml(),
                name=self.pipeline_name,
                version_name=self.version_name,
                default_version_name=f"{self.pipeline_name}-{context['ti'].run_id}",
                description=self.description,
                namespace=self.namespace,
            )
        except KfpError as err:
            raise AirflowException(
                f"{self.task_id}: uploading {self.pipeline_package} failed: {err}"
            ) from None
        return {
            "pipeline_id": pipeline.pipeline_id,
            "pipeline_version_id": version.pipeline_version_id,
            "pipeline_name": self.pipeline_name,
            "version_name": version.display_name,
        }
