"""Python face of the server's ``/af2kfp/v1`` control API (for tests and users).

Scripting a fate, injecting faults and reading request counts are plain
HTTP calls, so they work the same against an in-process server, a
subprocess, or ``af2kfp kfp-server`` started by hand.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import httpx

from af2kfp.bridge.kfp_server.fates import Fate

__all__ = ["KfpServerControl", "ControlError"]

_PREFIX = "/af2kfp/v1"


class ControlError(RuntimeError):
    """The server refused a control call; the message is the server's."""


def _fate(fate: str | Fate | Mapping[str, Any]) -> Any:
    return fate.to_json() if isinstance(fate, Fate) else fate


class KfpServerControl:
    """Script runs and inject faults on a running ``af2kfp kfp-server``."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        token: str | None = None,
        cookie: str | None = None,
        verify: bool = True,
    ) -> None:
        """``token`` / ``cookie`` (``NAME=VALUE``): the server's credentials, when it has any
        (the control API requires them like the KFP API)."""
        self.url = url.rstrip("/")
        headers = {"Content-Type": "application/json"}  # the server refuses writes without it
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if cookie:
            headers["Cookie"] = cookie
        self._http = httpx.Client(base_url=self.url + _PREFIX, timeout=timeout, headers=headers, verify=verify)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self._http.request(method, path, content=None if body is None else json.dumps(body))
        if answer.status_code >= 400:
            raise ControlError(
                f"{method} {_PREFIX}{path}: HTTP {answer.status_code}: {answer.json().get('message')}"
            )
        return answer.json()

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Read, or change, server-wide defaults: ``default_fate``, ``run_seconds``,
        ``pending_seconds``, ``cancel_seconds``, and the credentials the server requires,
        ``bearer_token`` and ``session_cookie`` (shown as ``***``; they can be rotated, not
        removed). ``execute`` and ``run_fates`` are shown, fixed at start."""
        if not changes:
            return self._call("GET", "/settings")
        answer = self._call("PATCH", "/settings", changes)
        if changes.get("bearer_token"):  # rotated: this client goes on with the new one
            self._http.headers["Authorization"] = f"Bearer {changes['bearer_token']}"
        if changes.get("session_cookie"):
            self._http.headers["Cookie"] = str(changes["session_cookie"])
        return answer

    def script_next(self, fate: str | Fate | Mapping[str, Any], *, count: int = 1) -> dict[str, Any]:
        """The next ``count`` new runs (without a more specific script) get ``fate``."""
        return self._call("POST", "/scripts", {"fate": _fate(fate), "count": count})

    def script_name(
        self, display_name: str, fate: str | Fate | Mapping[str, Any], *, count: int | None = None
    ) -> dict[str, Any]:
        """New runs with this display name get ``fate`` (every one, or the next ``count``)."""
        return self._call(
            "POST", "/scripts", {"fate": _fate(fate), "display_name": display_name, "count": count}
        )

    def script_run(self, run_id: str, fate: str | Fate | Mapping[str, Any]) -> dict[str, Any]:
        """Give an existing run a new fate; its RUNNING phase restarts now."""
        return self._call("POST", f"/runs/{run_id}/fate", {"fate": _fate(fate)})

    def scripts(self) -> list[dict[str, Any]]:
        return self._call("GET", "/scripts")["scripts"]

    def clear_scripts(self) -> None:
        self._call("DELETE", "/scripts")

    def fault(
        self,
        kind: str,
        *,
        count: int = 1,
        path: str = "/apis/*",
        method: str = "*",
        status: int = 503,
        delay: float = 0.0,
        after: bool = False,
    ) -> dict[str, Any]:
        """Inject ``count`` faults into requests whose path matches the glob
        ``path``: ``status`` (an error answer), ``drop`` (close without an
        answer) or ``delay`` (answer after ``delay`` seconds). ``after=True``
        serves the request first, then the fault hits its answer: a create
        that was applied although the client saw it fail."""
        body = {"kind": kind, "count": count, "path": path, "method": method, "status": status, "delay": delay}
        return self._call("POST", "/faults", {**body, "after": after})

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def stats(self) -> dict[str, int]:
        """KFP API requests served since the start (or the last reset), by
        ``"METHOD route"``, plus ``"fault KIND"`` counts; control calls are not counted."""
        return self._call("GET", "/stats")["requests"]

    def reset_stats(self) -> None:
        self._call("DELETE", "/stats")

    def reset(self) -> None:
        """Drop every script, fault and count (stored resources stay)."""
        self._call("POST", "/reset")

    def outputs(self, run_id: str) -> dict[str, Any]:
        """Parameter outputs of a run executed with ``kfp.local``."""
        return self._call("GET", f"/runs/{run_id}/outputs")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "KfpServerControl":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
