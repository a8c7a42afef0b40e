"""A small scripted KFP v2beta1 server on loopback for the client tests.

Serves the JSON contract of ``kfp_server_api`` (snake_case fields, grpc-gateway error
bodies) from memory, records every request (method, path, query, headers, body), and
plays scripted faults in order: an HTTP status with headers and body, a dropped
connection before or after the request is applied, or a slow answer. Run states are
scripted per run as a list of states returned by successive GETs (the last one sticks).
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

PREFIX = "/apis/v2beta1"


@dataclass
class Fault:
    """One scripted misbehaviour for the next request matching ``method`` and ``path`` (regex)."""

    kind: str  # "status" | "drop" | "drop_after" | "slow"
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    method: str | None = None
    path: str | None = None
    on_hit: Callable[[], None] | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or re.search(self.path, path))


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class FakeKfp:
    """State and script of the fake server; ``url`` is its base URL once started."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.clock = itertools.count(1)
        self.experiments: dict[str, dict] = {}
        self.pipelines: dict[str, dict] = {}
        self.versions: dict[str, dict] = {}
        self.runs: dict[str, dict] = {}
        self.run_script: dict[str, list[dict]] = {}
        self.next_run_script: list[dict] | None = None
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.server: ThreadingHTTPServer | None = None

    # -- scripting -----------------------------------------------------------------
    def fail(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def script_run(self, run_id: str, *states: dict | str) -> None:
        """States (or full run patches) returned by the next GETs of ``run_id``; the last one sticks."""
        with self.lock:
            self.run_script[run_id] = [s if isinstance(s, dict) else {"state": s} for s in states]

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self.lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method) and (path is None or re.search(path, r.path))
            ]

    def stamp(self) -> str:
        return f"2026-01-01T00:{next(self.clock):05d}Z"

    def new_id(self, kind: str) -> str:
        return f"{kind}-{next(self.ids)}"

    # -- lifecycle -----------------------------------------------------------------
    def start(self, tls: "ssl.SSLContext | None" = None) -> "FakeKfp":
        fake = self

        class Handler(_Handler):
            state = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _matches_filter(obj: dict, raw_filter: str | None) -> bool:
    if not raw_filter:
        return True
    for predicate in json.loads(raw_filter).get("predicates", []):
        op = predicate.get("operation")
        if op not in (1, "EQUALS"):
            raise ValueError(f"unsupported filter operation {op}")
        value = predicate.get("stringValue", predicate.get("string_value"))
        if obj.get(predicate["key"]) != value:
            return False
    return True


def _listing(items: list[dict], query: dict[str, str], key: str) -> dict:
    chosen = [i for i in items if _matches_filter(i, query.get("filter"))]
    sort_by = query.get("sort_by", "")
    if sort_by:
        field_name, _, direction = sort_by.partition(" ")
        chosen.sort(key=lambda i: i.get(field_name) or "", reverse=direction == "desc")
    size = int(query.get("page_size") or 0)
    page = chosen[:size] if size else chosen
    return {key: page, "total_size": len(chosen)} if page else {"total_size": len(chosen)}


