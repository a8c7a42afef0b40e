"""``python -m af2kfp``: the same command line as ``af2kfp``."""

import sys

from af2kfp.bridge.cli import main

if __name__ == "__main__":
    sys.exit(main())
