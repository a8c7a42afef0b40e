"""An old DAG file that still has a Python 2 print statement (a syntax error on Python 3).

Airflow reports an import error for it; af2kfp must report a finding with file and
line and go on with the other files.
"""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator

dag = DAG("broken_python2_syntax", start_date=datetime(2018, 6, 1), schedule_interval="@daily")

print "registering the nightly archive job"

archive = BashOperator(task_id="archive_logs", bash_command="tar czf /archive/logs.tgz /var/log/app", dag=dag)
