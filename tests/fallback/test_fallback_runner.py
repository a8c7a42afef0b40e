"""The fallback end to end: convert a DAG, compile it, run each fallback container's command line here.

Real parts only: ``af2kfp convert`` on a DAG file, the real kfp compiler, and Airflow's
own operators executed by the runner ``pipeline.yaml`` carries (``python -c <its text>``) in a
subprocess with the exact command, args and secret-to-env mapping of the compiled pipeline, in
an environment that has Airflow and its providers but not af2kfp, as the official
``apache/airflow`` image (``tests.fallback.compiled``).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

from af2kfp.bridge.cli import main
from tests.fallback.compiled import executors, run_executor

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

# What the pipeline's run context gives a fallback task whose templates Airflow renders with dates.
DATES = {"ts": "2024-03-05T02:30:00+00:00", "data_interval_start": "2024-03-05 02:30:00+00:00",
         "data_interval_end": "2024-03-05 02:30:00+00:00"}
DAG = textwrap.dedent(
    """
    from airflow.providers.docker.operators.docker import DockerOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.sensors.bash import BashSensor
    from airflow.providers.standard.sensors.filesystem import FileSensor
    from airflow.sdk import DAG

    def alert(context):
        print("failed")

    with DAG("drops", schedule=None, default_args={"on_failure_callback": alert}):
        wait = FileSensor(task_id="wait", fs_conn_id="drops", filepath="feed_{{ ds_nodash }}.csv",
                          poke_interval=1, timeout=20, mode="reschedule")
        probe = BashSensor(task_id="probe", bash_command="test -s {{ conn.drops.extra_dejson.path }}/feed_{{ ds_nodash }}.csv",
                           poke_interval=1, timeout=10)
        count = BashOperator(task_id="count", bash_command="wc -l < {{ conn.drops.extra_dejson.path }}/feed_{{ ds_nodash }}.csv")
        show = DockerOperator(task_id="show", image="alpine:3", command=["echo", count.output])
        wait >> probe >> count >> show
    """
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    root = tmp_path_factory.mktemp("fallback")
    (root / "dags").mkdir()
    (root / "dags" / "drops.py").write_text(DAG)
    (root / "pyproject.toml").write_text(  # the default airflow_image: the official apache/airflow
        '[tool.af2kfp.operators]\n"airflow.providers.standard.operators.bash.BashOperator" = "fallback"\n')
    out = root / "out"
    assert main(["convert", str(root / "dags"), "-o", str(out), "--config", str(root / "pyproject.toml")]) == 0
    drop = root / "drop"
    drop.mkdir()
    return root, out, executors(out / "drops" / "pipeline.yaml"), json.loads((out / "report.json").read_text())


def test_operators_of_the_official_image_are_converted_with_what_they_read(compiled):
    _, out, found, report = compiled
    dag = report["dags"][0]
    assert {t["task_id"]: t["fate"] for t in dag["airflow"]["tasks"]} == {
        "wait": "converted", "probe": "converted", "count": "converted", "show": "converted"}
    codes = {(f["task_id"], f["code"], f["severity"]) for f in report["findings"]}
    assert {("wait", "M225", "info"), ("wait", "M207", "info"), ("probe", "M225", "info"),
            ("count", "M225", "info"), ("wait", "M203", "info")} <= codes
    assert found["wait"]["container"]["image"] == "apache/airflow:3.3.2"
    assert found["wait"]["secrets"][0]["secretName"] == "airflow-conn-drops"
    runner = (out / "drops" / "airflow_operator_runner.py").read_text()  # beside pipeline.py, and inside the yaml
    assert found["wait"]["container"]["command"] == ["python", "-c", runner]
    assert not [line for line in runner.splitlines()  # the stock image has no af2kfp
                if line.lstrip().startswith(("import af2kfp", "from af2kfp"))]


def test_compiled_commands_run_the_original_operators(compiled):
    root, _, found, _ = compiled
    drop = root / "drop"
    (drop / "feed_20240305.csv").write_text("id\n1\n2\n")
    secrets = {"airflow-conn-drops": f"fs://?path={drop}"}
    for task in ("wait", "probe"):
        done = run_executor(found[task], secrets, root, inputs=DATES)
        assert done.returncode == 0, done.stderr[-2000:]
    output = root / "outputs" / "count" / "xcom"
    done = run_executor(found["count"], secrets, root, output=output, inputs=DATES)
    assert done.returncode == 0, done.stderr[-2000:]
    assert output.read_text() == "3"  # BashOperator's XCom: the last line of stdout, for `show`
    assert "{{$.inputs.parameters['input_1']}}" in found["show"]["container"]["args"]
    args = found["wait"]["container"]["args"]  # the run context's dates, as every task's
    assert args[args.index("--logical-date") + 1] == "{{$.inputs.parameters['ts']}}"


def test_operator_failure_exits_non_zero_with_the_operators_error(compiled):
    root, _, found, _ = compiled
    secrets = {"airflow-conn-drops": f"fs://?path={root / 'missing'}"}
    done = run_executor(found["count"], secrets, root, output=root / "never", inputs=DATES)
    assert done.returncode == 1
    assert "Bash command failed" in done.stderr
    assert not (root / "never").exists()


def test_bad_kwargs_exit_2_naming_the_problem(compiled):
    root, _, found, _ = compiled
    executor = json.loads(json.dumps(found["count"]))
    args = executor["container"]["args"]
    args[args.index("--kwargs") + 1] = json.dumps({"bash_command": "true", "no_such_argument": 1})
    done = run_executor(executor, {"airflow-conn-drops": "fs://"}, root, output=root / "x", inputs=DATES)
    assert done.returncode == 2 and "no_such_argument" in done.stderr


SQLITE = "airflow.providers.sqlite"


def test_sql_sample_runs_against_sqlite(tmp_path):
    """samples/dags/ledger_checks_fallback.py: SQLExecuteQueryOperator through a SQLite connection."""
    pytest.importorskip(SQLITE, reason="apache-airflow-providers-sqlite is not installed")
    import sqlite3

    sample = Path(__file__).resolve().parents[2] / "samples" / "dags" / "ledger_checks_fallback.py"
    out = tmp_path / "out"
    assert main(["convert", str(sample), "-o", str(out)]) in (0, 1)
    found = executors(out / "ledger_checks_fallback" / "pipeline.yaml")
    db = tmp_path / "ledger.db"
    sqlite3.connect(db).executescript("create table ledger_runs(day text);")
    # Airflow's documented form of a SQLite connection URI: the file path, quoted, as the host.
    secrets = {"airflow-conn-ledger-db": f"sqlite://{quote(str(db), safe='')}"}
    for task in ("record_run", "count_runs"):
        done = run_executor(found[task], secrets, tmp_path, inputs=DATES)
        assert done.returncode == 0, done.stderr[-2000:]
    assert sqlite3.connect(db).execute("select day from ledger_runs").fetchall() == [("2024-03-05",)]


def test_arguments_unknown_at_conversion_come_from_pipeline_parameters(tmp_path):
    """A command built by a helper outside the scanned files and an env value from an Airflow Variable:
    the fallback task takes both from pipeline parameters (--set), and the operator runs with them."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "greet.py").write_text(textwrap.dedent("""
        from airflow.models import Variable
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG
        from team_shell import greeting

        with DAG("greet_params", schedule=None):
            BashOperator(task_id="greet", bash_command=greeting("{{ ds }}"), env={"TARGET": Variable.get("target")})
    """))
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.af2kfp.operators]\n"airflow.providers.standard.operators.bash.BashOperator" = '
                      '"fallback"\n')
    out = tmp_path / "out"
    assert main(["convert", str(dags), "-o", str(out), "--config", str(config), "--fail-on", "none"]) == 0
    report = json.loads((out / "report.json").read_text())
    dag = report["dags"][0]
    assert {p["name"]: p["kind"] for p in dag["kfp"]["parameters"]} == {"greet_bash_command": "argument",
                                                                         "target": "variable", "logical_date": "run"}
    assert sorted(f["code"] for f in report["findings"] if f["code"] == "M283") == ["M283", "M283"]
    assert dag["airflow"]["tasks"][0]["fate"] == "review"
    found = executors(out / "greet_params" / "pipeline.yaml")
    marker = tmp_path / "greeted.txt"
    done = run_executor(found["greet"], {}, tmp_path, inputs={**DATES,
        "argument_1": f'echo "hello $TARGET on {{{{ ds }}}}" > {marker}', "argument_2": "world"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert marker.read_text() == "hello world on 2024-03-05\n"
    executor = json.loads(json.dumps(found["greet"]))  # without --set the runner says what is missing
    args = executor["container"]["args"]
    del args[args.index("--set"):]
    missing = run_executor(executor, {}, tmp_path, inputs=DATES)
    assert missing.returncode == 2 and "pass it with --set" in missing.stderr


def test_an_airflow_1_10_class_runs_as_its_replacement_without_af2kfp(tmp_path):
    """``airflow.operators.sqlite_operator.SqliteOperator`` is gone from Airflow 3: the task runs
    SQLExecuteQueryOperator with ``sqlite_conn_id`` renamed (M258); the official image has no sqlite
    provider, so it is review with the package to add (M256), and it runs where the provider is."""
    pytest.importorskip(SQLITE, reason="apache-airflow-providers-sqlite is not installed")
    import sqlite3

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "legacy.py").write_text(textwrap.dedent("""
        from datetime import datetime

        from airflow import DAG
        from airflow.operators.sqlite_operator import SqliteOperator

        with DAG("legacy_sqlite", schedule_interval="@daily", start_date=datetime(2021, 1, 1)) as dag:
            SqliteOperator(task_id="record", sqlite_conn_id="ledger_db",
                           sql="insert into runs values ('{{ ds }}')")
    """))
    out = tmp_path / "out"
    assert main(["convert", str(dags), "-o", str(out), "--fail-on", "none"]) == 0
    report = json.loads((out / "report.json").read_text())
    findings = {f["code"]: f["message"] for f in report["findings"] if f["task_id"] == "record"}
    assert report["dags"][0]["airflow"]["tasks"][0]["fate"] == "review"
    assert "replacement airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator" in findings["M258"]
    assert "sqlite_conn_id -> conn_id" in findings["M258"]
    assert "pip install apache-airflow-providers-sqlite" in findings["M256"]
    found = executors(out / "legacy_sqlite" / "pipeline.yaml")
    db = tmp_path / "ledger.db"
    sqlite3.connect(db).executescript("create table runs(day text);")
    done = run_executor(found["record"], {"airflow-conn-ledger-db": f"sqlite://{quote(str(db), safe='')}"}, tmp_path,
                        inputs=DATES)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sqlite3.connect(db).execute("select day from runs").fetchall() == [("2024-03-05",)]


def test_a_lambda_argument_runs_compiled_from_its_text(tmp_path):
    """SqlSensor(success=lambda ...): the lambda travels as its text and the sensor calls it in the
    container; it pokes until the table has two rows, then succeeds (and times out with one)."""
    pytest.importorskip(SQLITE, reason="apache-airflow-providers-sqlite is not installed")
    import sqlite3

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "ready.py").write_text(textwrap.dedent("""
        from airflow.providers.common.sql.sensors.sql import SqlSensor
        from airflow.sdk import DAG

        with DAG("ready_rows", schedule=None):
            SqlSensor(task_id="two_rows", conn_id="ledger_db", sql="select count(*) from runs",
                      success=lambda first: int(first) >= 2, poke_interval=1, timeout=3)
    """))
    out = tmp_path / "out"
    assert main(["convert", str(dags), "-o", str(out), "--fail-on", "none"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert not [f for f in report["findings"] if f["code"] in ("M283", "M201")]
    assert not report["dags"][0]["kfp"]["parameters"] or all(
        p["kind"] == "run" for p in report["dags"][0]["kfp"]["parameters"])
    found = executors(out / "ready_rows" / "pipeline.yaml")
    db = tmp_path / "ledger.db"
    sqlite3.connect(db).executescript("create table runs(day text); insert into runs values ('a');")
    secrets = {"airflow-conn-ledger-db": f"sqlite://{quote(str(db), safe='')}"}
    waited = run_executor(found["two_rows"], secrets, tmp_path, inputs=DATES)
    assert waited.returncode == 1 and "timed out" in waited.stderr.lower()
    sqlite3.connect(db).executescript("insert into runs values ('b');")
    done = run_executor(found["two_rows"], secrets, tmp_path, inputs=DATES)
    assert done.returncode == 0, done.stderr[-2000:]
