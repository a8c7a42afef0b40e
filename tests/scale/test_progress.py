"""Progress of ``af2kfp convert``: files and DAGs done over total on a terminal, nothing of it in a pipe,
one line per analyzed file with ``-v``."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

MAIN = "import sys\nfrom af2kfp.bridge.cli import main\nsys.exit(main(sys.argv[1:]))\n"
DAG = ("from datetime import datetime\nfrom airflow.sdk import DAG\n"
       "from airflow.providers.standard.operators.bash import BashOperator\n\n"
       "with DAG(dag_id='{name}', schedule=None, start_date=datetime(2024, 1, 1)):\n"
       "    BashOperator(task_id='hello', bash_command='echo hi')\n")


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    for name in ("first", "second", "third"):
        (folder / f"{name}.py").write_text(DAG.format(name=name), encoding="utf-8")
    (folder / "helpers.py").write_text("VALUE = 1\n", encoding="utf-8")
    return folder


def _stderr_on_terminal(argv: list[str]) -> str:
    """The command's stderr as a terminal shows it (a pseudo-terminal), stdout to a pipe."""
    leader, follower = pty.openpty()
    with subprocess.Popen([sys.executable, "-c", MAIN, *argv], stdout=subprocess.PIPE, stderr=follower) as child:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        child.communicate()
    os.close(leader)
    return b"".join(chunks).decode()


def test_terminal_shows_files_and_dags_done(dags, tmp_path):
    shown = _stderr_on_terminal(["convert", str(dags), "-o", str(tmp_path / "out"), "-j", "1", "--no-cache"])
    assert "files 4/4" in shown and "DAGs 3/3" in shown, shown
    assert "files 1/4" in shown and "DAGs 1/3" in shown and "third" in shown, shown


def test_a_pipe_gets_no_progress_and_verbose_names_each_file(dags, tmp_path):
    done = subprocess.run([sys.executable, "-c", MAIN, "convert", str(dags), "-o", str(tmp_path / "out"), "-j", "1",
                           "--no-cache"], capture_output=True, text=True, check=True)
    assert "\r" not in done.stderr and "DAGs" not in done.stderr
    verbose = subprocess.run([sys.executable, "-c", MAIN, "-v", "convert", str(dags), "-o", str(tmp_path / "out2"),
                              "-j", "1", "--no-cache"], capture_output=True, text=True, check=True)
    analyzed = [line for line in verbose.stderr.splitlines() if "analyzed " in line and "/4 " in line]
    assert [line.split("analyzed ")[1] for line in analyzed] == [
        f"{n}/4 {dags.as_posix()}/{name}.py" for n, name in enumerate(("first", "helpers", "second", "third"), 1)]
