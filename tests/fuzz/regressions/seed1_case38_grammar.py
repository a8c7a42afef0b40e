from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup
with DAG('t996', start_date=datetime(2024, 1, 1), schedule=None, params={'\U00064f0fR⅖5Sfᰪም⇰U}\U00038386\U000a7500\U0005eff4ညᔠ\U000ec545\U000c7bcd4tPZ\u2e71ᛓⳄ‽m9kẶ\u09ba\u1ad3D\U00051829\U000dceff\U0009022eᑰ౭': True, 'p1': 1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111, 'p2': 'x' * 100000}, default_args={'retries': 10**20}) as dag:
    t0 = BashOperator(task_id='t129', bash_command='echo {{ params.p0 }}', retries=..., execution_timeout=lambda: 1)
    t1 = BashOperator(task_id='report.html', bash_command='echo {{ params.missing }}', retries=0.1, execution_timeout=10**30)
