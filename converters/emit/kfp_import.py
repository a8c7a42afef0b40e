"""Import kfp for compiling without its API client (and the Kubernetes client library under it).

``import kfp`` runs ``kfp/__init__.py``, which imports ``kfp.client``, which imports the whole
``kubernetes`` client: ~0.6 s of CPU in every compiling process, four times what compiling
needs (``kfp.dsl``, ``kfp.compiler``). kfp itself skips those imports when ``_KFP_RUNTIME`` is
``true`` (its components' containers set it); that is done here for the package's own
``__init__`` only, so ``kfp.dsl`` and ``kfp.compiler`` load whole as usual. The three names the
skipped lines would have bound (``kfp.Client``, ``kfp.dsl``, ``kfp.components``) are served on
first use, so other code of the same process sees the kfp it expects.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

__all__ = ["load_kfp"]

_SKIPPED = {"Client": ("kfp.client", "Client"), "dsl": ("kfp.dsl", None), "components": ("kfp.components", None)}


def _late(name: str) -> Any:
    """``kfp.<name>`` for the names whose import ``_KFP_RUNTIME`` skipped, imported on first use."""
    if name not in _SKIPPED:
        raise AttributeError(f"module 'kfp' has no attribute {name!r}")
    module, attribute = _SKIPPED[name]
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded


def load_kfp() -> ModuleType:
    """The ``kfp`` package, imported (when not yet) without its client."""
    if "kfp" in sys.modules:
        return sys.modules["kfp"]
    saved = os.environ.get("_KFP_RUNTIME")
    os.environ["_KFP_RUNTIME"] = "true"
    try:
        import kfp
    finally:
        if saved is None:
            os.environ.pop("_KFP_RUNTIME", None)
        else:
            os.environ["_KFP_RUNTIME"] = saved
    kfp.__dict__.setdefault("__getattr__", _late)
    return kfp
