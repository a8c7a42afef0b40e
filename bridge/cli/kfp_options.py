"""The options every command that talks to KFP takes, read once: host, UI host, namespace,
credentials (``--token``, ``--token-file``, ``--cookie``) and TLS (``--ca-bundle``,
``--insecure``). ``af2kfp run`` and ``af2kfp deploy`` use them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from converters.errors import InputError

__all__ = ["add_kfp_arguments", "check_kfp_arguments", "kfp_config"]


def add_kfp_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", required=True, metavar="URL", help="KFP API base URL, e.g. http://127.0.0.1:8888"
    )
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
    """The :class:`bridge.kfp.KfpConfig` the options describe."""
    from bridge.kfp import KfpConfig, auth_from_options

    verify: bool | str = False if args.insecure else (args.ca_bundle or True)
    auth = auth_from_options(token=args.token, token_file=args.token_file, cookie=args.cookie)
    return KfpConfig(host=args.host, auth=auth, namespace=args.namespace, verify=verify, ui_host=args.ui_host)
