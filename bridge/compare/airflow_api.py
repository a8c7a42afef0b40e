"""Read an Airflow DAG run and its task instances through Airflow's stable REST API.

Airflow 3 serves ``/api/v2`` and wants a JWT: with a user and password it is asked from
``POST /auth/token`` (the simple auth manager and FAB both answer there); without
credentials ``GET /auth/token`` gives one when ``[core] simple_auth_manager_all_admins``
is on. Airflow 2 serves ``/api/v1`` with basic auth. Which API is there is found by
asking ``/api/v2/version`` first, then ``/api/v1/version`` (both need no login). A token
given by the caller is sent as a bearer token to either. Passwords and tokens never
appear in messages.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import quote, urlsplit

import httpx

from af2kfp.bridge.compare.model import Outcome, RunRecord, TaskRun, fold_instances, parse_time
from af2kfp.converters.errors import Af2KfpError, InputError

__all__ = [
    "AirflowSettings",
    "AirflowApiError",
    "AirflowNotFoundError",
    "AirflowAuthError",
    "fetch_airflow_run",
    "airflow_outcome",
    "latest_xcom",
]

log = logging.getLogger(__name__)

_OUTCOMES: dict[str, Outcome] = {
    "success": "success",
    "failed": "failed",
    "skipped": "skipped",
    # Never ran because something upstream failed: KFP simply never starts such a task.
    "upstream_failed": "not_run",
    "removed": "not_run",
    "none": "not_run",
    "": "not_run",
    "queued": "running",
    "scheduled": "running",
    "running": "running",
    "deferred": "running",
    "up_for_retry": "running",
    "up_for_reschedule": "running",
    "restarting": "running",
}


class AirflowApiError(Af2KfpError):
    """Airflow's API refused or failed a request; the message says which and why."""


class AirflowNotFoundError(AirflowApiError, InputError):
    """The DAG or DAG run does not exist (exit code 2 on the command line)."""


class AirflowAuthError(AirflowApiError, InputError):
    """Airflow refused the login or the credentials (exit code 2 on the command line)."""


@dataclass(frozen=True, kw_only=True)
class AirflowSettings:
    """Where Airflow is and how to log in (``token`` or ``username``/``password``, or neither)."""

    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    verify: bool | str = True
    timeout: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(f"Airflow URL must be an http(s) URL, got {self.url!r}")
        if parts.username or parts.password:
            raise InputError(
                "give Airflow credentials with --airflow-user/--airflow-password, not in the URL"
            )
        if self.token and (self.username or self.password):
            raise InputError("give an Airflow token or a user and password, not both")
        if bool(self.username) != bool(self.password):
            raise InputError("an Airflow user needs a password, and a password a user")
        object.__setattr__(self, "url", self.url.rstrip("/"))

    def __repr__(self) -> str:
        return f"AirflowSettings(url={self.url!r}, username={self.username!r})"


def airflow_outcome(state: object) -> Outcome:
    """The outcome of an Airflow task instance or DAG run state (None: never ran)."""
    return _OUTCOMES.get(str(state or "").lower(), "running")


