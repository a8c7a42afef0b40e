from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup
with DAG('\U000ee476J\U000557ed\U0010a2fb𠢠ᤪ\U00071676،hỮF᠍\U000ef4f6\U00034650', start_date=datetime(2024, 1, 1), schedule='not a cron', params={'p0': 1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111}, default_args={'execution_timeout': timedelta(days=10**9)}) as dag:
    t0 = EmptyOperator(task_id='t898')
    t1 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(len(dag.params))]
    t2 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(1500)]
    t3 = BashOperator(task_id='␥I4\U0004955ckቖt\U0001939a\U000ae982𪯥ᜃf\U00096ef0𤵣\U0001ad0c^', bash_command='t159', env={'A': None})
    t2 << [t2, t2]
    t2 << [t1, t2]
    t0 >> t0
