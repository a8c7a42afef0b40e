"""Code af2kfp ships inside the pipelines it writes, kept here as data: read as text, never imported.

``airflow_operator_runner.py`` runs one original Airflow operator in a KFP task (the
fallback rule). It needs only the standard library and Airflow, so it runs in the official
``apache/airflow`` image; af2kfp reads its text (:func:`airflow_operator_runner`), writes it
beside each ``pipeline.py`` that runs it, and the pipeline passes it to ``python -c``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["RUNNER_FILE", "RUNNER_CONSTANT", "FILES", "airflow_operator_runner", "file_text"]

# The file beside pipeline.py, and the module-level constant of pipeline.py that holds its text.
RUNNER_FILE = "airflow_operator_runner.py"
RUNNER_CONSTANT = "AIRFLOW_OPERATOR_RUNNER"
# Every file of this folder a generated pipeline may read.
FILES = (RUNNER_FILE,)


def airflow_operator_runner() -> str:
    """The runner's source text, as shipped in the installed package."""
    return file_text(RUNNER_FILE)


@lru_cache(maxsize=None)
def file_text(name: str) -> str:
    """The text of one of :data:`FILES`."""
    if name not in FILES:
        raise ValueError(f"{name} is not a file af2kfp ships with its pipelines")
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