class _Api:
    """One logged-in conversation with Airflow's REST API."""

    def __init__(self, settings: AirflowSettings, http: httpx.Client) -> None:
        self.settings = settings
        self.http = http
        self.prefix = "/api/v2"
        self.headers: dict[str, str] = {}
        self.auth: tuple[str, str] | None = None
        self.version = "?"

    def _secrets(self) -> list[str]:
        return [
            s for s in (self.settings.password, self.settings.token, self.headers.get("Authorization")) if s
        ]

    def _clean(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.settings.url + path
        try:
            return self.http.request(method, url, timeout=self.settings.timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise AirflowApiError(
                f"Airflow API {method} {url}: {self._clean(str(exc) or type(exc).__name__)}"
            ) from None

    def connect(self) -> None:
        """Find the API version and log in."""
        for prefix in ("/api/v2", "/api/v1"):
            response = self._request("GET", f"{prefix}/version")
            if response.status_code == 200:
                self.prefix = prefix
                self.version = str(_json(response).get("version", "?"))
                break
        else:
            raise AirflowApiError(
                f"{self.settings.url} does not look like Airflow: neither /api/v2/version nor /api/v1/version answered"
            )
        if self.settings.token:
            self.headers = {"Authorization": f"Bearer {self.settings.token}"}
        elif self.prefix == "/api/v1":
            if self.settings.username:
                self.auth = (self.settings.username, self.settings.password or "")
        elif self.settings.username:
            response = self._request(
                "POST",
                "/auth/token",
                json={"username": self.settings.username, "password": self.settings.password},
            )
            if response.status_code not in (200, 201):
                raise AirflowAuthError(
                    f"Airflow login as {self.settings.username!r} failed (HTTP {response.status_code}): {self._detail(response)}"
                )
            self.headers = {"Authorization": f"Bearer {_json(response)['access_token']}"}
        else:
            response = self._request("GET", "/auth/token")
            if response.status_code in (200, 201):  # simple auth manager with all_admins on
                self.headers = {"Authorization": f"Bearer {_json(response)['access_token']}"}
        log.info("Airflow %s at %s (%s)", self.version, self.settings.url, self.prefix)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self._request(
            "GET", self.prefix + path, params=params, headers=self.headers, auth=self.auth
        )
        if response.status_code == 200:
            return _json(response)
        where = f"Airflow API GET {self.prefix}{path}"
        if response.status_code == 404:
            raise AirflowNotFoundError(f"{where}: not found: {self._detail(response)}")
        if response.status_code in (401, 403):
            raise AirflowAuthError(
                f"{where}: HTTP {response.status_code}, credentials refused or missing "
                "(give --airflow-user/--airflow-password or --airflow-token)"
            )
        raise AirflowApiError(f"{where}: HTTP {response.status_code}: {self._detail(response)}")

    def pages(self, path: str, key: str, page_size: int) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            # A unique sort key keeps offset paging exact (v2's default, map_index, ties across tasks).
            order = {"order_by": "id"} if self.prefix == "/api/v2" else {}
            page = self.get(path, limit=page_size, offset=offset, **order)
            items = page.get(key) or []
            yield from items
            offset += len(items)
            total = page.get("total_entries")
            if not items or (isinstance(total, int) and offset >= total):
                return

    def _detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return self._clean(response.text[:200].strip() or response.reason_phrase)
        detail = body.get("detail", body) if isinstance(body, dict) else body
        return self._clean(str(detail)[:300])


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise AirflowApiError(f"Airflow API {response.request.url.path}: answer is not JSON") from None
    if not isinstance(body, dict):
        raise AirflowApiError(f"Airflow API {response.request.url.path}: unexpected answer {str(body)[:100]}")
    return body


def _task(item: dict[str, Any]) -> TaskRun:
    state = item.get("state")
    return TaskRun(
        name=str(item.get("task_id")),
        state=str(state or "none"),
        outcome=airflow_outcome(state),
        start=parse_time(item.get("start_date")),
        end=parse_time(item.get("end_date")),
        attempts=item.get("try_number") if isinstance(item.get("try_number"), int) else None,
    )


def fetch_airflow_run(
    settings: AirflowSettings,
    dag_id: str,
    dag_run_id: str,
    *,
    http: httpx.Client | None = None,
    page_size: int = 100,
) -> RunRecord:
    """The DAG run ``dag_run_id`` of ``dag_id`` with its task instances (mapped ones folded per task).

    Task instances are read ``page_size`` at a time (Airflow caps a page at
    ``[api] maximum_page_limit``, 100 by default).
    """
    client = http or httpx.Client(verify=settings.verify, follow_redirects=False)
    try:
        api = _Api(settings, client)
        api.connect()
        base = f"/dags/{quote(dag_id, safe='')}/dagRuns/{quote(dag_run_id, safe='')}"
        run = api.get(base)
        instances: dict[str, list[TaskRun]] = defaultdict(list)
        for item in api.pages(f"{base}/taskInstances", "task_instances", page_size):
            instances[str(item.get("task_id"))].append(_task(item))
    finally:
        if http is None:
            client.close()
    state = run.get("state")
    dag, run_id = quote(dag_id, safe=""), quote(dag_run_id, safe="")
    ui = f"/dags/{dag}/runs/{run_id}" if api.prefix == "/api/v2" else f"/dags/{dag}/grid?dag_run_id={run_id}"
    return RunRecord(
        system="airflow",
        run_id=dag_run_id,
        state=str(state or "none"),
        outcome=airflow_outcome(state),
        start=parse_time(run.get("start_date")),
        end=parse_time(run.get("end_date")),
        url=settings.url + ui,
        tasks=tuple(fold_instances(name, runs) for name, runs in instances.items()),
    )


def latest_xcom(
    settings: AirflowSettings,
    dag_id: str,
    task_id: str,
    key: str,
    *,
    http: httpx.Client | None = None,
    look_back: int = 5,
) -> tuple[str, Any] | None:
    """The XCom ``key`` of ``task_id`` in the newest finished run of ``dag_id`` that has it
    (among the last ``look_back``): ``(dag_run_id, value)``, or None. Airflow 3 only."""
    client = http or httpx.Client(verify=settings.verify, follow_redirects=False)
    try:
        api = _Api(settings, client)
        api.connect()
        if api.prefix != "/api/v2":
            raise AirflowApiError(f"{settings.url}: reading a shadow comparison needs Airflow 3 (/api/v2)")
        dag = quote(dag_id, safe="")
        runs = api.get(f"/dags/{dag}/dagRuns", order_by="-run_after", limit=look_back, state=["success", "failed"])
        for run in runs.get("dag_runs") or ():
            run_id = str(run.get("dag_run_id"))
            path = f"/dags/{dag}/dagRuns/{quote(run_id, safe='')}/taskInstances/{quote(task_id, safe='')}/xcomEntries/{quote(key, safe='')}"
            try:
                entry = api.get(path)
            except AirflowNotFoundError:
                continue
            return run_id, entry.get("value")
        return None
    finally:
        if http is None:
            client.close()
