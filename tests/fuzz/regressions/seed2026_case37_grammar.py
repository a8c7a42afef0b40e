from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup
with DAG('t101', start_date=datetime(2024, 1, 1), schedule='* * * * * * *', params={}, default_args={'retries': 10**20}) as dag:
    t0 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(len(dag.params))]
    t1 = BashOperator(task_id='t199', bash_command='t227', env={'A': -(2**63)})
    with TaskGroup('t794') as g2:
        t2 = EmptyOperator(task_id='v\U00041edc🪂Tv\U0001a56dᑯ:K\U0004a628?ኗ\U000b47d1O\U00012dc1#*\U000c6e1e]ᵏ⋂Fਊb')
    t3 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(1500)]
    t4 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(0)]
    t5 = BashOperator(task_id='\ud800', bash_command='t443', env={'A': -0.0})
    t2 << [t2, t2]
    t4 >> t4
    t3 << [t3, t3]
