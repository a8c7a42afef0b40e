"""Checks every request passes before the local server acts on it.

They defend a server on loopback against web pages the user opens: a page on
another origin (a drive-by ``fetch``/form post), and DNS rebinding (a page
whose host name is made to resolve to 127.0.0.1). ``Host`` must name this
server, a browser's ``Origin`` must be this server's own, writes must be
``application/json`` (or ``multipart/form-data`` for an upload), as the real
KFP API and ``kfp.Client`` send them, which a page on another origin cannot
do without a CORS preflight this server never grants. Bodies are bounded in
size and JSON depth; NaN and Infinity, which JSON does not have, are refused.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from typing import Any, BinaryIO, Iterable, Mapping

from af2kfp.bridge.kfp_server.errors import ApiError

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "allowed_hosts",
    "check_host",
    "check_origin",
    "check_content_type",
    "read_body",
    "parse_json",
]

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_JSON_DEPTH = 100
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WRITES = ("POST", "PUT", "PATCH", "DELETE")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def _name(host: str) -> str:
    """A host name as compared: lower case, no brackets, no trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Names a request's ``Host`` may carry: loopback names, the bound address, and
    ``extra`` (``--allow-host``). Bound to every address (``0.0.0.0``/``::``), the
    machine's own names and any IP literal are accepted too (see :func:`check_host`)."""
    names = {*_LOOPBACK_NAMES, _name(bound), *(_name(h) for h in extra)}
    if _name(bound) in ("0.0.0.0", "::", ""):
        names |= {_name(socket.gethostname()), _name(socket.getfqdn())}
    return frozenset(n for n in names if n)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _split_host(value: str) -> tuple[str, int | None] | None:
    value = value.strip()
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?|([^:\[\]/@\s]+)(?::(\d{1,5}))?", value)
    if match is None:
        if _is_ip(value):  # a bare IPv6 literal without brackets
            return value, None
        return None
    name = match.group(1) or match.group(3)
    port = match.group(2) or match.group(4)
    return _name(name), int(port) if port else None


def _host_ok(value: str, hosts: frozenset[str], port: int, wildcard: bool) -> bool:
    parsed = _split_host(value)
    if parsed is None:
        return False
    name, given_port = parsed
    if given_port is not None and given_port != port:
        return False
    return name in hosts or (wildcard and _is_ip(name))


def check_host(headers: Mapping[str, str], hosts: frozenset[str], port: int, *, wildcard: bool) -> None:
    """``Host`` must name this server (DNS rebinding gives a page's own host name)."""
    host = headers.get("Host")
    if not host or not _host_ok(host, hosts, port, wildcard):
        raise ApiError(
            403,
            f"Permission denied: Host {host!r} is not this server's address; af2kfp kfp-server "
            "answers only requests to its own address (start it with --allow-host NAME to add a name)",
            grpc_code=7,
        )


def check_origin(headers: Mapping[str, str], hosts: frozenset[str], port: int, *, wildcard: bool) -> None:
    """A browser's ``Origin`` must be this server itself; other clients send none."""
    origin = headers.get("Origin")
    if origin is None:
        return
    match = re.fullmatch(r"(https?)://(.+)", origin.strip())
    if match is None or not _host_ok(match.group(2), hosts, port, wildcard):
        raise ApiError(
            403,
            f"Permission denied: requests from web pages of origin {origin!r} are refused "
            "(af2kfp kfp-server answers only its own origin)",
            grpc_code=7,
        )


def check_content_type(method: str, headers: Mapping[str, str], *, upload: bool) -> None:
    """Writes must say ``application/json`` (uploads: ``multipart/form-data``)."""
    if method not in _WRITES:
        return
    media = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    wanted = "multipart/form-data" if upload else "application/json"
    if media != wanted:
        raise ApiError(
            415,
            f"Invalid input error: a {method} here must have Content-Type {wanted}, not "
            f"{media or 'none'} (as kfp.Client sends it)",
            grpc_code=3,
        )


def _content_length(headers: Any) -> int | None:
    values = headers.get_all("Content-Length") if hasattr(headers, "get_all") else None
    if values is None:
        single = headers.get("Content-Length")
        values = [] if single is None else [single]
    if not values:
        return None
    if len(set(v.strip() for v in values)) != 1 or not re.fullmatch(r"\d{1,12}", values[0].strip()):
        raise ApiError(400, f"Invalid input error: bad Content-Length {', '.join(values)!r}")
    return int(values[0].strip())


def read_body(headers: Any, stream: BinaryIO, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or an :class:`ApiError` (the connection must then be closed:
    what is left of the body was not read)."""
    chunked = (headers.get("Transfer-Encoding") or "").strip().lower()
    length = _content_length(headers)
    if chunked and length is not None:
        raise ApiError(400, "Invalid input error: both Content-Length and Transfer-Encoding")
    if chunked:
        if chunked != "chunked":
            raise ApiError(400, f"Invalid input error: Transfer-Encoding {chunked!r} is not supported")
        chunks, total = [], 0
        while True:
            line = stream.readline(1024).split(b";")[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", line):
                raise ApiError(400, "Invalid input error: bad chunk size in a chunked body")
            size = int(line, 16)
            total += size
            if total > limit:
                raise ApiError(413, f"Request body larger than {limit} bytes", grpc_code=8)
            if size == 0:
                stream.readline(1024)
                return b"".join(chunks)
            chunks.append(stream.read(size))
            stream.readline(1024)
    if not length:
        return b""
    if length > limit:
        raise ApiError(413, f"Request body of {length} bytes is larger than {limit} bytes", grpc_code=8)
    data = stream.read(length)
    if len(data) != length:
        raise ApiError(400, "Invalid input error: the body is shorter than its Content-Length")
    return data


def _depth_of(raw: bytes, limit: int) -> int:
    """Nesting depth of JSON text, counted outside strings; stops past ``limit``."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} does not fit a float")
    return value


def parse_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A request body as JSON (None when empty); 400 for bad JSON, NaN/Infinity, deep nesting."""
    if not raw.strip():
        return None
    if _depth_of(raw, max_depth) > max_depth:
        raise ApiError(400, f"Invalid input error: the JSON body is nested deeper than {max_depth} levels")
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, f"Invalid input error: the request body is not JSON: {exc}") from None
