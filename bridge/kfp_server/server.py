"""HTTP front of the local KFP server: request checks, credentials, routing,
multipart upload, injected faults, request counting, the ``/af2kfp/v1``
control API (only with ``control=True``), a page at ``/`` listing runs, and
the scheduler of recurring runs while it serves.

Standard library only (``ThreadingHTTPServer``, HTTP/1.1 keep-alive): one
thread per connection, all state in :class:`~af2kfp.bridge.kfp_server.store.Store`.
Every request passes :mod:`~af2kfp.bridge.kfp_server.guard` (Host, Origin, body
size, Content-Type of writes) and, when credentials are set, carries them;
the control API too.
"""

from __future__ import annotations

import collections
import email.parser
import email.policy
import fnmatch
import json
import logging
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from af2kfp.bridge.kfp_server import guard, page
from af2kfp.bridge.kfp_server.api import KfpApi
from af2kfp.bridge.kfp_server.errors import ApiError, error_body
from af2kfp.bridge.kfp_server.scheduler import DEFAULT_TICK, Scheduler

__all__ = ["KfpHttpServer", "FAULT_KINDS", "CONTROL_PREFIX", "omit_unpopulated"]

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/af2kfp/v1"
FAULT_KINDS = ("status", "drop", "delay")
_V2 = "/apis/v2beta1"
_UPLOADS = ("upload_pipeline", "upload_pipeline_version")
_ID = r"(?P<{}>[^/:]+)"


def _route(method: str, pattern: str, action: str) -> tuple[str, re.Pattern[str], str, str]:
    """A route; ``pattern`` (with ``{name}`` placeholders) is also its name in the stats."""
    regex = re.sub(
        r"\{(\w+)\}",
        lambda m: _ID.format(m.group(1)),
        re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}"),
    )
    return method, re.compile("^" + regex + "$"), action, pattern


_ROUTES = [
    _route("GET", "/", "page"),
    _route("GET", _V2 + "/healthz", "healthz"),
    _route("POST", _V2 + "/pipelines/upload", "upload_pipeline"),
    _route("POST", _V2 + "/pipelines/upload_version", "upload_pipeline_version"),
    _route("POST", _V2 + "/pipelines/create", "create_pipeline_and_version"),
    _route("GET", _V2 + "/pipelines/names/{name}", "get_pipeline_by_name"),
    _route("POST", _V2 + "/pipelines", "create_pipeline"),
    _route("GET", _V2 + "/pipelines", "list_pipelines"),
    _route("GET", _V2 + "/pipelines/{pipeline_id}", "get_pipeline"),
    _route("DELETE", _V2 + "/pipelines/{pipeline_id}", "delete_pipeline"),
    _route("POST", _V2 + "/pipelines/{pipeline_id}/versions", "create_pipeline_version"),
    _route("GET", _V2 + "/pipelines/{pipeline_id}/versions", "list_pipeline_versions"),
    _route("GET", _V2 + "/pipelines/{pipeline_id}/versions/{version_id}", "get_pipeline_version"),
    _route("DELETE", _V2 + "/pipelines/{pipeline_id}/versions/{version_id}", "delete_pipeline_version"),
    _route("POST", _V2 + "/experiments", "create_experiment"),
    _route("GET", _V2 + "/experiments", "list_experiments"),
    _route("GET", _V2 + "/experiments/{experiment_id}", "get_experiment"),
    _route("DELETE", _V2 + "/experiments/{experiment_id}", "delete_experiment"),
    _route("POST", _V2 + "/experiments/{experiment_id}:archive", "archive_experiment"),
    _route("POST", _V2 + "/experiments/{experiment_id}:unarchive", "unarchive_experiment"),
    _route("POST", _V2 + "/runs", "create_run"),
    _route("GET", _V2 + "/runs", "list_runs"),
    _route("GET", _V2 + "/runs/{run_id}", "get_run"),
    _route("DELETE", _V2 + "/runs/{run_id}", "delete_run"),
    _route("POST", _V2 + "/runs/{run_id}:terminate", "terminate_run"),
    _route("POST", _V2 + "/runs/{run_id}:retry", "retry_run"),
    _route("POST", _V2 + "/runs/{run_id}:archive", "archive_run"),
    _route("POST", _V2 + "/runs/{run_id}:unarchive", "unarchive_run"),
    _route("POST", _V2 + "/recurringruns", "recurring.create"),
    _route("GET", _V2 + "/recurringruns", "recurring.list"),
    _route("GET", _V2 + "/recurringruns/{recurring_run_id}", "recurring.get"),
    _route("DELETE", _V2 + "/recurringruns/{recurring_run_id}", "recurring.delete"),
    _route("POST", _V2 + "/recurringruns/{recurring_run_id}:enable", "recurring.enable"),
    _route("POST", _V2 + "/recurringruns/{recurring_run_id}:disable", "recurring.disable"),
    _route("GET", CONTROL_PREFIX + "/settings", "c_get_settings"),
    _route("PATCH", CONTROL_PREFIX + "/settings", "c_update_settings"),
    _route("POST", CONTROL_PREFIX + "/settings", "c_update_settings"),
    _route("GET", CONTROL_PREFIX + "/scripts", "c_list_scripts"),
    _route("POST", CONTROL_PREFIX + "/scripts", "c_add_script"),
    _route("DELETE", CONTROL_PREFIX + "/scripts", "c_clear_scripts"),
    _route("POST", CONTROL_PREFIX + "/runs/{run_id}/fate", "c_rescript_run"),
    _route("GET", CONTROL_PREFIX + "/runs/{run_id}/outputs", "c_run_outputs"),
    _route("GET", CONTROL_PREFIX + "/faults", "c_list_faults"),
    _route("POST", CONTROL_PREFIX + "/faults", "c_add_fault"),
    _route("DELETE", CONTROL_PREFIX + "/faults", "c_clear_faults"),
    _route("GET", CONTROL_PREFIX + "/stats", "c_stats"),
    _route("DELETE", CONTROL_PREFIX + "/stats", "c_reset_stats"),
    _route("POST", CONTROL_PREFIX + "/reset", "c_reset"),
]


