"""Shared code of Acme's DAGs: deployment settings, the team's operators and task builders."""
