"""Nothing of the user's is lost: a pipeline.py edited since convert wrote it survives a re-run."""

from __future__ import annotations

import json
from pathlib import Path

from af2kfp.converters.convert import convert_paths
from af2kfp.converters.emit.output import digest, folder_name

DAG = (
    "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
    "with DAG('etl', start_date=datetime(2024, 1, 1), schedule=None):\n"
    "    BashOperator(task_id='hello', bash_command='echo {message}')\n"
)


def _convert(tmp_path: Path, message: str = "hi", force: bool = False) -> dict:
    (tmp_path / "etl.py").write_text(DAG.format(message=message))
    return convert_paths([tmp_path / "etl.py"], tmp_path / "out", force=force)


def test_written_files_are_recorded_with_their_hash(tmp_path):
    report = _convert(tmp_path)
    out = tmp_path / "out"
    assert set(report["written"]) == {"etl/pipeline.py", "etl/pipeline.yaml", "etl/schedule.json"}
    for relative, recorded in report["written"].items():
        assert digest((out / relative).read_text(encoding="utf-8")) == recorded
    assert json.loads((out / "report.json").read_text())["written"] == report["written"]


def test_an_unchanged_output_is_simply_rewritten(tmp_path):
    _convert(tmp_path)
    report = _convert(tmp_path, message="changed")
    out = tmp_path / "out"
    assert "changed" in (out / "etl" / "pipeline.py").read_text()
    assert not (out / "etl" / "pipeline.generated.py").exists()
    assert "E313" not in [f["code"] for f in report["findings"]]


def test_an_edited_pipeline_py_is_kept_and_the_new_one_written_beside_it(tmp_path):
    _convert(tmp_path)
    out = tmp_path / "out" / "etl"
    edited = (out / "pipeline.py").read_text() + "\n# my change\n"
    (out / "pipeline.py").write_text(edited)
    report = _convert(tmp_path, message="changed")
    assert (out / "pipeline.py").read_text() == edited
    assert "changed" in (out / "pipeline.generated.py").read_text()
    assert (out / "pipeline.generated.yaml").is_file()
    dag = report["dags"][0]
    assert dag["kfp"]["python"] == "etl/pipeline.generated.py" and dag["kfp"]["yaml"] == "etl/pipeline.generated.yaml"
    kept = [f for f in report["findings"] if f["code"] == "E313"]
    assert len(kept) == 1 and "etl/pipeline.py changed since af2kfp wrote it: kept" in kept[0]["message"]
    # A third run still keeps it (the record never adopts the user's file) and says so again.
    again = _convert(tmp_path, message="again")
    assert (out / "pipeline.py").read_text() == edited and "again" in (out / "pipeline.generated.py").read_text()
    assert [f["code"] for f in again["findings"]].count("E313") == 1


def test_a_pipeline_py_convert_did_not_write_is_kept(tmp_path):
    out = tmp_path / "out" / "etl"
    out.mkdir(parents=True)
    (out / "pipeline.py").write_text("# hand-written\n")
    _convert(tmp_path)
    assert (out / "pipeline.py").read_text() == "# hand-written\n" and (out / "pipeline.generated.py").is_file()


def test_force_overwrites_an_edited_file(tmp_path):
    _convert(tmp_path)
    out = tmp_path / "out" / "etl"
    (out / "pipeline.py").write_text("# edited\n")
    report = _convert(tmp_path, message="forced", force=True)
    assert "forced" in (out / "pipeline.py").read_text() and not (out / "pipeline.generated.py").exists()
    assert "E313" not in [f["code"] for f in report["findings"]]


def test_folder_names_are_safe_short_and_distinct():
    taken: set[str] = set()
    names = [folder_name(dag_id, taken) for dag_id in
             ["", "report.html", "REPORT.json", "a" * 300, "a" * 300 + "b", "../x", ".hidden", "é/ü", "x", "X"]]
    assert names[0] == "dag" and names[1] == "dag_report.html" and names[2] == "dag_REPORT.json"
    assert len(names[3]) == len(names[4]) == 80 and names[3] != names[4]
    assert all("/" not in n and not n.startswith(".") and len(n) <= 80 for n in names)
    assert len({n.lower() for n in names}) == len(names)
