from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup
with DAG('၂∁ỹAᬫ\U000c4f8b𒇲\U000c60ddPۀ⿇𝀄\U000b06f5ྛ\U00049087\U000ba1cf.Ӄbୈ,?\U000fe5140ο\U000f52a7"UĖ;⊙\U0006a9e8᫋ ℻ቡB\U00033783', start_date=datetime(2024, 1, 1), schedule=timedelta(hours=1), params={}, default_args={'execution_timeout': timedelta(days=10**9)}) as dag:
    t0 = BashOperator(task_id='t108', bash_command='echo {{ params.x }}', retries=list(range(100000)), execution_timeout='x' * 100000)
    with TaskGroup('t516') as g1:
        t1 = EmptyOperator(task_id='t908')
    t2 = BashOperator(task_id='t649', bash_command='s\u10cay\U000fa1a2T\U000e4671u\U000934b4\U000dbed1!8ᕔ\u242dz\U000c1023Qa\u1755Vᨅ>v6N᷈\U00095606PR\u0530~E𬈚\U000d2b0e', env={'A': list(range(100000))})
    t2 >> t0
    t0 >> t1
