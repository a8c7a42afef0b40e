from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup
with DAG('\ufeff', start_date=datetime(2024, 1, 1), schedule='@daily', params={'p0': float('nan')}, default_args={}) as dag:
    t0 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(-1)]
    t1 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(1500)]
    with TaskGroup('~)⣨⪬\U0001ebbeష\U000a27ae') as g2:
        t2 = EmptyOperator(task_id='t248')
    t3 = EmptyOperator(task_id="_\U0005b0b7Οℿầ3ลᕜt𠡆'ৢ𩼴\U000e826a(\U0007cd2ev\U000f2c10X\U0004a341ⓡ🅃\U00065d77❫")
    t4 = BashOperator(task_id='t208', bash_command='echo {{ params.x }}', retries=-1e999, execution_timeout=0.1)
    t5 = [BashOperator(task_id=f'loop_{i}', bash_command='echo {{ params }}') for i in range(3)]
    t0 >> t0
    t1 >> t2
    t4 >> t4
