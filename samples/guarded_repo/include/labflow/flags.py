"""Jinja flags DAGs pass to the lab operators' ``skip`` field: rendered per run from its params."""

from __future__ import annotations


def skip_unless(param: str) -> str:
    """Renders "yes" (skip) unless the run's ``param`` is "yes"."""
    return "{% if params." + param + ' == "yes" %}{% else %}yes{% endif %}'


def skip_when_empty(param: str) -> str:
    """Renders "yes" (skip) when the run's ``param`` is empty."""
    return "{% if params." + param + " and params." + param + "|length %}{% else %}yes{% endif %}"
