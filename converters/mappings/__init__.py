"""Mapping rules: each Airflow operator family becomes a KFP task description.

``map_graph(graph, config)`` maps a whole migration graph; ``registry`` says which rule
maps which operator; each rule module carries ``EXAMPLES`` that the tests run. Names are
loaded on first use (PEP 562), so a rule module or a report reader imports only what it uses.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["map_graph", "map_task", "FATES", "KfpTask", "MappedDag", "RULE_MODULES", "check_config", "resolve", "rule_names"]

_FROM = {"map_graph": "mapper", "map_task": "mapper", "FATES": "model", "KfpTask": "model", "MappedDag": "model",
         "RULE_MODULES": "registry", "check_config": "registry", "resolve": "registry", "rule_names": "registry"}


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)
    return value
