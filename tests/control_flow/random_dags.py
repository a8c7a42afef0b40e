"""Random DAGs of branches, short circuits and trigger rules, written as DAG files.

Each task appends its name to ``$CF_MARKERS`` (so a run says which tasks ran); branches
and short circuits return a fixed decision from ``op_kwargs``, so the DAG is
deterministic. The same seed always gives the same file.
"""

from __future__ import annotations

import random

__all__ = ["dag_source"]

_RULES = ["all_success"] * 4 + ["none_failed_min_one_success", "all_done", "none_failed", "one_success", "always"]

_HEADER = '''\
import pendulum
from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator
from airflow.sdk import DAG


def mark(name: str, result=None):
    import os

    with open(os.environ["CF_MARKERS"], "a", encoding="utf-8") as markers:
        markers.write(name + "\\n")
    return result


'''


def _operator(task_id: str, kind: str, arg: object, rule: str, skip_all: bool) -> str:
    extra = f', trigger_rule="{rule}"' if rule != "all_success" else ""
    if kind == "branch":
        return (f'BranchPythonOperator(task_id="{task_id}", python_callable=mark, '
                f'op_kwargs={{"name": "{task_id}", "result": {arg!r}}}{extra})')
    if kind == "short":
        return (f'ShortCircuitOperator(task_id="{task_id}", python_callable=mark, '
                f'op_kwargs={{"name": "{task_id}", "result": {arg}}}, '
                f"ignore_downstream_trigger_rules={skip_all}{extra})")
    return f'PythonOperator(task_id="{task_id}", python_callable=mark, op_kwargs={{"name": "{task_id}"}}{extra})'


def dag_source(seed: int) -> str:
    """A DAG file with one DAG ``cf_random_<seed>`` of 5 to 9 tasks."""
    r = random.Random(seed)
    n = r.randint(5, 9)
    edges: set[tuple[int, int]] = set()
    for j in range(1, n):
        for i in r.sample(range(j), k=min(j, r.choice([1, 1, 2]))):
            edges.add((i, j))
    lines = [_HEADER + f'with DAG("cf_random_{seed}", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):']
    for i in range(n):
        down = sorted(j for a, j in edges if a == i)
        roll = r.random()
        if down and roll < 0.2:
            kind, arg = "branch", f"t{r.choice(down)}"
        elif down and len(down) > 1 and roll < 0.3:
            kind, arg = "branch", [f"t{j}" for j in r.sample(down, k=r.randint(0, len(down)))]
        elif down and roll < 0.45:
            kind, arg = "short", r.random() < 0.5
        else:
            kind, arg = "work", None
        rule = r.choice(_RULES) if i else "all_success"
        lines.append(f"    t{i} = {_operator(f't{i}', kind, arg, rule, r.random() < 0.7)}")
    lines += [f"    t{a} >> t{b}" for a, b in sorted(edges)]
    return "\n".join(lines) + "\n"
