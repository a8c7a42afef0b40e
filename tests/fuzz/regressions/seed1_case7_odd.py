from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup
with DAG('\ud800', start_date=datetime(2024, 1, 1), description='t299', tags=['t102'], doc_md='..') as dag:
    t0 = BashOperator(task_id='𓋋Dmrᯘ\U000717c6\U00094f23ටނtH\U000de4c6\u202eⷖ❖\U0006f401\U00048397᳤Q\U000d202cⰝᨯ\U00058ad2❍⩻}ḇⴤ\U000bbbd8+&', bash_command='t463')
    t1 = BashOperator(task_id='t468', bash_command='\u200f')
