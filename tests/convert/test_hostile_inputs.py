"""One bad file or DAG never stops the run: each hostile file beside a good DAG, the good one converts.

Each case runs the real CLI in a child process (a crash of the parser must show as the child's exit
code, not take the test runner down) on a folder holding the bad file and ``good.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAD = "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
GOOD = HEAD + (
    "with DAG('good_dag', start_date=datetime(2024, 1, 1), schedule=None):\n"
    "    BashOperator(task_id='hello', bash_command='echo hi')\n"
)


_MAIN = "import sys\nfrom af2kfp.bridge.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _dag(dag_id: str, task_id: str = "t", prefix: str = "", dag_args: str = "", task_args: str = "") -> str:
    return HEAD + prefix + (
        f"with DAG({dag_id}, start_date=datetime(2024, 1, 1), schedule=None{dag_args}) as d:\n"
        f"    BashOperator(task_id={task_id}, bash_command='echo'{task_args})\n"
    )


# name -> (source, the finding code the bad file must get, or None when it converts with an odd output)
CASES = {
    "brackets_250": (_dag("'deep'", prefix="x = " + "[" * 250 + "]" * 250 + "\n"), "E307"),
    "parens_1500": (_dag("'deep'", prefix="x = " + "(" * 1500 + "1" + ")" * 1500 + "\n"), "E307"),
    "and_chain_20000": (_dag("'deep'", prefix="x = " + " and ".join(["a"] * 20000) + "\n"), "E307"),
    "concatenated_strings_5000": (_dag("'deep'", prefix="x = " + " ".join(['"a"'] * 5000) + "\n"), "E307"),
    "attribute_chain_400": (_dag("'deep'", prefix="x = a" + ".b" * 400 + "\n"), "E307"),
    "self_referencing_dict": (_dag("'selfref'", prefix="e = {}\ne['a'] = e\ne['b'] = e\n",
                                   task_args=", env=e"), "M205"),
    "shared_value_explosion": (_dag("'shared'", prefix="v = [1]\nfor _ in range(40):\n    v = [v, v]\n",
                                    task_args=", env={'X': v}"), "M205"),
    "empty_task_id": (_dag("'emptyid'", task_id="''"), None),
    "dag_named_report_html": (_dag("'report.html'"), None),
    "dag_id_300_bytes": (_dag(repr("x" * 300)), None),
    "dag_id_unicode_and_slashes": (_dag(repr("../../étl/ü\u202e")), None),
    "lone_surrogate_task_id": (_dag("'surrogate'", task_id="'a\\ud800b'"), None),
    "syntax_error": (HEAD + "with DAG('broken' as d:\n", "A101"),
    "binary_file": ("\x00\x01dag airflow", "A102"),
    "non_finite_param": (_dag("'inf'", dag_args=", params={'n': 1e999}"), "E312"),
}


def _convert(folder: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _MAIN, "convert", str(folder), "-o", str(out),
                           "--fail-on", "none", "-j", "1", *extra],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_beside_a_good_dag(name, tmp_path):
    source, code = CASES[name]
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "good.py").write_text(GOOD)
    (dags / f"{name}.py").write_text(source, encoding="utf-8", errors="surrogatepass")
    done = _convert(dags, tmp_path / "out")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    good = [d for d in report["dags"] if d["dag_id"] == "good_dag"]
    assert good and good[0]["kfp"]["compiled"], report["findings"]
    assert (tmp_path / "out" / good[0]["kfp"]["yaml"]).is_file()
    if code is not None:
        assert any(f["code"] == code and f["file"].endswith(f"{name}.py") for f in report["findings"]), \
            [(f["code"], f["message"][:80]) for f in report["findings"]]
    for dag in report["dags"]:  # every folder is a plain, short, non-report name inside the output
        folder = dag["folder"]
        assert folder and len(folder) <= 80 and "/" not in folder and not folder.lower().startswith("report.")
        assert (tmp_path / "out" / folder).is_dir()
    for name_ in ("report.json", "report.html", "report.md"):
        assert (tmp_path / "out" / name_).is_file()


def test_deep_nesting_finding_names_the_line(tmp_path):
    (tmp_path / "deep.py").write_text(_dag("'deep'", prefix="\n\nx = " + "+".join(["1"] * 300) + "\n"))
    done = _convert(tmp_path / "deep.py", tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    finding = next(f for f in report["findings"] if f["code"] == "E307")
    assert finding["line"] == 6 and "more than 100 levels" in finding["message"], done.stderr


def test_a_file_over_its_time_budget_is_a_finding(tmp_path, monkeypatch):
    """A file whose top level computes for longer than its budget stops with E308 at the line it was on;
    the DAG defined before the slow part is kept."""
    from af2kfp.converters.analysis import analyze_paths, limits
    from af2kfp.converters.analysis import interpreter, modules

    monkeypatch.setattr(interpreter, "FILE_SECONDS", 0.5)
    monkeypatch.setattr(modules, "FILE_SECONDS", 0.5)
    slow = HEAD + (
        "with DAG('first', start_date=datetime(2024, 1, 1), schedule=None):\n"
        "    BashOperator(task_id='t', bash_command='echo')\n"
        "total = 0\n"
        "for i in range(10_000):\n"
        "    for j in range(10_000):\n"
        "        total = total + i * j\n"
    )
    (tmp_path / "slow.py").write_text(slow)
    monkeypatch.setattr(interpreter, "MAX_STEPS", 10**9)
    monkeypatch.setattr(interpreter, "MAX_LOOP", 10**9)
    analysis = analyze_paths([tmp_path])
    codes = [f.code for f in analysis.findings]
    assert limits.TIME_LIMIT in codes, [(f.code, f.message) for f in analysis.findings]
    finding = next(f for f in analysis.findings if f.code == limits.TIME_LIMIT)
    assert finding.line in (8, 9, 10) and finding.file.endswith("slow.py")
    assert [g.graph["dag"].dag_id for g in analysis.graphs] == ["first"]


@pytest.mark.parametrize("given, message", [
    ("notes.yaml", "not a Python file"),
    ("empty_folder", "no Python file"),
])
def test_wrong_input_exits_2(given, message, tmp_path):
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / "empty_folder" / "README.md").write_text("nothing\n")
    done = _convert(tmp_path / given, tmp_path / "out")
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_an_internal_error_exits_3_and_the_rest_is_converted(tmp_path):
    """An analyzer bug on one file (simulated: the graph builder raises for one DAG) is A115, exit 3, and
    the other DAG converts."""
    script = (
        "import sys\n"
        "from af2kfp.converters.analysis import build\n"
        "from af2kfp.converters import analysis\n"
        "real = build.build_graph\n"
        "def build_graph(dag):\n"
        "    if dag.dag_id == 'buggy':\n"
        "        raise KeyError('simulated analyzer bug')\n"
        "    return real(dag)\n"
        "analysis.build_graph = build_graph\n"
        "from af2kfp.bridge.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "good.py").write_text(GOOD)
    (tmp_path / "dags" / "buggy.py").write_text(_dag("'buggy'"))
    done = subprocess.run([sys.executable, "-c", script, "convert", str(tmp_path / "dags"), "-o",
                           str(tmp_path / "out"), "-j", "1"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 3, done.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [d["dag_id"] for d in report["dags"]] == ["good_dag"] and report["dags"][0]["kfp"]["compiled"]
    assert any(f["code"] == "A115" and "simulated analyzer bug" in f["message"] for f in report["findings"])


def test_an_unexpected_exception_exits_3_without_a_traceback(tmp_path):
    script = (
        "import sys\n"
        "import af2kfp.converters.convert\n"
        "def boom(*args, **kwargs):\n"
        "    raise RuntimeError('simulated bug')\n"
        "af2kfp.converters.convert.convert_paths = boom\n"
        "from af2kfp.bridge.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    (tmp_path / "good.py").write_text(GOOD)
    done = subprocess.run([sys.executable, "-c", script, "convert", str(tmp_path / "good.py"), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 3
    assert "internal error: RuntimeError: simulated bug" in done.stderr and "Traceback" not in done.stderr


def test_an_unwritable_dag_folder_is_that_dags_finding(tmp_path):
    """A file standing where a DAG's folder must go (here: left by someone) fails that DAG only (E309)."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "good.py").write_text(GOOD)
    (tmp_path / "dags" / "other.py").write_text(_dag("'blocked'"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "blocked").write_text("not a folder\n")
    done = _convert(tmp_path / "dags", tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    blocked = next(d for d in report["dags"] if d["dag_id"] == "blocked")
    assert blocked["kfp"]["python"] is None
    assert any(f["code"] == "E309" and f["dag_id"] == "blocked" for f in report["findings"])
    assert next(d for d in report["dags"] if d["dag_id"] == "good_dag")["kfp"]["compiled"]


def test_bidi_and_line_breaks_never_reach_comments_or_reports_raw(tmp_path):
    """U+202E in a task id and a line break in a param default are escaped in pipeline.py's comments,
    pipeline.yaml's header, report.html, report.md and the terminal summary."""
    from af2kfp.converters.convert import convert_paths

    (tmp_path / "bidi.py").write_text(_dag("'bidi'", task_id="'ab\\u202ecd'",
                                           dag_args=", params={'sql': 'SELECT 1\\u2028FROM t'}"))
    convert_paths([tmp_path / "bidi.py"], tmp_path / "out")
    out = tmp_path / "out"
    for path in (out / "bidi" / "pipeline.py", out / "bidi" / "pipeline.yaml", out / "report.html",
                 out / "report.md"):
        text = path.read_text(encoding="utf-8")
        assert "\u202e" not in text and "\u2028" not in text, path.name
    assert "# Airflow: " in (out / "bidi" / "pipeline.py").read_text() and "ab\\u202ecd" in (
        out / "bidi" / "pipeline.py").read_text()


def test_syntax_newer_than_this_python_still_converts(tmp_path):
    """Python 3.12's `type` statement: CPython 3.10/3.11 reject it, LibCST reads it, and Airflow on
    3.12 (the teams' runtime) imports it; the DAG converts instead of being a syntax error."""
    import json
    import textwrap

    from af2kfp.converters.convert import convert_paths

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "typed.py").write_text(textwrap.dedent("""
        import pendulum
        from airflow import DAG
        from airflow.providers.standard.operators.bash import BashOperator

        type Rows = list[dict[str, int]]

        with DAG("typed_aliases", start_date=pendulum.datetime(2024, 1, 1), schedule=None):
            BashOperator(task_id="hello", bash_command="echo hello")
    """))
    convert_paths([dags], tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [d["dag_id"] for d in report["dags"]] == ["typed_aliases"]
    assert report["dags"][0]["airflow"]["tasks"][0]["line"] == 9
    assert not [f for f in report["findings"] if f["code"] == "A101"]


def test_a_pipeline_over_the_task_limit_is_written_not_compiled(tmp_path, monkeypatch):
    """Over MAX_COMPILE_TASKS (a KFP run of that size exceeds Argo's object), pipeline.py is written,
    pipeline.yaml is not, and E315 says why; a DAG under the limit beside it still compiles."""
    from af2kfp.converters import convert

    monkeypatch.setattr(convert, "MAX_COMPILE_TASKS", 3)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "good.py").write_text(GOOD)
    (dags / "wide.py").write_text(HEAD + (
        "with DAG('wide', start_date=datetime(2024, 1, 1), schedule=None):\n"
        "    for n in range(5):\n"
        "        BashOperator(task_id=f'part_{n}', bash_command='echo')\n"))
    report = convert.convert_paths([dags], tmp_path / "out")
    by_id = {d["dag_id"]: d for d in report["dags"]}
    assert by_id["good_dag"]["kfp"]["compiled"] and not by_id["wide"]["kfp"]["compiled"]
    assert (tmp_path / "out" / "wide" / "pipeline.py").exists()
    assert not (tmp_path / "out" / "wide" / "pipeline.yaml").exists()
    assert [f["message"] for f in report["findings"] if f["code"] == "E315"] == [
        "5 tasks, more than 3: pipeline.py written, not compiled"]


def test_a_long_sql_text_in_many_pieces_is_not_too_deep(tmp_path):
    """Teams write long SQL as hundreds of implicitly joined string pieces, one per line; LibCST reads
    them without crashing, so the file is analysed (a real repository lost two DAGs to E307 here)."""
    pieces = "".join(f"    'column_{n},'\n" for n in range(300))
    dag = HEAD + f"SQL = (\n    'INSERT INTO t ('\n{pieces}    ') VALUES (1)'\n)\n" + (
        "with DAG('long_sql', start_date=datetime(2024, 1, 1), schedule=None):\n"
        "    BashOperator(task_id='load', bash_command='echo ' + SQL[:20])\n")
    (tmp_path / "long_sql.py").write_text(dag)
    _convert(tmp_path / "long_sql.py", tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [d["dag_id"] for d in report["dags"]] == ["long_sql"]
    assert not [f for f in report["findings"] if f["code"].startswith("E")]


def test_a_long_list_of_strings_on_one_line_is_not_deep():
    """Generated DAG files list their tables on one line: each string is one piece, not every string of
    the line (the 5,000-task benchmark DAG was E307 with 830 names), and the check stays linear."""
    import ast

    from af2kfp.converters.analysis.limits import nesting

    text = "TABLES = [" + ", ".join(f'"t{i:05d}"' for i in range(5000)) + "]\n"
    assert nesting(ast.parse(text), text)[0] < 10
    joined = "x = " + " ".join(['"a"'] * 600) + "\n"
    assert nesting(ast.parse(joined), joined)[0] > 100


def test_the_time_budget_counts_computation_not_waiting():
    """The budget is the analysing thread's CPU time: on a busy machine (here: a pause) the same file gives
    the same graph as on an idle one."""
    import time

    from af2kfp.converters.analysis.limits import Deadline

    deadline = Deadline(0.2)
    time.sleep(0.4)
    assert not any(deadline.passed() for _ in range(1024))
    end = time.thread_time() + 0.5
    while time.thread_time() < end:
        pass
    assert any(deadline.passed() for _ in range(1024))
