"""Bad input never stops the run: each bad file is a finding naming file and line."""

from __future__ import annotations

import json
import time
import socket
import textwrap
from pathlib import Path

import pytest

from af2kfp.converters.analysis import analyze_paths
from af2kfp.converters.errors import InputError
from af2kfp.converters.graph import graph_from_json, graph_to_json

GOOD = textwrap.dedent("""
    from airflow import DAG
    from airflow.operators.empty import EmptyOperator
    with DAG("good"):
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
""")


def _folder(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        else:
            path.write_bytes(content)
    return tmp_path


@pytest.mark.parametrize(
    ("content", "code", "line", "words"),
    [
        ("from airflow import DAG\nwith DAG('x') as dag:\n    t = (\n", "A101", None, "syntax error"),
        ("import os\nprint 'hello'\n", "A101", 2, "Python 2"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "A102", None, "binary"),
        ("# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"), "A102", None, "UTF-8"),
    ],
    ids=["syntax-error", "python2", "binary", "latin-1"],
)
def test_unparsable_files_are_findings_and_the_run_goes_on(tmp_path, content, code, line, words):
    folder = _folder(tmp_path, {"bad.py": content, "good.py": GOOD})
    analysis = analyze_paths([folder])
    assert [g.graph["dag"].dag_id for g in analysis.graphs] == ["good"]
    [finding] = analysis.findings
    assert finding.code == code and finding.file.endswith("bad.py")
    assert words in finding.message + finding.suggestion
    if line is not None:
        assert finding.line == line


def test_empty_and_non_dag_files_are_fine(tmp_path):
    folder = _folder(tmp_path, {"empty.py": "", "util.py": "def f():\n    return 1\n", "good.py": GOOD})
    (folder / "__init__.py").write_text("")
    analysis = analyze_paths([folder])
    assert len(analysis.graphs) == 1
    assert [(f.code, f.severity.value, Path(f.file).name) for f in analysis.findings] == [("A116", "info", "empty.py")]
    assert [Path(f).name for f in analysis.files] == ["__init__.py", "empty.py", "good.py", "util.py"]


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        analyze_paths([tmp_path / "nope"])


def test_cycle_is_a_finding_and_the_graph_is_kept(tmp_path):
    folder = _folder(
        tmp_path,
        {"cycle.py": """
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        with DAG("loop"):
            a = EmptyOperator(task_id="a"); b = EmptyOperator(task_id="b"); c = EmptyOperator(task_id="c")
            a >> b >> c >> a
    """},
    )
    [graph] = analyze_paths([folder]).graphs
    assert set(graph.edges) == {("a", "b"), ("b", "c"), ("c", "a")}
    [finding] = graph.graph["findings"]
    assert finding.code == "A105" and finding.dag_id == "loop" and ">>" in finding.suggestion


def test_side_effects_of_a_dag_file_never_run(tmp_path):
    """Importing this file would write a file and open a socket; analyzing it must do neither."""
    marker = tmp_path / "pwned.txt"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    folder = tmp_path / "dags"
    folder.mkdir()
    _folder(
        folder,
        {"evil.py": f"""
        import socket, subprocess, os
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        open({str(marker)!r}, "w").write("ran")
        socket.create_connection(("127.0.0.1", {port}))
        os.system("touch {marker}")
        subprocess.run(["touch", {str(marker)!r}])
        exec("open({str(marker)!r}, 'w')")
        with DAG("evil"):
            BashOperator(task_id=open({str(marker)!r}).read(), bash_command="x")
    """},
    )
    analysis = analyze_paths([folder])
    assert not marker.exists()
    with pytest.raises(socket.timeout):
        listener.accept()
    listener.close()
    [graph] = analysis.graphs
    assert [f.code for f in graph.graph["findings"]] == ["A108"]


def test_graphs_round_trip_through_json(tmp_path):
    folder = _folder(
        tmp_path,
        {"dag.py": """
        from datetime import timedelta
        from airflow.sdk import DAG, task
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
        from kubernetes.client import models as k8s
        with DAG("rt", default_args={"retries": 1, "retry_delay": timedelta(seconds=30)}, params={"$x": 1}):
            @task
            def numbers():
                return [1, 2]
            @task
            def show(n):
                print(n)
            pod = KubernetesPodOperator(task_id="pod", image="x", arguments=[numbers()],
                                        resources=k8s.V1ResourceRequirements(limits={"cpu": "1"}),
                                        env_vars={"K": UNKNOWN_NAME})
            show.expand(n=numbers()) >> pod
    """},
    )
    [graph] = analyze_paths([folder]).graphs
    data = graph_to_json(graph)
    assert graph_to_json(graph_from_json(json.loads(json.dumps(data)))) == data


def test_resource_bombs_are_not_evaluated(tmp_path):
    """Evaluation is bounded: exponential growth, huge format widths and endless loops stop quickly."""
    folder = _folder(
        tmp_path,
        {"bombs.py": """
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        grow = [0]
        for _ in range(100):
            grow.extend(grow)
            grow += grow
        text = "x"
        for _ in range(100):
            text = text + text
        wide = "{:>999999999}".format("x")
        wide_f = f"{'x':>999999999}"
        padded = "%999999999s" % "x"
        big = 10 ** 10 ** 10
        with DAG("bombs"):
            for i in range(10 ** 12):
                BashOperator(task_id=f"t{i}", bash_command="x")
    """},
    )
    started = time.perf_counter()
    [graph] = analyze_paths([folder]).graphs
    assert time.perf_counter() - started < 20
    assert len(graph) == 0  # range(10**12) is not unrolled
    assert "A109" in {f.code for f in graph.graph["findings"]}