class _Handler(BaseHTTPRequestHandler):
    state: FakeKfp
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; avoid 40 ms stalls

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps({} if body is None else body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if not any(k.lower() == "content-type" for k in headers or {}):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _error(self, status: int, message: str, code: int = 3) -> None:
        self._reply(status, {"error": message, "code": code, "message": message, "details": []})

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = dict(parse_qsl(parts.query))
        st = self.state
        with st.lock:
            st.requests.append(Seen(self.command, parts.path, query, dict(self.headers.items()), body))
            fault = next((f for f in st.faults if f.matches(self.command, parts.path)), None)
            if fault is not None:
                st.faults.remove(fault)
        if fault is not None and fault.on_hit is not None:
            fault.on_hit()
        if fault is not None and fault.kind == "status":
            body_out = fault.body if fault.body is not None else {"error": "injected", "code": 14, "message": "injected"}
            return self._reply(fault.status, body_out, fault.headers)
        if fault is not None and fault.kind == "drop":
            return self._drop()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        try:
            status, payload = self._route(self.command, parts.path, query, body)
        except KeyError as exc:
            return self._error(404, f"resource not found: {exc.args[0]}", code=5)
        except ValueError as exc:
            return self._error(400, str(exc))
        if fault is not None and fault.kind == "drop_after":
            return self._drop()
        try:
            self._reply(status, payload)
        except OSError:  # the client gave up (timeout); nothing to answer
            pass

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        st = self.state
        if not path.startswith(PREFIX):
            raise KeyError(path)
        path = path[len(PREFIX):]
        with st.lock:
            if path == "/healthz" and method == "GET":
                return 200, {"multi_user": False, "pipeline_store": "database"}
            if path == "/experiments":
                if method == "POST":
                    data = json.loads(body)
                    if any(e["display_name"] == data["display_name"] and e.get("namespace") == data.get("namespace")
                           for e in st.experiments.values()):
                        return 409, {"error": "already exists", "code": 6, "message": "already exists"}
                    exp = {**data, "experiment_id": st.new_id("exp"), "created_at": st.stamp(),
                           "storage_state": "AVAILABLE"}
                    st.experiments[exp["experiment_id"]] = exp
                    return 200, exp
                items = [e for e in st.experiments.values()
                         if not query.get("namespace") or e.get("namespace") == query["namespace"]]
                return 200, _listing(items, query, "experiments")
            m = re.fullmatch(r"/experiments/([^/:]+)", path)
            if m:
                if method == "DELETE":
                    del st.experiments[m.group(1)]
                    return 200, {}
                return 200, st.experiments[m.group(1)]
            if path == "/pipelines/upload" and method == "POST":
                pipeline = {"pipeline_id": st.new_id("pl"), "display_name": query["display_name"],
                            "name": query["name"], "created_at": st.stamp()}
                st.pipelines[pipeline["pipeline_id"]] = pipeline
                self._new_version(pipeline["pipeline_id"], query["name"], body)
                return 200, pipeline
            if path == "/pipelines/upload_version" and method == "POST":
                st.pipelines[query["pipelineid"]]  # noqa: B018 (404 when unknown)
                return 200, self._new_version(query["pipelineid"], query["name"], body)
            if path == "/pipelines":
                return 200, _listing(list(st.pipelines.values()), query, "pipelines")
            m = re.fullmatch(r"/pipelines/([^/]+)/versions", path)
            if m:
                items = [v for v in st.versions.values() if v["pipeline_id"] == m.group(1)]
                return 200, _listing(items, query, "pipeline_versions")
            m = re.fullmatch(r"/pipelines/([^/]+)/versions/([^/]+)", path)
            if m:
                return 200, st.versions[m.group(2)]
            m = re.fullmatch(r"/pipelines/([^/]+)", path)
            if m:
                return 200, st.pipelines[m.group(1)]
            if path == "/runs":
                if method == "POST":
                    return 200, self._create_run(json.loads(body))
                items = [r for r in st.runs.values()
                         if not query.get("experiment_id") or r["experiment_id"] == query["experiment_id"]]
                return 200, _listing(items, query, "runs")
            m = re.fullmatch(r"/runs/([^/:]+)(?::(terminate|archive|unarchive))?", path)
            if m:
                run = st.runs[m.group(1)]
                action = m.group(2)
                if action == "terminate":
                    st.run_script[run["run_id"]] = [{"state": "CANCELING"}, {"state": "CANCELED"}]
                elif action in ("archive", "unarchive"):
                    run["storage_state"] = "ARCHIVED" if action == "archive" else "AVAILABLE"
                elif method == "DELETE":
                    del st.runs[run["run_id"]]
                else:
                    script = st.run_script.get(run["run_id"])
                    if script:
                        run.update(script.pop(0) if len(script) > 1 else script[0])
                    return 200, run
                return 200, {}
        raise KeyError(path)

    def _new_version(self, pipeline_id: str, name: str, body: bytes) -> dict:
        st = self.state
        ctype = self.headers.get("Content-Type", "")
        message = message_from_bytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body, policy=HTTP)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        if "uploadfile" not in parts:
            raise ValueError("multipart field uploadfile is missing")
        import yaml

        spec = yaml.safe_load(parts["uploadfile"].get_payload(decode=True))
        version = {"pipeline_id": pipeline_id, "pipeline_version_id": st.new_id("ver"), "display_name": name,
                   "name": name, "created_at": st.stamp(), "pipeline_spec": spec}
        st.versions[version["pipeline_version_id"]] = version
        return version

    def _create_run(self, data: dict) -> dict:
        st = self.state
        if data.get("experiment_id") not in st.experiments:
            raise ValueError(f"experiment {data.get('experiment_id')} does not exist")
        if "pipeline_spec" not in data and "pipeline_version_reference" not in data:
            raise ValueError("a run needs pipeline_spec or pipeline_version_reference")
        run = {**data, "run_id": st.new_id("run"), "state": "PENDING", "created_at": st.stamp(),
               "storage_state": "AVAILABLE"}
        st.runs[run["run_id"]] = run
        if st.next_run_script:
            st.run_script[run["run_id"]] = list(st.next_run_script)
        return run
