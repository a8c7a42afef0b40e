"""``af2kfp cutover``: which files the state file asks for, a second run changing nothing, files
changed by hand kept, moves between stages, DAGs that cannot be cut over skipped with the reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from af2kfp.bridge.cli import main
from af2kfp.bridge.migration.cutover import is_generated
from af2kfp.bridge.migration.state import MigrationState
from tests.cutover.conftest import Deployed

DAG = "docker_sales_etl"


def cutover(capsys: pytest.CaptureFixture[str], deployed: Deployed, state: Path, folder: Path, *extra: str):
    code = main(["cutover", str(deployed.out), "-o", str(folder), "--state", str(state), "--root", str(deployed.root),
                 "--format", "json", *extra])
    document = json.loads(capsys.readouterr().out)
    return code, {(f["dag_id"], f["kind"]): f for f in document["files"]}


@pytest.fixture
def state(deployed: Deployed, tmp_path: Path) -> Path:
    """A state file with DAG at stage shadow, the others at airflow."""
    path = tmp_path / "af2kfp-migration.yaml"
    shutil.copy(deployed.root / "af2kfp-migration.yaml", path)
    loaded = MigrationState.load(path)
    loaded.set_stage(DAG, "shadow")
    loaded.save()
    return path


def move(state: Path, stage: str, dag_id: str = DAG) -> None:
    loaded = MigrationState.load(state)
    loaded.set_stage(dag_id, stage)
    loaded.save()


def test_files_follow_the_stages_and_a_second_run_changes_nothing(capsys, deployed, state, tmp_path):
    folder = tmp_path / "dags"
    code, files = cutover(capsys, deployed, state, folder)
    assert code == 0 and list(files) == [(DAG, "shadow")]
    assert files[(DAG, "shadow")]["action"] == "write"
    shadow = folder / f"{DAG}__kfp_shadow.py"
    assert is_generated(shadow.read_text()) is True
    before = shadow.stat().st_mtime_ns
    code, files = cutover(capsys, deployed, state, folder)
    assert code == 0 and files[(DAG, "shadow")]["action"] == "unchanged" and shadow.stat().st_mtime_ns == before
    move(state, "kfp")  # on: the shadow goes, the cut-over DAG comes
    code, files = cutover(capsys, deployed, state, folder)
    assert (files[(DAG, "shadow")]["action"], files[(DAG, "kfp")]["action"]) == ("remove", "write")
    assert "out of Airflow's DAGs folder" in files[(DAG, "kfp")]["notes"][0]
    assert sorted(p.name for p in folder.iterdir()) == [f"{DAG}__kfp.py"]
    move(state, "shadow")  # and back
    code, files = cutover(capsys, deployed, state, folder, "--mode", "kfp")  # only cut-over files handled
    assert list(files) == [(DAG, "kfp")] and files[(DAG, "kfp")]["action"] == "remove"
    assert list(folder.iterdir()) == []
    move(state, "kfp-scheduled")
    code, files = cutover(capsys, deployed, state, folder)
    assert code == 0 and files == {} and list(folder.iterdir()) == []


def test_a_file_changed_by_hand_is_kept_unless_forced(capsys, deployed, state, tmp_path):
    folder = tmp_path / "dags"
    cutover(capsys, deployed, state, folder)
    shadow = folder / f"{DAG}__kfp_shadow.py"
    shadow.write_text(shadow.read_text().replace("poke_interval=30.0", "poke_interval=5.0"))
    assert is_generated(shadow.read_text()) is False
    edited = shadow.read_text()
    code, files = cutover(capsys, deployed, state, folder, "--poll-interval", "10")
    assert code == 1 and files[(DAG, "shadow")]["action"] == "keep"
    assert "changed by hand" in files[(DAG, "shadow")]["problems"][0] and shadow.read_text() == edited
    move(state, "airflow")  # not removed either
    code, files = cutover(capsys, deployed, state, folder)
    assert code == 1 and files[(DAG, "shadow")]["action"] == "keep" and shadow.exists()
    code, files = cutover(capsys, deployed, state, folder, "--force")
    assert code == 0 and files[(DAG, "shadow")]["action"] == "remove" and not shadow.exists()
    mine = folder / f"{DAG}__kfp.py"  # a file of that name af2kfp did not write
    mine.write_text("# my own DAG\n")
    move(state, "kfp")
    code, files = cutover(capsys, deployed, state, folder)
    assert code == 1 and "not written by af2kfp cutover" in files[(DAG, "kfp")]["problems"][0]
    assert mine.read_text() == "# my own DAG\n"


def test_dry_run_writes_nothing(capsys, deployed, state, tmp_path):
    folder = tmp_path / "dags"
    code, files = cutover(capsys, deployed, state, folder, "--dry-run")
    assert code == 0 and files[(DAG, "shadow")]["action"] == "write" and not folder.exists()


def test_dags_that_cannot_be_cut_over_are_skipped_with_the_reason(capsys, deployed, state, tmp_path):
    folder = tmp_path / "dags"
    text = state.read_text()
    state.write_text(text + "  inline_operator_blocked: {stage: kfp}\n  never_deployed: {stage: shadow}\n")
    move(state, "kfp", "docker_sales_etl")
    code, files = cutover(capsys, deployed, state, folder)
    assert code == 1
    assert files[("inline_operator_blocked", "kfp")]["action"] == "skip"
    assert files[("inline_operator_blocked", "kfp")]["problems"][0].startswith("blocked: ")
    assert files[("never_deployed", "shadow")]["problems"] == ["not in OUT (convert it again)"]
    # a convert output changed since deploy: the deployed version is not the one in OUT
    out = deployed.root / "changed-out"
    shutil.copytree(deployed.out, out)
    package = out / DAG / "pipeline.yaml"
    package.write_text(package.read_text().replace("sdkVersion: kfp-", "sdkVersion: kfp-0.", 1))
    code = main(["cutover", str(out), "-o", str(folder), "--state", str(state), "--root", str(deployed.root),
                 "--only", DAG, "--format", "json"])
    skipped = json.loads(capsys.readouterr().out)["files"]
    assert code == 1 and skipped[0]["action"] == "skip"
    assert "run af2kfp deploy again" in skipped[0]["problems"][0]
    not_deployed = tmp_path / "fresh.yaml"
    not_deployed.write_text(f"version: 1\ndags:\n  {DAG}: {{stage: kfp}}\n")
    code, files = cutover(capsys, deployed, not_deployed, folder)
    assert files[(DAG, "kfp")]["problems"][0].startswith("not deployed: run af2kfp deploy first")


def test_unknown_only_dag_is_bad_input(capsys, deployed, state, tmp_path):
    assert main(["cutover", str(deployed.out), "-o", str(tmp_path), "--state", str(state), "--only", "nope"]) == 2
    assert "no DAG nope" in capsys.readouterr().err
