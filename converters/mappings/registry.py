"""Which rule maps which operator: built-in qualified names plus the user's config.

A rule module exposes ``RULES`` (rule names), ``OPERATORS`` (qualified name -> rule
name), ``map_task(ctx, rule)``, ``EXAMPLES`` and the ``MAPPED_ARGS``/``DROPPED_ARGS``/
``FLAGGED_ARGS`` the coverage page lists. ``[tool.af2kfp.operators]`` maps a user class
to a rule name (``"mycompany.GKEPodOperator" = "KubernetesPodOperator"``) or to a rule
of the user's own, ``"module.path:function"``: a converter plugin importable where the
converter runs (never DAG code), called as ``function(ctx, rule) -> KfpTask | None``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any, Callable

from af2kfp.converters.config import Config
from af2kfp.converters.errors import InputError
from af2kfp.converters.mappings import bash, branch, docker, empty, fallback, kubernetes, python, trigger, unsupported
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.model import KfpTask

__all__ = ["RULE_MODULES", "rule_names", "resolve", "resolve_inherited", "check_config", "UNSUPPORTED", "UserRule", "load_user_rule"]

RULE_MODULES: tuple[ModuleType, ...] = (docker, kubernetes, bash, python, branch, empty, trigger, fallback, unsupported)
UNSUPPORTED = "unsupported"

_BY_RULE = {rule: module for module in RULE_MODULES for rule in module.RULES}
_BY_OPERATOR = {name: rule for module in RULE_MODULES for name, rule in module.OPERATORS.items()}


@dataclass(frozen=True)
class UserRule:
    """A user's rule function seen as a rule module: ``map_task`` checks what it returns."""

    spec: str
    function: Callable[[MapContext, str], Any]

    def map_task(self, ctx: MapContext, rule: str) -> KfpTask | None:
        result = self.function(ctx, rule)
        if result is not None and not isinstance(result, KfpTask):
            raise InputError(f"rule {self.spec} returned {type(result).__name__} for task "
                             f"{ctx.task.task_id!r} ({ctx.task.file}:{ctx.task.line}); expected KfpTask or None")
        return result


@lru_cache(maxsize=None)
def load_user_rule(spec: str) -> UserRule:
    """Import ``module.path:function``; an import failure is the user's input error."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise InputError(f"rule {spec!r} must be a built-in rule name or 'module.path:function'")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except ImportError as exc:
        raise InputError(f"rule {spec!r}: cannot import {module_name}: {exc}") from exc
    except AttributeError as exc:
        raise InputError(f"rule {spec!r}: {module_name} has no {attribute!r}") from exc
    if not callable(function):
        raise InputError(f"rule {spec!r}: {attribute} is not callable")
    return UserRule(spec, function)


def rule_names() -> list[str]:
    """Every rule a config may name (``unsupported`` excluded)."""
    return sorted(rule for rule in _BY_RULE if rule != UNSUPPORTED)


def check_config(config: Config) -> None:
    """Reject a config naming a rule that does not exist or a user rule that does not import (exit 2)."""
    where = config.source or "config"
    imported = sorted(rule for rule in config.operators.values() if ":" in rule)
    if imported and not config.rules_allowed:
        raise InputError(
            f"{where} names rule modules that af2kfp would import and run ({', '.join(imported)}); a config found "
            "beside the DAGs is treated like the repository's own code, so it is not run unless asked: pass "
            f"--config {where} (or --allow-config-rules) if you trust it")
    for operator, rule in sorted(config.operators.items()):
        if ":" in rule:
            try:
                load_user_rule(rule)
            except InputError as exc:
                raise InputError(f"{where}: [tool.af2kfp.operators] {operator!r}: {exc}") from exc
        elif rule not in _BY_RULE or rule == UNSUPPORTED:
            raise InputError(
                f"{where}: [tool.af2kfp.operators] maps {operator!r} to unknown rule {rule!r}; "
                f"known rules: {', '.join(rule_names())}, or 'module.path:function'"
            )


def resolve_inherited(operator: str, bases: list[str], config: Config) -> tuple[str, Any, bool, str | None]:
    """:func:`resolve` for a repository operator class: the class itself, else its nearest base with a rule.

    Returns ``(rule name, rule module or UserRule, from_config, the base whose rule it is or None)``; the
    config wins at every step, so a class (or an intermediate base) listed there keeps the rule it names.
    """
    for name in [operator, *bases]:
        rule, module, from_config = resolve(name, config)
        if module is not unsupported:
            return rule, module, from_config, None if name == operator else name
    return UNSUPPORTED, unsupported, False, None


def resolve(operator: str, config: Config) -> tuple[str, Any, bool]:
    """``(rule name, rule module or UserRule, from_config)`` for a qualified operator name.

    The config wins over the built-in table, so ``BashOperator = "fallback"`` runs it as it is.
    """
    rule = config.operators.get(operator)
    if rule in _BY_RULE:
        return rule, _BY_RULE[rule], True
    if rule and ":" in rule:
        return rule, load_user_rule(rule), True
    if operator in _BY_OPERATOR:
        rule = _BY_OPERATOR[operator]
        return rule, _BY_RULE[rule], False
    return UNSUPPORTED, unsupported, False
