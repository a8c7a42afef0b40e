"""``python -m airflow_plugins.fallback``: see :mod:`airflow_plugins.fallback`."""

import sys

from airflow_plugins.fallback.runner import main

sys.exit(main(sys.argv[1:]))
