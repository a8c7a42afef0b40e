"""``python -m af2kfp.bridge.kfp_server [options]``: the ``af2kfp kfp-server`` command
without loading the other subcommands (quicker to start in tests)."""

import argparse
import logging
import sys

from af2kfp.bridge.cli import kfp_server
from af2kfp.converters.errors import Af2KfpError


def main() -> int:
    parser = argparse.ArgumentParser(prog="af2kfp kfp-server", description=kfp_server.HELP)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    kfp_server.add_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="af2kfp: %(levelname)s: %(message)s"
    )
    try:
        return kfp_server.run(args)
    except Af2KfpError as exc:
        print(f"af2kfp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
