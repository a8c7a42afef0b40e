#!/usr/bin/env bash
# Second CI environment: the Airflow provider's tests on Airflow 2.10 (the provider supports
# Airflow 2.10+ and 3.x; the main environment, .ci/run, has Airflow 3). Only PyPI is used:
# Airflow's constraints files are not reachable from CI, so pip resolves on its own; cryptography
# is held below 51 (kfp needs >=50; 51's MultiFernet refuses the attribute Airflow 2.10 sets on it).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${AF2_VENV:-.venv-af2}"
if [ ! -x "$VENV/bin/pytest" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
    echo '*' > "$VENV/.gitignore"   # keep the environment out of git
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q 'apache-airflow==2.10.*' 'kfp==2.17.3' 'kfp-kubernetes==2.17.3' \
        'pytest>=8' 'pytest-asyncio>=0.24' 'pytest-timeout>=2.3' 'pytest-xdist>=3.6' 'httpx>=0.27' \
        'cryptography>=50,<51' -e .
fi
# pyproject.toml's addopts run the tests on pytest-xdist workers (an environment made before that lacks it).
"$VENV/bin/python" -c 'import xdist' 2>/dev/null || "$VENV/bin/pip" install -q 'pytest-xdist>=3.6'
"$VENV/bin/python" -c 'import airflow, sys; print(f"Airflow {airflow.__version__} on Python {sys.version.split()[0]}")'
exec "$VENV/bin/pytest" tests/provider "$@"
