"""``af2kfp kfp-server``: serve the local KFP API (v2beta1) on loopback."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import ssl
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from af2kfp.converters.errors import Af2KfpError

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "kfp-server"
HELP = (
    "serve a local KFP API (v2beta1) for tests and demos: SQLite state, simulated runs with scripted "
    "fates (or kfp.local with --execute), recurring runs started on their schedule, injected faults "
    "(--control)"
)

log = logging.getLogger(__name__)


def _announce(url: str) -> Path | None:
    """Write ``url`` where ``af2kfp run`` looks for a local server when given no host (the last
    server started wins); a folder that cannot take it only costs that default."""
    from af2kfp.bridge.cli.kfp_options import local_server_url_file

    path = local_server_url_file()
    try:
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")  # private, never a symlink
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(url + "\n")
        os.replace(partial, path)
    except OSError as exc:
        log.info("could not write %s (%s); af2kfp run will need --host", path, exc)
        return None
    return path


def _withdraw(path: Path | None, url: str) -> None:
    """Remove the URL file unless a server started since has taken it over."""
    try:
        if path is not None and path.read_text(encoding="utf-8").strip() == url:
            path.unlink()
    except OSError:
        pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8888, help="port (0: any free port; default: %(default)s)"
    )
    parser.add_argument(
        "--db", metavar="FILE", help="SQLite file keeping all state across restarts (default: in memory)"
    )
    parser.add_argument(
        "--default-fate",
        metavar="FATE",
        help="fate of runs nobody scripted (default: succeed); see docs/kfp-server.md",
    )
    parser.add_argument(
        "--run-seconds", type=float, metavar="S", help="seconds a run spends RUNNING (default: 3)"
    )
    parser.add_argument(
        "--pending-seconds", type=float, metavar="S", help="seconds a new run stays PENDING (default: 0.5)"
    )
    parser.add_argument(
        "--cancel-seconds", type=float, metavar="S", help="seconds a run stays CANCELING (default: 0.5)"
    )
    parser.add_argument(
        "--execute",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="really run pipelines' lightweight Python components with kfp.local, on this machine "
        "(default: off: runs are simulated and say so)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="serve the /af2kfp/v1 control API (scripted fates, faults, stats); behind the same "
        "credentials as the KFP API (default: off)",
    )
    parser.add_argument(
        "--run-fates",
        action="store_true",
        help="let a run choose its own fate with an 'af2kfp.fate' run parameter or description "
        "line (default: off: such a parameter is an ordinary parameter)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a further host name clients may use for this server (repeatable; default: loopback "
        "names and the --host address)",
    )
    parser.add_argument(
        "--bearer-token-file",
        metavar="FILE",
        help="require 'Authorization: Bearer <the token in FILE>' on every request (default: no auth)",
    )
    parser.add_argument(
        "--session-cookie-file",
        metavar="FILE",
        help="require the cookie NAME=VALUE written in FILE (as Dex/oauth2-proxy sessions); default: no auth",
    )
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain)")
    parser.add_argument(
        "--tls-key", metavar="PEM", help="private key of --tls-cert (if not in the same file)"
    )
    parser.add_argument(
        "--schedule-tick",
        type=float,
        default=1.0,
        metavar="S",
        help="look for due recurring runs every S seconds (0: never start them; default: %(default)s)",
    )
    parser.add_argument("--url-file", metavar="FILE", help="write the server's URL to FILE once it listens")


def _settings_changes(args: argparse.Namespace) -> dict[str, object]:
    changes = {
        "default_fate": args.default_fate,
        "run_seconds": args.run_seconds,
        "pending_seconds": args.pending_seconds,
        "cancel_seconds": args.cancel_seconds,
    }
    changes["bearer_token"] = _credential(args.bearer_token_file, "--bearer-token-file")
    changes["session_cookie"] = _credential(args.session_cookie_file, "--session-cookie-file")
    return {k: v for k, v in changes.items() if v is not None}


def _credential(path: str | None, option: str) -> str | None:
    if path is None:
        return None
    try:
        value = Path(path).read_text().strip()
    except OSError as exc:
        raise Af2KfpError(f"{option} {path}: cannot read it: {exc.strerror or exc}") from None
    if not value:
        raise Af2KfpError(f"{option} {path}: the file is empty")
    return value


def _mode(args: argparse.Namespace, settings: Any) -> str:
    """One line saying what this server really does with runs, and what it lets callers do."""
    runs = (
        "runs execute lightweight Python components with kfp.local on this machine (--execute)"
        if args.execute
        else "runs are SIMULATED: nothing is executed, states follow scripted fates (--execute to run)"
    )
    extras = [name for name, on in (("control API", args.control), ("run-chosen fates", args.run_fates)) if on]
    guarded = settings.bearer_token is not None or settings.session_cookie is not None
    auth = "credentials required" if guarded else "no credentials"
    return f"{runs}; {auth}" + (f"; {', '.join(extras)} on" if extras else "")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(args: argparse.Namespace) -> int:
    from af2kfp.bridge.kfp_server.api import Policy
    from af2kfp.bridge.kfp_server.errors import ApiError
    from af2kfp.bridge.kfp_server.launch import serve

    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not (args.bearer_token_file or args.session_cookie_file):
        log.warning(
            "kfp-server on %s without --bearer-token-file: anyone who reaches this address may "
            "use it%s",
            args.host,
            " and run code on this machine (--execute)" if args.execute else "",
        )
    for option, path in (("--bearer-token-file", args.bearer_token_file), ("--session-cookie-file", args.session_cookie_file)):
        if path and Path(path).is_file() and Path(path).stat().st_mode & 0o077:
            log.warning("%s %s can be read by other users (chmod 600 it)", option, path)
    if args.schedule_tick < 0:
        raise Af2KfpError(f"--schedule-tick {args.schedule_tick}: must be 0 (off) or more")
    if args.db and not Path(args.db).parent.exists():
        raise Af2KfpError(f"--db {args.db}: folder {Path(args.db).parent} does not exist")
    changes = _settings_changes(args)
    if args.tls_key and not args.tls_cert:
        raise Af2KfpError("--tls-key needs --tls-cert")
    for option, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if path and not Path(path).is_file():
            raise Af2KfpError(f"{option} {path}: no such file")
    try:
        server = serve(
            host=args.host,
            port=args.port,
            db_path=args.db,
            policy=Policy(execute=args.execute, run_fates=args.run_fates),
            control=args.control,
            allow_hosts=args.allow_host,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            schedule_tick=args.schedule_tick,
        )
    except ssl.SSLError as exc:
        raise Af2KfpError(f"--tls-cert {args.tls_cert}: cannot use it: {exc.reason or exc}") from None
    except OSError as exc:
        raise Af2KfpError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    try:
        server.api.update_settings(changes, trusted=True)
    except ApiError as exc:
        server.server_close()
        raise Af2KfpError(exc.message) from None
    announced = _announce(server.url)  # before --url-file: a script that waits for that one sees both
    if args.url_file:
        partial = Path(args.url_file + ".part")
        partial.write_text(server.url + "\n")
        os.replace(partial, args.url_file)
    print(f"af2kfp kfp-server: KFP API v2beta1 on {server.url} (state: {args.db or 'in memory'})", flush=True)
    print(f"af2kfp kfp-server: {_mode(args, server.api.settings)}", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        server.api.store.close()
        _withdraw(announced, server.url)
        print("af2kfp kfp-server: stopped", file=sys.stderr)
    return 0