class _Drop(Exception):
    """Close the connection without an answer (an injected fault)."""


class KfpHttpServer(ThreadingHTTPServer):
    """The listening server; ``api`` does the work, this class adds faults and counts."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        api: KfpApi,
        *,
        tls: ssl.SSLContext | None = None,
        control: bool = False,
        allow_hosts: tuple[str, ...] = (),
        max_body: int = guard.MAX_BODY_BYTES,
        schedule_tick: float | None = DEFAULT_TICK,
    ) -> None:
        self.api = api
        self.scheduler = Scheduler(api, schedule_tick) if schedule_tick else None
        self.tls = tls
        self.control = control
        self.max_body = max_body
        self._stats: collections.Counter[str] = collections.Counter()
        self._stats_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.hosts = guard.allowed_hosts(address[0], allow_hosts)
        self.wildcard = address[0] in ("0.0.0.0", "::", "")

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Answer requests, and start recurring runs' runs on time (unless ``schedule_tick`` was 0)."""
        if self.scheduler is not None:
            self.scheduler.start()
        super().serve_forever(poll_interval)

    def server_close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        super().server_close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        """With TLS, shake hands in the connection's own thread (a slow or plain-HTTP
        client never holds up the accepting loop)."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            secured = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            super().finish_request(secured, client_address)
        finally:
            secured.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is not a server error worth a traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            log.debug("connection from %s ended: %s", client_address, sys.exc_info()[1])
            return
        super().handle_error(request, client_address)

    def count(self, key: str) -> None:
        with self._stats_lock:
            self._stats[key] += 1

    def stats(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(sorted(self._stats.items()))

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._stats.clear()

    # -- faults ----------------------------------------------------------------------------

    def add_fault(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "a fault must be a JSON object")
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise ApiError(400, f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        count, status, delay = body.get("count", 1), body.get("status", 503), body.get("delay", 0)
        if not isinstance(count, int) or count < 1:
            raise ApiError(400, "count must be a positive integer")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ApiError(400, "status must be an HTTP error code (400-599)")
        if not isinstance(delay, (int, float)) or delay < 0 or (kind == "delay" and delay == 0):
            raise ApiError(400, "delay must be seconds > 0 for a 'delay' fault")
        after = body.get("after", False)
        if not isinstance(after, bool):
            raise ApiError(400, "after must be true (the request is served, then the fault hits its answer) or false")
        row = {
            "kind": kind,
            "status": status,
            "delay": float(delay),
            "path": str(body.get("path", "*")),
            "method": str(body.get("method", "*")).upper(),
            "remaining": count,
            "after": after,
        }
        with self.api.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO faults (kind, status, delay, path, method, remaining, after) "
                "VALUES (:kind, :status, :delay, :path, :method, :remaining, :after)",
                row,
            )
        return {"id": cursor.lastrowid, **row}

    def take_fault(self, method: str, path: str) -> dict[str, Any] | None:
        """Consume one matching fault (first added first), if any."""
        if self.api.store.one("SELECT 1 FROM faults LIMIT 1") is None:  # the usual case: no write lock
            return None
        with self.api.store.transaction() as db:
            for row in db.execute("SELECT * FROM faults ORDER BY id").fetchall():
                if row["method"] in ("*", method) and fnmatch.fnmatchcase(path, row["path"]):
                    if row["remaining"] <= 1:
                        db.execute("DELETE FROM faults WHERE id = ?", (row["id"],))
                    else:
                        db.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
                    return dict(row)
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: KfpHttpServer
    server_version = "af2kfp-kfp-server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")

    # -- plumbing --------------------------------------------------------------------------

    def _send(self, status: int, payload: Any) -> None:
        self._answer(status, json.dumps(payload).encode(), "application/json")

    def _answer(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        if content_type.startswith("text/html"):
            self.send_header("Content-Security-Policy", page.CONTENT_SECURITY_POLICY)
            self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, exc: ApiError) -> None:
        """Answer an error before the body was read: the connection cannot be reused."""
        self.close_connection = True
        self.send_response(exc.status)
        data = json.dumps(error_body(exc.status, exc.message, exc.grpc_code)).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method: str) -> None:
        split = urllib.parse.urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        server = self.server
        try:  # who may ask at all: before reading a byte of the body
            guard.check_host(self.headers, server.hosts, server.server_address[1], wildcard=server.wildcard)
            guard.check_origin(self.headers, server.hosts, server.server_address[1], wildcard=server.wildcard)
            body = guard.read_body(self.headers, self.rfile, server.max_body)
        except ApiError as exc:
            server.count("request refused")
            self._refuse(exc)
            return
        except (ValueError, OSError):
            self.close_connection = True
            return
        match = None
        for route_method, regex, action, label in _ROUTES:
            found = regex.match(path)
            if found and route_method == method:
                match = (action, label, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()})
                break
        control = path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
        if not control:
            server.count(f"{method} {match[1] if match else path}")
        try:
            if control and not server.control:
                raise ApiError(
                    404, f"Not Found: the control API {CONTROL_PREFIX} is off (start the server with --control)"
                )
            fault = None if control else server.take_fault(method, path)
            if fault is not None and not fault["after"]:
                self._apply(fault)
            self._authenticate()
            if match is None:
                known = any(regex.match(path) for _, regex, _, _ in _ROUTES)
                if known:
                    raise ApiError(405, f"Method {method} is not allowed on {path}", grpc_code=12)
                raise ApiError(404, f"Not Found: {path} is not served by af2kfp kfp-server (KFP API v2beta1)")
            action, _, params = match
            guard.check_content_type(method, self.headers, upload=action in _UPLOADS)
            if action == "page":
                self._answer(200, page.render(server.api).encode(), "text/html; charset=utf-8")
                return
            answer = getattr(self, "_a_" + action, None)
            result = answer(query, body, **params) if answer else self._call_api(action, query, body, params)
            if fault is not None and fault["after"]:  # done, but the answer is lost, late or an error
                self._apply(fault)
            self._send(200, result if control or action == "healthz" else omit_unpopulated(result))
        except _Drop:
            self._drop()
        except ApiError as exc:
            self._send(exc.status, error_body(exc.status, exc.message, exc.grpc_code))
        except (ConnectionError, TimeoutError) as exc:  # the client left before its answer
            log.debug("%s %s: the client left: %s", method, path, exc)
            self.close_connection = True
        except Exception as exc:  # an answer beats a silently dead connection
            log.exception("af2kfp kfp-server: %s %s failed", method, path)
            self._send(500, error_body(500, f"Internal error: {type(exc).__name__}: {exc}"))

    def _apply(self, fault: dict[str, Any]) -> None:
        self.server.count(f"fault {fault['kind']}")
        if fault["kind"] == "drop":
            raise _Drop()
        if fault["kind"] == "delay":
            time.sleep(fault["delay"])
            return
        status = fault["status"]
        raise ApiError(status, f"af2kfp kfp-server: injected fault: HTTP {status}")

    def _authenticate(self) -> None:
        """When credentials are set, every request (the control API too) must carry one."""
        settings = self.server.api.settings
        if settings.bearer_token is None and settings.session_cookie is None:
            return
        if self.server.api.checker.allows(self.headers, settings.bearer_token, settings.session_cookie):
            return
        self.server.count("auth rejected")
        raise ApiError(
            401, "Unauthenticated: this server requires credentials (bearer token or session cookie)"
        )

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _call_api(self, action: str, query: dict[str, str], raw: bytes, params: dict[str, str]) -> Any:
        handler: Any = self.server.api
        for name in action.split("."):  # "recurring.create": api.recurring.create
            handler = getattr(handler, name)
        if action.rpartition(".")[2].startswith("create"):
            return handler(*params.values(), query, _json(raw))
        return handler(*params.values(), query)

    # -- answers needing more than the API object ------------------------------------------

    def _a_healthz(self, query: dict[str, str], raw: bytes) -> Any:
        # the fields a KFP 2.x API server writes (by hand, so never trimmed)
        return {
            "commit_sha": "unknown",
            "tag_name": "af2kfp-kfp-server",
            "multi_user": False,
            "pipeline_store": "database",
        }

    def _a_upload_pipeline(self, query: dict[str, str], raw: bytes) -> Any:
        filename, data = self._upload(raw)
        return self.server.api.upload_pipeline(query, filename, data)

    def _a_upload_pipeline_version(self, query: dict[str, str], raw: bytes) -> Any:
        filename, data = self._upload(raw)
        return self.server.api.upload_pipeline_version(query, filename, data)

    def _upload(self, raw: bytes) -> tuple[str, bytes]:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            raise ApiError(
                400, "Invalid input error: an upload must be multipart/form-data with an 'uploadfile' part"
            )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "uploadfile":
                return part.get_filename() or "pipeline.yaml", part.get_payload(decode=True) or b""
        raise ApiError(400, "Invalid input error: no 'uploadfile' part in the multipart upload")

    def _a_c_get_settings(self, query: dict[str, str], raw: bytes) -> Any:
        return self.server.api.public_settings()

    def _a_c_update_settings(self, query: dict[str, str], raw: bytes) -> Any:
        body = _json(raw)
        if not isinstance(body, dict):
            raise ApiError(400, "settings must be a JSON object")
        return self.server.api.update_settings(body)

    def _a_c_list_scripts(self, query: dict[str, str], raw: bytes) -> Any:
        return {"scripts": self.server.api.list_scripts()}

    def _a_c_add_script(self, query: dict[str, str], raw: bytes) -> Any:
        return self.server.api.add_script(_json(raw))

    def _a_c_clear_scripts(self, query: dict[str, str], raw: bytes) -> Any:
        self.server.api.clear_scripts()
        return {}

    def _a_c_rescript_run(self, query: dict[str, str], raw: bytes, run_id: str) -> Any:
        return self.server.api.rescript_run(run_id, _json(raw))

    def _a_c_run_outputs(self, query: dict[str, str], raw: bytes, run_id: str) -> Any:
        return self.server.api.run_outputs(run_id)

    def _a_c_list_faults(self, query: dict[str, str], raw: bytes) -> Any:
        faults = self.server.api.store.all("SELECT * FROM faults ORDER BY id")
        return {"faults": [{**fault, "after": bool(fault["after"])} for fault in faults]}

    def _a_c_add_fault(self, query: dict[str, str], raw: bytes) -> Any:
        return self.server.add_fault(_json(raw))

    def _a_c_clear_faults(self, query: dict[str, str], raw: bytes) -> Any:
        self.server.api.store.run("DELETE FROM faults")
        return {}

    def _a_c_stats(self, query: dict[str, str], raw: bytes) -> Any:
        return {"requests": self.server.stats()}

    def _a_c_reset_stats(self, query: dict[str, str], raw: bytes) -> Any:
        self.server.reset_stats()
        return {}

    def _a_c_reset(self, query: dict[str, str], raw: bytes) -> Any:
        self.server.api.clear_scripts()
        self.server.api.store.run("DELETE FROM faults")
        self.server.reset_stats()
        return {}


# Struct-valued fields: protojson writes their contents as they are.
_STRUCT_FIELDS = frozenset({"pipeline_spec", "platform_spec", "parameters", "plugins_input"})


def omit_unpopulated(value: Any) -> Any:
    """Drop what KFP's JSON marshaler (protojson, ``EmitUnpopulated: false``) leaves
    out: empty strings, zero numbers, false, empty lists and maps. Set messages stay
    (an unset ``finished_at`` is the zero time, which KFP does write)."""
    if isinstance(value, list):
        return [omit_unpopulated(v) for v in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if key in _STRUCT_FIELDS:
            if item is not None:
                kept[key] = item
            continue
        if item is None or item == "" or item is False or item == [] or (key == "tags" and item == {}):
            continue
        if isinstance(item, (int, float)) and not isinstance(item, bool) and item == 0:
            continue
        kept[key] = omit_unpopulated(item)
    return kept


def _json(raw: bytes) -> Any:
    return guard.parse_json(raw)
