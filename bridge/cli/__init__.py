"""``af2kfp``: one subcommand per module in this package.

Each command module exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Exit codes: 0 done, 1 done with findings at or above
``--fail-on``, 2 usage error or unreadable input (a clear message, no traceback),
3 an internal error of af2kfp (a bug: the message asks to report it; ``-v`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from af2kfp.converters.errors import Af2KfpError

__all__ = ["main", "COMMAND_MODULES", "tool_version"]

# Order is the order of `af2kfp --help`.
COMMAND_MODULES = [
    "af2kfp.bridge.cli.convert",
    "af2kfp.bridge.cli.kfp_server",
    "af2kfp.bridge.cli.run",
    "af2kfp.bridge.cli.deploy",
    "af2kfp.bridge.cli.cutover",
    "af2kfp.bridge.cli.migrate",
    "af2kfp.bridge.cli.compare",
    "af2kfp.bridge.cli.report",
    "af2kfp.bridge.cli.check",
    "af2kfp.bridge.cli.verify",
]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, read only when asked (no import at start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS,
                         help="print af2kfp's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        sys.stdout.write(f"af2kfp {tool_version()}\n")
        parser.exit()


def tool_version() -> str:
    """af2kfp's version (one source: ``af2kfp.__version__``, which the package metadata reads)."""
    from af2kfp import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="af2kfp",
        description="Convert Airflow DAGs to Kubeflow Pipelines v2 and drive KFP runs.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="af2kfp: %(levelname)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except Af2KfpError as exc:
        print(f"af2kfp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("af2kfp: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug of af2kfp: say so, distinctly from bad input and findings
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        detail = "" if args.verbose else " (rerun with -v for the traceback)"
        print(f"af2kfp: internal error: {type(exc).__name__}: {exc}{detail}; please report it", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
