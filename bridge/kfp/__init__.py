"""KFP API v2beta1 client and run lifecycle, with a sync and an async face.

Public API (all importable from ``af2kfp.bridge.kfp``):

- Config and faces: :class:`KfpConfig` (host, auth, namespace, verify, timeout,
  connect_timeout, retry, ui_host), :class:`KfpClient` (sync, ``with``) and
  :class:`AsyncKfpClient` (``async with``; same methods, as coroutines).
- Auth: :class:`NoAuth`, :class:`BearerToken`, :class:`TokenFile` (re-read per request),
  :class:`SessionCookie`, :func:`auth_from_options`; secrets never appear in reprs,
  logs or exception texts.
- Retries: :class:`RetryPolicy` (exponential backoff with jitter, ``Retry-After``).
- Methods of both faces: ``healthz``; ``create_experiment``, ``get_experiment``,
  ``list_experiments``, ``find_experiment``, ``get_or_create_experiment``,
  ``delete_experiment``; ``create_pipeline``, ``upload_pipeline``, ``upload_pipeline_version``,
  ``get_pipeline``, ``list_pipelines``, ``find_pipeline``, ``delete_pipeline``,
  ``get_pipeline_version``, ``list_pipeline_versions``, ``find_pipeline_version``,
  ``latest_pipeline_version``, ``resolve_pipeline_version``, ``delete_pipeline_version``;
  ``submit_run(RunSpec)``, ``create_run(body)``, ``get_run``, ``list_runs``,
  ``find_run_by_name``, ``wait_for_run``, ``terminate_run``, ``archive_run``,
  ``unarchive_run``, ``delete_run``; ``submit_recurring_run(RecurringRunSpec)``,
  ``create_recurring_run(body)``, ``get_recurring_run``, ``list_recurring_runs``,
  ``find_recurring_run``, ``enable_recurring_run``, ``disable_recurring_run``,
  ``delete_recurring_run``; ``get_or_create_pipeline``, ``get_or_upload_version``,
  ``get_or_upload_pipeline`` (by name, never twice: see :mod:`af2kfp.bridge.kfp.uploads`);
  ``watch_run``, ``poll_run`` (see :mod:`af2kfp.bridge.kfp.waiting`); ``run_url(run_id, namespace=None)``.
  Both faces are generated (:mod:`af2kfp.bridge.kfp.codegen`): a new API call is an ``Op`` method
  of :class:`~af2kfp.bridge.kfp.core.KfpCore` (or a lifecycle function), then a regeneration.
- Run lifecycle: :class:`RunSpec`, :func:`deterministic_run_name`, :func:`build_run_body`.
- Waiting: :class:`WaitOptions` (poll interval, timeout, unexpected-state timeout, state
  policy), :class:`RunWatch` (one waiter's state across polls).
- Recurring runs: :class:`RecurringRunSpec` (a :class:`RunSpec` on a :class:`Schedule`;
  :meth:`RecurringRunSpec.from_schedule` reads ``af2kfp convert``'s ``schedule.json``),
  :func:`build_recurring_run_body`.
- States: :class:`RunState`, :class:`StatePolicy` (:meth:`StatePolicy.create`,
  :meth:`StatePolicy.classify`), :class:`Verdict`.
- Models: :class:`Run` (``summary()``, ``failed_tasks``), :class:`TaskDetail`,
  :class:`Experiment`, :class:`Pipeline`, :class:`PipelineVersion`, :class:`RecurringRun`,
  :class:`Page`; :func:`describe_failure`, :func:`run_url`, :func:`experiment_url`.
- Packages: :func:`load_package`, :func:`parse_package`, :class:`PipelinePackage`.
- Errors: :class:`KfpError` > :class:`KfpApiError` (``status``, ``message``, ``code``,
  ``retriable``, ``maybe_applied``) > :class:`KfpConnectionError`, :class:`KfpAuthError`,
  :class:`KfpNotFoundError`; :class:`KfpRunFailedError` (``run``),
  :class:`KfpWaitTimeoutError` (``run_id``, ``last_state``); :class:`KfpUnexpectedStateError`
  (``run_id``, ``state``: a run stuck in a state no waiter expects, see :class:`UnexpectedStateWatch`);
  :class:`KfpConfigError`, :class:`PipelineSourceError` and :class:`ScheduleError` (all also
  ``InputError``: exit code 2 on the CLI).
"""

from af2kfp.bridge.kfp.auth import BearerToken, NoAuth, SessionCookie, TokenFile, auth_from_options
from af2kfp.bridge.kfp.client import AsyncKfpClient, KfpClient
from af2kfp.bridge.kfp.core import KfpConfig
from af2kfp.bridge.kfp.errors import (
    KfpApiError,
    KfpAuthError,
    KfpConfigError,
    KfpConnectionError,
    KfpError,
    KfpNotFoundError,
    KfpRunFailedError,
    KfpUnexpectedStateError,
    KfpWaitTimeoutError,
    PipelineSourceError,
    ScheduleError,
)
from af2kfp.bridge.kfp.models import (
    Experiment,
    Page,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    TaskDetail,
    describe_failure,
    experiment_url,
    run_url,
)
from af2kfp.bridge.kfp.packages import PipelinePackage, load_package, parse_package
from af2kfp.bridge.kfp.recurring import RecurringRunSpec, Schedule, build_recurring_run_body
from af2kfp.bridge.kfp.retry import RetryPolicy
from af2kfp.bridge.kfp.runs import RunSpec, build_run_body, deterministic_run_name
from af2kfp.bridge.kfp.states import (
    DEFAULT_UNEXPECTED_STATE_TIMEOUT,
    RunState,
    StatePolicy,
    UnexpectedStateWatch,
    Verdict,
    raw_state,
)
from af2kfp.bridge.kfp.waiting import RunWatch, WaitOptions

__all__ = [
    "DEFAULT_UNEXPECTED_STATE_TIMEOUT",
    "UnexpectedStateWatch",
    "KfpUnexpectedStateError",
    "raw_state",
    "AsyncKfpClient",
    "BearerToken",
    "Experiment",
    "KfpApiError",
    "KfpAuthError",
    "KfpClient",
    "KfpConfig",
    "KfpConfigError",
    "KfpConnectionError",
    "KfpError",
    "KfpNotFoundError",
    "KfpRunFailedError",
    "KfpWaitTimeoutError",
    "NoAuth",
    "Page",
    "Pipeline",
    "PipelinePackage",
    "PipelineSourceError",
    "PipelineVersion",
    "RecurringRun",
    "RecurringRunSpec",
    "RetryPolicy",
    "Run",
    "RunSpec",
    "RunWatch",
    "RunState",
    "Schedule",
    "ScheduleError",
    "SessionCookie",
    "StatePolicy",
    "TaskDetail",
    "TokenFile",
    "Verdict",
    "WaitOptions",
    "auth_from_options",
    "build_recurring_run_body",
    "build_run_body",
    "deterministic_run_name",
    "describe_failure",
    "experiment_url",
    "load_package",
    "parse_package",
    "run_url",
]
