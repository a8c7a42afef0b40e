"""Partner file import: each partner's new files are loaded, partners with nothing new are skipped.

Written the way the ingestion team writes it: PythonOperator callables with ``**context``,
``AirflowSkipException`` raised when a partner sent nothing (the load after it is skipped,
the audit with ``all_done`` and the summary with ``none_failed`` still run), and
``AirflowFailException`` for a file that must never be retried.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.operators.python import PythonOperator

# What each partner's drop folder holds today (a real DAG would list a bucket).
DROPS = {
    "acme": ["orders_0601.csv", "orders_0602.csv"],
    "globex": [],
    "initech": ["orders_0602.csv"],
}
MAX_FILES = 10


def find_new_files(partner, **context):
    files = DROPS.get(partner, [])
    print(f"{partner}: {len(files)} new file(s)")
    if not files:
        raise AirflowSkipException(f"nothing new from {partner}")
    if len(files) > MAX_FILES:
        raise AirflowFailException(f"{partner} sent {len(files)} files; a person must look")
    return {"partner": partner, "files": files}


def load_files(found):
    rows = 100 * len(found["files"])
    print(f"loaded {rows} rows for {found['partner']}")
    return rows


def audit(ti):
    seen = {"acme": ti.xcom_pull(task_ids="find_acme"), "globex": ti.xcom_pull(task_ids="find_globex")}
    for partner, found in seen.items():
        print(partner, "skipped" if found is None else len(found["files"]))
    return sorted(p for p, found in seen.items() if found is None)


def summarize():
    print("import finished")


with DAG(
    dag_id="partner_file_import",
    start_date=datetime(2024, 6, 1),
    schedule="@daily",
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
) as dag:
    summary = PythonOperator(task_id="summarize", python_callable=summarize, trigger_rule="none_failed")
    audited = PythonOperator(task_id="audit", python_callable=audit, trigger_rule="all_done")
    for name in ("acme", "globex"):
        find = PythonOperator(task_id=f"find_{name}", python_callable=find_new_files, op_kwargs={"partner": name})
        load = PythonOperator(task_id=f"load_{name}", python_callable=load_files, op_kwargs={"found": find.output})
        find >> load >> summary
        find >> audited
