"""Which rule maps which operator: built-in qualified names plus the user's config.

A rule module exposes ``RULES`` (rule names), ``OPERATORS`` (qualified name -> rule
name), ``map_task(ctx, rule)`` and ``EXAMPLES``. ``[tool.af2kfp.operators]`` maps a user
class to a rule name, e.g. ``"mycompany.GKEPodOperator" = "KubernetesPodOperator"``.
"""

from __future__ import annotations

from types import ModuleType

from converters.config import Config
from converters.errors import InputError
from converters.mappings import bash, docker, empty, kubernetes, python, unsupported

__all__ = ["RULE_MODULES", "rule_names", "resolve", "check_config", "UNSUPPORTED"]

RULE_MODULES: tuple[ModuleType, ...] = (docker, kubernetes, bash, python, empty, unsupported)
UNSUPPORTED = "unsupported"

_BY_RULE = {rule: module for module in RULE_MODULES for rule in module.RULES}
_BY_OPERATOR = {name: rule for module in RULE_MODULES for name, rule in module.OPERATORS.items()}


def rule_names() -> list[str]:
    """Every rule a config may name (``unsupported`` excluded)."""
    return sorted(rule for rule in _BY_RULE if rule != UNSUPPORTED)


def check_config(config: Config) -> None:
    """Reject a config naming a rule that does not exist (exit 2 with the valid names)."""
    for operator, rule in sorted(config.operators.items()):
        if rule not in _BY_RULE or rule == UNSUPPORTED:
            where = config.source or "config"
            raise InputError(
                f"{where}: [tool.af2kfp.operators] maps {operator!r} to unknown rule {rule!r}; "
                f"known rules: {', '.join(rule_names())}"
            )


def resolve(operator: str, config: Config) -> tuple[str, ModuleType, bool]:
    """``(rule name, rule module, from_config)`` for a qualified operator name."""
    if operator in _BY_OPERATOR:
        rule = _BY_OPERATOR[operator]
        return rule, _BY_RULE[rule], False
    rule = config.operators.get(operator)
    if rule in _BY_RULE:
        return rule, _BY_RULE[rule], True
    return UNSUPPORTED, unsupported, False
