"""DAG files of a chosen size, written as teams that generate tasks write them.

``dag_file(n)`` is one DAG of ``n`` tasks: a loop over a list of tables (one task
group per table: an extract Bash task, a load Python task, a check task), a fan-out of
dbt-model tasks written out one per line (as generated code has them), a mapped task and
a long ``a >> b >> ...`` chain over the written-out tasks. ``chain_file(n)`` is a single
chained expression of ``n`` terms. ``repo(folder, files)`` writes a repository of small
DAG files that share one helper module. Used by ``bench/scale.py``; kept apart so tests
can build the same inputs.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["dag_file", "chain_file", "write_repo", "HELPER"]

_HEADER = '''\
"""Generated: {n} tasks."""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, task

TABLES = [{tables}]


def load_table(table: str) -> int:
    print("loading", table)
    return len(table)


@task
def list_partitions() -> list[str]:
    return ["p0", "p1", "p2"]


@task
def process_partition(partition: str) -> str:
    return partition.upper()


with DAG(dag_id="{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    start = EmptyOperator(task_id="start")
    done = EmptyOperator(task_id="done")
'''

_GROUP_LOOP = '''\
    for table in TABLES:
        with TaskGroup(group_id=f"load_{table}"):
            extract = BashOperator(task_id="extract", bash_command=f"extract.sh {table} {{{{ ds }}}}")
            load = PythonOperator(task_id="load", python_callable=load_table, op_kwargs={"table": table})
            check = BashOperator(task_id="check", bash_command=f"check.sh {table}")
            start >> extract >> load >> check >> done
'''


def _split(n: int) -> tuple[int, int, int]:
    """Tasks in groups (3 per table), written-out model tasks, and the rest (start, done, 2 mapped)."""
    fixed = 4 if n >= 4 else 0
    tables = (n - fixed) // 6
    models = n - fixed - 3 * tables
    return tables, models, fixed


def dag_file(n: int, dag_id: str | None = None) -> str:
    """A DAG file of exactly ``n`` tasks (``n`` >= 1)."""
    dag_id = dag_id or f"scaled_{n}"
    if n < 4:
        body = "\n".join(f'    t{i} = BashOperator(task_id="t{i}", bash_command="echo {i}")' for i in range(n))
        chain = " >> ".join(f"t{i}" for i in range(n))
        return (f'from datetime import datetime\n\nfrom airflow.providers.standard.operators.bash import BashOperator\n'
                f'from airflow.sdk import DAG\n\nwith DAG(dag_id="{dag_id}", schedule=None, '
                f'start_date=datetime(2024, 1, 1)) as dag:\n{body}\n' + (f"    {chain}\n" if n > 1 else ""))
    tables, models, _ = _split(n)
    head = _HEADER.format(n=n, dag_id=dag_id, tables=", ".join(f'"t{i:05d}"' for i in range(tables)))
    head = head.replace("from airflow.sdk import", "from airflow.providers.standard.operators.python import "
                        "PythonOperator\nfrom airflow.sdk import")
    lines = [head, _GROUP_LOOP if tables else ""]
    lines += [f'    model_{i:05d} = BashOperator(task_id="model_{i:05d}", '
              f'bash_command="dbt run --select model_{i:05d}")\n' for i in range(models)]
    if models:
        # A long chain expression over half the models, a fan-out/fan-in over the other half.
        half = models // 2
        chained = " >> ".join(f"model_{i:05d}" for i in range(half))
        lines.append(f"    start >> {chained} >> done\n" if half else "")
        if models > half:
            fan = ", ".join(f"model_{i:05d}" for i in range(half, models))
            lines.append(f"    start >> [{fan}] >> done\n")
    lines.append("    process_partition.expand(partition=list_partitions()) >> done\n")
    return "".join(lines)


def chain_file(n: int) -> str:
    """One DAG whose ``n`` tasks are written out and linked by a single ``a >> b >> ...`` of ``n`` terms."""
    tasks = "".join(f'    t{i} = BashOperator(task_id="t{i}", bash_command="echo {i}")\n' for i in range(n))
    return (f'from datetime import datetime\n\nfrom airflow.providers.standard.operators.bash import BashOperator\n'
            f'from airflow.sdk import DAG\n\nwith DAG(dag_id="chain_{n}", schedule=None, '
            f'start_date=datetime(2024, 1, 1)) as dag:\n{tasks}    '
            + " >> ".join(f"t{i}" for i in range(n)) + "\n")


HELPER = '''\
"""Shared settings of the generated repository's DAGs."""

from datetime import datetime, timedelta

START = datetime(2024, 1, 1)
DEFAULT_ARGS = {"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=5)}
'''

_REPO_DAG = '''\
"""Generated DAG {i} of a repository."""

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from common.settings import DEFAULT_ARGS, START

with DAG(dag_id="repo_dag_{i:04d}", schedule="@daily", start_date=START, catchup=False,
         default_args=DEFAULT_ARGS) as dag:
    start = EmptyOperator(task_id="start")
    extract = BashOperator(task_id="extract", bash_command="extract.sh {i} {{{{ ds }}}}")
    transform = BashOperator(task_id="transform", bash_command="transform.sh {i}")
    load = BashOperator(task_id="load", bash_command="load.sh {i}")
    start >> extract >> transform >> load
'''


def write_repo(folder: Path, files: int) -> Path:
    """``files`` small DAG files under ``folder/dags`` sharing ``common/settings.py``; returns the dags folder."""
    dags = folder / "dags"
    (dags / "common").mkdir(parents=True, exist_ok=True)
    (dags / "common" / "__init__.py").write_text("", encoding="utf-8")
    (dags / "common" / "settings.py").write_text(HELPER, encoding="utf-8")
    for i in range(files):
        (dags / f"dag_{i:04d}.py").write_text(_REPO_DAG.format(i=i), encoding="utf-8")
    return dags
