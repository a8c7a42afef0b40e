"""The sans-I/O core of the KFP client: one implementation behind both faces.

:class:`KfpConfig` holds the connection settings. :class:`KfpCore` turns each API
operation into a generator that yields :class:`~af2kfp.bridge.kfp.protocol.Send` and
:class:`~af2kfp.bridge.kfp.protocol.Sleep` actions and receives
:class:`~af2kfp.bridge.kfp.protocol.Outcome` objects; :mod:`af2kfp.bridge.kfp.transport` runs these
generators with ``httpx.Client`` (sync) or ``httpx.AsyncClient`` (async), and
:mod:`af2kfp.bridge.kfp.client` (generated) gives each a typed method on both faces. Request
building, auth headers (read fresh for every attempt), retries, error mapping and
JSON parsing therefore exist once.

Operations (all keyword arguments after the first positional ones; ``namespace=None``
means the config's namespace): ``healthz``; experiments ``create_experiment``,
``get_experiment``, ``list_experiments``, ``find_experiment``, ``delete_experiment``;
pipelines ``create_pipeline``, ``upload_pipeline``, ``upload_pipeline_version``, ``get_pipeline``,
``list_pipelines``, ``find_pipeline``, ``delete_pipeline``, ``get_pipeline_version``,
``list_pipeline_versions``, ``find_pipeline_version``, ``latest_pipeline_version``,
``delete_pipeline_version``; runs ``create_run``, ``get_run``, ``list_runs``,
``terminate_run``, ``archive_run``, ``unarchive_run``, ``delete_run``; recurring runs
``create_recurring_run``, ``get_recurring_run``, ``list_recurring_runs``,
``enable_recurring_run``, ``disable_recurring_run``,
``delete_recurring_run``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, TypeVar
from urllib.parse import quote, urlsplit

from af2kfp.bridge.kfp.auth import Auth, NoAuth
from af2kfp.bridge.kfp.errors import KfpConfigError, PipelineSourceError
from af2kfp.bridge.kfp.models import Experiment, Page, Pipeline, PipelineVersion, RecurringRun, Run
from af2kfp.bridge.kfp.protocol import (
    API_PREFIX,
    ApiRequest,
    Outcome,
    Send,
    Sleep,
    clean_params,
    decode_json,
    error_from_outcome,
    filter_json,
)
from af2kfp.bridge.kfp.retry import RetryPolicy, parse_retry_after

__all__ = ["KfpConfig", "KfpCore", "Action", "Op"]

log = logging.getLogger("af2kfp.bridge.kfp")

T = TypeVar("T")
Action = Send | Sleep
Op = Generator[Action, Any, T]
"""A core operation: yields actions, is resumed with an Outcome after each Send, returns T."""


@dataclass(frozen=True, kw_only=True)
class KfpConfig:
    """Where KFP is and how to talk to it.

    ``host`` is the API base URL (``http://127.0.0.1:8888``, or
    ``https://kubeflow.example.com/pipeline`` behind the Kubeflow gateway). ``verify`` is
    True, False (a warning is logged), or the path of a CA bundle. ``timeout`` is the read
    timeout of each request and ``connect_timeout`` the time to connect, both in seconds.
    ``namespace`` is the default profile namespace of multi-user KFP (each call may pass
    its own). ``ui_host`` is where run links point (defaults to ``host``).
    """

    host: str
    auth: Auth = field(default_factory=NoAuth)
    namespace: str | None = None
    verify: bool | str = True
    timeout: float = 30.0
    connect_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ui_host: str | None = None
    user_agent: str = "af2kfp-kfp-client/0.1"

    def __post_init__(self) -> None:
        parts = urlsplit(self.host)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise KfpConfigError(f"KFP host must be an http(s) URL, got {self.host!r}")
        if parts.username or parts.password:
            raise KfpConfigError("put KFP credentials in the auth settings, not in the host URL")
        if parts.query or parts.fragment:
            raise KfpConfigError(f"KFP host must not carry a query or fragment: {self.host!r}")
        object.__setattr__(self, "host", self.host.rstrip("/"))
        if isinstance(self.verify, str) and not Path(self.verify).is_file():
            raise KfpConfigError(f"CA bundle {self.verify} does not exist")
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise KfpConfigError("KFP timeouts must be positive")

    @property
    def ui_base(self) -> str:
        return (self.ui_host or self.host).rstrip("/")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _q(segment: str) -> str:
    """A path segment, percent-encoded (ids are UUIDs, names may be anything)."""
    return quote(str(segment), safe="")


class KfpCore:
    """The operations of KFP API v2beta1 as generators (see the module docstring)."""

    def __init__(self, config: KfpConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"KfpCore(host={self.config.host!r}, auth={self.config.auth!r})"

    def secrets(self) -> tuple[str, ...]:
        return self.config.auth.secrets()

    def _ns(self, namespace: str | None) -> str | None:
        return namespace if namespace is not None else self.config.namespace

    # -- one call, with retries ------------------------------------------------------

    def call(self, request: ApiRequest) -> Op[Any]:
        """Send ``request`` until it succeeds or must fail; returns the decoded JSON body.

        Resent with backoff: 5xx/429/connection errors when safe (see ``ApiRequest.idempotent``),
        and once at once after a 401 if the token file changed meanwhile. Other errors raise.
        """
        policy = self.config.retry
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            credentials = self.config.auth.headers()  # token files are re-read here, every attempt
            headers = {"Accept": "application/json", "User-Agent": self.config.user_agent, **credentials}
            if request.method != "GET" and request.files is None:  # as kfp.Client: every write is JSON
                headers["Content-Type"] = "application/json"
            outcome: Outcome = yield Send(
                request, self.config.host + request.path, headers, request.timeout or self.config.timeout
            )
            if outcome.ok:
                log.debug("KFP %s -> %s", request.label, outcome.status)
                return decode_json(request, outcome, self.secrets())
            if outcome.status == 401 and not refreshed and self.config.auth.headers() != credentials:
                # The token rotated while this request was in flight: one immediate resend.
                refreshed = True
                attempt -= 1
                log.info("KFP %s: 401 with a token that has since rotated; resending", request.label)
                continue
            error = error_from_outcome(request, outcome, self.secrets(), attempts=attempt)
            resendable = error.retriable and (
                request.idempotent or not outcome.reached_server or outcome.status == 429
            )
            if not resendable or not policy.can_retry(attempt):
                raise error
            retry_after = None
            if outcome.status in (429, 503):
                retry_after = parse_retry_after(outcome.header("retry-after"))
            delay = policy.delay(attempt, retry_after)
            reason = f"HTTP {outcome.status}" if outcome.status is not None else error.message
            log.warning(
                "KFP %s failed (%s); attempt %d of %d, retrying in %.2fs",
                request.label, reason, attempt, policy.max_attempts, delay,
            )
            yield Sleep(delay)

    def _get(self, path: str, **params: Any) -> Op[Any]:
        return (yield from self.call(ApiRequest("GET", API_PREFIX + path, clean_params(**params))))

    def _page(self, path: str, key: str, parse: Callable[[Any], T], **params: Any) -> Op[Page[T]]:
        body = yield from self._get(path, **params)
        size = body.get("total_size", body.get("totalSize"))
        return Page(
            items=tuple(parse(item) for item in body.get(key) or body.get(_camel(key)) or ()),
            next_page_token=body.get("next_page_token") or body.get("nextPageToken") or None,
            total_size=int(size) if size is not None else None,
        )

    # -- health ------------------------------------------------------------------------

    def healthz(self) -> Op[dict]:
        """``GET /apis/v2beta1/healthz``: ``{"multi_user": bool, ...}``; raises if KFP is unreachable."""
        return (yield from self._get("/healthz"))

    # -- experiments --------------------------------------------------------------------

    def create_experiment(
        self, display_name: str, *, namespace: str | None = None, description: str | None = None
    ) -> Op[Experiment]:
        body = {"display_name": display_name, "description": description, "namespace": self._ns(namespace)}
        request = ApiRequest(
            "POST", API_PREFIX + "/experiments",
            json={k: v for k, v in body.items() if v is not None}, idempotent=False,
        )
        return Experiment.from_json((yield from self.call(request)))

    def get_experiment(self, experiment_id: str) -> Op[Experiment]:
        return Experiment.from_json((yield from self._get(f"/experiments/{_q(experiment_id)}")))

    def list_experiments(
        self,
        *,
        namespace: str | None = None,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        sort_by: str | None = None,
    ) -> Op[Page[Experiment]]:
        return (yield from self._page(
            "/experiments", "experiments", Experiment.from_json,
            namespace=self._ns(namespace), filter=filter, page_size=page_size,
            page_token=page_token, sort_by=sort_by,
        ))

    def find_experiment(self, display_name: str, *, namespace: str | None = None) -> Op[Experiment | None]:
        """The experiment named ``display_name`` in the namespace, or None."""
        page = yield from self.list_experiments(
            namespace=namespace, filter=filter_json(display_name=display_name), page_size=10
        )
        matches = [e for e in page.items if e.display_name == display_name]
        return matches[0] if matches else None

    def delete_experiment(self, experiment_id: str) -> Op[None]:
        yield from self.call(ApiRequest("DELETE", f"{API_PREFIX}/experiments/{_q(experiment_id)}"))

    # -- pipelines ------------------------------------------------------------------------

    def create_pipeline(
        self, name: str, *, description: str | None = None, namespace: str | None = None
    ) -> Op[Pipeline]:
        """``POST /pipelines``: a pipeline with no version yet (``upload_pipeline_version`` adds them)."""
        body = {"name": name, "display_name": name, "description": description, "namespace": self._ns(namespace)}
        request = ApiRequest(
            "POST", API_PREFIX + "/pipelines",
            json={k: v for k, v in body.items() if v is not None}, idempotent=False,
        )
        return Pipeline.from_json((yield from self.call(request)))

    def upload_pipeline(
        self,
        package: str | Path | bytes,
        *,
        name: str,
        description: str | None = None,
        namespace: str | None = None,
        filename: str = "pipeline.yaml",
    ) -> Op[Pipeline]:
        """Upload a compiled package as a new pipeline (multipart, as ``kfp.Client.upload_pipeline``)."""
        files = _upload_files(package, filename)
        request = ApiRequest(
            "POST", API_PREFIX + "/pipelines/upload",
            clean_params(name=name, display_name=name, description=description, namespace=self._ns(namespace)),
            files=files, idempotent=False,
        )
        return Pipeline.from_json((yield from self.call(request)))

    def upload_pipeline_version(
        self,
        package: str | Path | bytes,
        *,
        pipeline_id: str,
        name: str,
        description: str | None = None,
        filename: str = "pipeline.yaml",
    ) -> Op[PipelineVersion]:
        """Upload a compiled package as a new version of ``pipeline_id``."""
        files = _upload_files(package, filename)
        request = ApiRequest(
            "POST", API_PREFIX + "/pipelines/upload_version",
            clean_params(name=name, display_name=name, pipelineid=pipeline_id, description=description),
            files=files, idempotent=False,
        )
        return PipelineVersion.from_json((yield from self.call(request)))

    def get_pipeline(self, pipeline_id: str) -> Op[Pipeline]:
        return Pipeline.from_json((yield from self._get(f"/pipelines/{_q(pipeline_id)}")))

    def list_pipelines(
        self,
        *,
        namespace: str | None = None,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        sort_by: str | None = None,
    ) -> Op[Page[Pipeline]]:
        return (yield from self._page(
            "/pipelines", "pipelines", Pipeline.from_json,
            namespace=self._ns(namespace), filter=filter, page_size=page_size,
            page_token=page_token, sort_by=sort_by,
        ))

    def find_pipeline(self, display_name: str, *, namespace: str | None = None) -> Op[Pipeline | None]:
        """The pipeline named ``display_name`` (as ``kfp.Client.get_pipeline_id`` finds it), or None."""
        page = yield from self.list_pipelines(
            namespace=namespace, filter=filter_json(display_name=display_name), page_size=10
        )
        matches = [p for p in page.items if display_name in (p.display_name, p.name)]
        return matches[0] if matches else None

    def delete_pipeline(self, pipeline_id: str) -> Op[None]:
        yield from self.call(ApiRequest("DELETE", f"{API_PREFIX}/pipelines/{_q(pipeline_id)}"))

    def get_pipeline_version(self, pipeline_id: str, pipeline_version_id: str) -> Op[PipelineVersion]:
        path = f"/pipelines/{_q(pipeline_id)}/versions/{_q(pipeline_version_id)}"
        return PipelineVersion.from_json((yield from self._get(path)))

    def list_pipeline_versions(
        self,
        pipeline_id: str,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        sort_by: str | None = None,
    ) -> Op[Page[PipelineVersion]]:
        return (yield from self._page(
            f"/pipelines/{_q(pipeline_id)}/versions", "pipeline_versions", PipelineVersion.from_json,
            filter=filter, page_size=page_size, page_token=page_token, sort_by=sort_by,
        ))

    def find_pipeline_version(self, pipeline_id: str, display_name: str) -> Op[PipelineVersion | None]:
        page = yield from self.list_pipeline_versions(
            pipeline_id, filter=filter_json(display_name=display_name), page_size=10
        )
        matches = [v for v in page.items if display_name in (v.display_name, v.name)]
        return matches[0] if matches else None

    def latest_pipeline_version(self, pipeline_id: str) -> Op[PipelineVersion | None]:
        """The most recently created version of ``pipeline_id`` (what the KFP UI runs by default)."""
        page = yield from self.list_pipeline_versions(pipeline_id, sort_by="created_at desc", page_size=50)
        versions = sorted(page.items, key=lambda v: v.created_at or "", reverse=True)
        return versions[0] if versions else None

    def delete_pipeline_version(self, pipeline_id: str, pipeline_version_id: str) -> Op[None]:
        path = f"{API_PREFIX}/pipelines/{_q(pipeline_id)}/versions/{_q(pipeline_version_id)}"
        yield from self.call(ApiRequest("DELETE", path))

    # -- runs -------------------------------------------------------------------------------

    def create_run(self, body: dict[str, Any]) -> Op[Run]:
        """``POST /runs`` with a ``V2beta1Run`` body; never resent once it may have reached KFP.

        Use :func:`af2kfp.bridge.kfp.runs.submit_run` for a retry-safe submission.
        """
        request = ApiRequest("POST", API_PREFIX + "/runs", json=body, idempotent=False)
        return Run.from_json((yield from self.call(request)))

    def get_run(self, run_id: str) -> Op[Run]:
        return Run.from_json((yield from self._get(f"/runs/{_q(run_id)}")))

    def list_runs(
        self,
        *,
        experiment_id: str | None = None,
        namespace: str | None = None,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        sort_by: str | None = None,
    ) -> Op[Page[Run]]:
        """Runs of an experiment, or of a namespace when no experiment is given (as ``kfp.Client``)."""
        scope = {"experiment_id": experiment_id} if experiment_id else {"namespace": self._ns(namespace)}
        return (yield from self._page(
            "/runs", "runs", Run.from_json,
            **scope, filter=filter, page_size=page_size, page_token=page_token, sort_by=sort_by,
        ))

    def _run_action(self, run_id: str, action: str) -> Op[None]:
        yield from self.call(ApiRequest("POST", f"{API_PREFIX}/runs/{_q(run_id)}:{action}"))

    def terminate_run(self, run_id: str) -> Op[None]:
        """Ask KFP to stop the run (it moves to CANCELING, then CANCELED)."""
        yield from self._run_action(run_id, "terminate")

    def archive_run(self, run_id: str) -> Op[None]:
        yield from self._run_action(run_id, "archive")

    def unarchive_run(self, run_id: str) -> Op[None]:
        yield from self._run_action(run_id, "unarchive")

    def delete_run(self, run_id: str) -> Op[None]:
        yield from self.call(ApiRequest("DELETE", f"{API_PREFIX}/runs/{_q(run_id)}"))

    # -- recurring runs -------------------------------------------------------------------

    def create_recurring_run(self, body: dict[str, Any]) -> Op[RecurringRun]:
        """``POST /recurringruns`` with a ``V2beta1RecurringRun`` body; never resent once it may
        have reached KFP. Use :func:`af2kfp.bridge.kfp.recurring.submit_recurring_run` for a
        retry-safe creation."""
        request = ApiRequest("POST", API_PREFIX + "/recurringruns", json=body, idempotent=False)
        return RecurringRun.from_json((yield from self.call(request)))

    def get_recurring_run(self, recurring_run_id: str) -> Op[RecurringRun]:
        return RecurringRun.from_json((yield from self._get(f"/recurringruns/{_q(recurring_run_id)}")))

    def list_recurring_runs(
        self,
        *,
        experiment_id: str | None = None,
        namespace: str | None = None,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        sort_by: str | None = None,
    ) -> Op[Page[RecurringRun]]:
        """Recurring runs of an experiment, or of a namespace when no experiment is given."""
        scope = {"experiment_id": experiment_id} if experiment_id else {"namespace": self._ns(namespace)}
        return (yield from self._page(
            "/recurringruns", "recurring_runs", RecurringRun.from_json,
            **scope, filter=filter, page_size=page_size, page_token=page_token, sort_by=sort_by,
        ))

    def _recurring_action(self, recurring_run_id: str, action: str) -> Op[None]:
        yield from self.call(ApiRequest("POST", f"{API_PREFIX}/recurringruns/{_q(recurring_run_id)}:{action}"))

    def enable_recurring_run(self, recurring_run_id: str) -> Op[None]:
        """Let it trigger runs again (with catch-up, the ticks missed meanwhile are backfilled)."""
        yield from self._recurring_action(recurring_run_id, "enable")

    def disable_recurring_run(self, recurring_run_id: str) -> Op[None]:
        """Stop it triggering runs; runs it started go on."""
        yield from self._recurring_action(recurring_run_id, "disable")

    def delete_recurring_run(self, recurring_run_id: str) -> Op[None]:
        """Delete it; the runs it started stay."""
        yield from self.call(ApiRequest("DELETE", f"{API_PREFIX}/recurringruns/{_q(recurring_run_id)}"))


def _upload_files(package: str | Path | bytes, filename: str) -> dict[str, tuple[str, bytes, str]]:
    """The multipart ``uploadfile`` part, read from a path or given as bytes."""
    if isinstance(package, bytes):
        data = package
    else:
        path = Path(package)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PipelineSourceError(f"cannot read pipeline package {path}: {exc.strerror or exc}") from None
        filename = path.name
    return {"uploadfile": (filename, data, "application/octet-stream")}
