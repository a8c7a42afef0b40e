"""Mapping rules: each Airflow operator family becomes a KFP task description.

``map_graph(graph, config)`` maps a whole migration graph; ``registry`` says which rule
maps which operator; each rule module carries ``EXAMPLES`` that the tests run.
"""

from converters.mappings.mapper import map_graph, map_task
from converters.mappings.model import FATES, KfpTask, MappedDag
from converters.mappings.registry import RULE_MODULES, check_config, resolve, rule_names

__all__ = ["map_graph", "map_task", "FATES", "KfpTask", "MappedDag", "RULE_MODULES", "check_config", "resolve", "rule_names"]
