"""The options every command that talks to KFP takes, read once: host, UI host, namespace,
credentials (``--token``, ``--token-file``, ``--cookie``) and TLS (``--ca-bundle``,
``--insecure``). ``af2kfp run`` and ``af2kfp deploy`` use them.

A command that may guess its host (``af2kfp run``: trying a pipeline) takes it from
``--host``, else ``KFP_HOST``, else kfp's own ``KF_PIPELINES_ENDPOINT``, else the URL file
of an ``af2kfp kfp-server`` running on this machine (:func:`local_server_url_file`);
``af2kfp deploy`` changes KFP and always needs ``--host``.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from af2kfp.converters.errors import InputError

__all__ = [
    "HOST_VARIABLES", "add_kfp_arguments", "check_kfp_arguments", "kfp_config", "local_server_url_file",
    "resolve_host", "running_local_server",
]

HOST_VARIABLES = ("KFP_HOST", "KF_PIPELINES_ENDPOINT")
"""Environment variables naming the KFP host, in order: af2kfp's, then the one ``kfp.Client`` reads."""
URL_FILE_VARIABLE = "AF2KFP_KFP_SERVER_URL_FILE"


def local_server_url_file() -> Path:
    """Where ``af2kfp kfp-server`` writes its URL while it runs: the user's runtime folder
    (``$XDG_RUNTIME_DIR``), else the temporary folder with the user id in the name;
    ``$AF2KFP_KFP_SERVER_URL_FILE`` overrides it."""
    override = os.environ.get(URL_FILE_VARIABLE)
    if override:
        return Path(override)
    folder = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(folder) / f"af2kfp-kfp-server-{_user()}.url"


def _user() -> str:
    return str(os.getuid()) if hasattr(os, "getuid") else (os.environ.get("USERNAME") or "user")


def running_local_server() -> str | None:
    """The URL of the local ``af2kfp kfp-server`` when its file is this user's and it answers."""
    path = local_server_url_file()
    try:
        info = path.stat()
        if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
            return None  # a file someone else could have written must not pick where requests go
        url = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)),
                                 timeout=1.0).close()
    except OSError:
        return None  # left behind by a server that was killed
    return url


def resolve_host(args: argparse.Namespace) -> tuple[str, str]:
    """The KFP host and where it came from (``--host``, a variable, or the local server)."""
    if args.host:
        return args.host, "--host"
    for name in HOST_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value, name
    url = running_local_server()
    if url is not None:
        return url, f"the local af2kfp kfp-server ({local_server_url_file()})"
    raise InputError(
        f"no KFP host: give --host URL, set {' or '.join(HOST_VARIABLES)}, or start `af2kfp kfp-server`"
    )


def add_kfp_arguments(parser: argparse.ArgumentParser, *, host_default: bool = False) -> None:
    """The KFP options; with ``host_default``, ``--host`` may be left out (see the module docstring)."""
    host_help = "KFP API base URL, e.g. http://127.0.0.1:8888"
    if host_default:
        host_help += (f" (default: ${HOST_VARIABLES[0]}, else ${HOST_VARIABLES[1]}, else the URL of an "
                      "`af2kfp kfp-server` running on this machine)")
    parser.add_argument("--host", required=not host_default, metavar="URL", help=host_help)
    parser.add_argument("--ui-host", metavar="URL", help="KFP UI base URL for run links (default: --host)")
    parser.add_argument("--namespace", metavar="NS", help="profile namespace of a multi-user KFP")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--token", metavar="TOKEN", help="bearer token (prefer --token-file: argv is visible to others)"
    )
    auth.add_argument(
        "--token-file", metavar="FILE", help="file holding a bearer token, re-read on every request"
    )
    auth.add_argument("--cookie", metavar="NAME=VALUE", help="session cookie (Dex / oauth2-proxy)")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--ca-bundle", metavar="FILE", help="CA bundle that signed the KFP certificate")
    tls.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (warns)")


def check_kfp_arguments(args: argparse.Namespace) -> None:
    if args.token_file and not Path(args.token_file).is_file():
        raise InputError(f"--token-file {args.token_file}: no such file")


def kfp_config(args: argparse.Namespace) -> Any:
    """The :class:`af2kfp.bridge.kfp.KfpConfig` the options describe."""
    from af2kfp.bridge.kfp import KfpConfig, auth_from_options

    verify: bool | str = False if args.insecure else (args.ca_bundle or True)
    auth = auth_from_options(token=args.token, token_file=args.token_file, cookie=args.cookie)
    host = args.host if args.host else resolve_host(args)[0]
    return KfpConfig(host=host, auth=auth, namespace=args.namespace, verify=verify, ui_host=args.ui_host)
