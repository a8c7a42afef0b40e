"""Objects of an original DAG file, for the DAG files ``af2kfp cutover`` writes.

A cut-over DAG keeps the callbacks (and other names) its original DAG read, and those are
often defined in the original file itself (``def page_on_call(context): ...``). The
generated file gets them with :func:`original_attribute`, which runs the original file as
a private module, once per process, with Airflow's registration of the DAGs it builds
turned off: the original DAG, which has the same ``dag_id``, must not appear a second
time in the generated file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["original_attribute"]

_LOCK = threading.Lock()


def _dag_context() -> Any:
    try:  # Airflow 3
        from airflow.sdk.definitions._internal.contextmanager import DagContext
    except ImportError:  # Airflow 2.10+
        from airflow.models.dag import DagContext  # type: ignore[no-redef,attr-defined]
    return DagContext


def _load(path: Path) -> ModuleType:
    name = "af2kfp_original_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the original DAG file {path}")
    module = importlib.util.module_from_spec(spec)
    context = _dag_context()
    saved = context.current_autoregister_module_name
    context.current_autoregister_module_name = None  # its DAGs are not this file's
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        context.current_autoregister_module_name = saved
    return module


def original_attribute(here: str, relative_path: str, name: str) -> Any:
    """``name`` as the original DAG file at ``relative_path`` (from the folder of ``here``,
    the generated file's ``__file__``) defines it."""
    path = (Path(here).resolve().parent / relative_path).resolve()
    if not path.is_file():
        raise ImportError(
            f"{here}: the original DAG file {path} is gone; it defines {name!r}, which this DAG uses "
            "(keep the file out of Airflow's DAGs folder or .airflowignore it, but keep it)"
        )
    with _LOCK:
        module = _load(path)
    try:
        return getattr(module, name)
    except AttributeError:
        raise ImportError(f"{path} defines no {name!r} any more; run af2kfp convert and cutover again") from None
