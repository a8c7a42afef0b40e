"""Shell commands that read files from the DAGs folder (M267): in KFP the task's image has none.

Airflow workers hold the DAGs folder (``/opt/airflow/dags``, ``~/airflow/dags``, Composer's
``/home/airflow/gcs/dags``, ``{{ dag.folder }}``, ``conf``'s ``dags_folder``), so a
BashOperator can run ``python {{ dag.folder }}/scripts/load.py`` or a path built from the
DAG file's ``__file__``, which the analyzer evaluates to where the file was converted. A KFP
container runs ``bash_image`` alone: the script is not there. The finding names what is read
and how to fix it; the command is kept as written.
"""

from __future__ import annotations

import posixpath
import re

from af2kfp.converters.findings import Severity, register_code

__all__ = ["DAGS_FOLDER_READ", "dags_folder_reads"]

DAGS_FOLDER_READ = register_code(
    "M267", Severity.WARNING, "Command reads a file from the DAGs folder",
    "Airflow's workers hold the DAGs folder; a KFP task's image does not. Build an image that contains the "
    "scripts/files the command reads (set it as [tool.af2kfp] bash_image, or map the task to it), and refer to "
    "them by their path in that image; or inline what the command runs.",
).code

_END = r"(?![\w.-])"  # the folder itself: /opt/airflow/dags-config is another one
_FOLDERS = re.compile(
    rf"(?:~|\$\{{?HOME\}}?)/airflow/dags{_END}|\$\{{?AIRFLOW_HOME\}}?/dags{_END}|/opt/airflow/dags{_END}"
    rf"|/usr/local/airflow/dags{_END}|/home/airflow/gcs/dags{_END}|\{{\{{-?\s*dag\.folder\s*-?\}}\}}"
    r"|\{\{-?\s*conf\.(?:get\(\s*['\"]core['\"]\s*,\s*['\"]dags_folder['\"]\s*\)|core\.dags_folder)\s*-?\}\}")


def dags_folder_reads(command: str, task_file: str) -> str | None:
    """What ``command`` reads of the DAGs folder (the matched text), or ``None``.

    ``task_file``: the DAG file as the report names it; a path under its folder in the command
    is one built from ``__file__`` (the analyzer evaluates ``__file__`` to that path).
    """
    found = _FOLDERS.search(command)
    if found:
        return found.group(0)
    folder = posixpath.dirname(task_file)
    if folder and folder not in (".", "/"):
        at = command.find(folder + "/")
        if at >= 0 and (at == 0 or not (command[at - 1].isalnum() or command[at - 1] in "_-.")):
            end = re.match(r"[^\s'\";&|]*", command[at:])
            return end.group(0) if end else folder
    return None
