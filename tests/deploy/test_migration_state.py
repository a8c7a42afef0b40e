"""The migration state file: read with errors naming file and line, written round-trip
(comments, order and unknown keys kept), merged with edits made meanwhile, replaced in one
step (a failed write leaves the old file), found at the repository root by default."""

from __future__ import annotations

import os
import stat

import pytest

from af2kfp.bridge.migration.state import DeployRecord, MigrationState, default_state_path
from af2kfp.converters.errors import InputError

RECORD = DeployRecord(
    host="http://127.0.0.1:8888", namespace=None, experiment="Default", experiment_id="e-1",
    pipeline="nightly-sync", pipeline_id="p-1", pipeline_version="sha256-0123456789ab", pipeline_version_id="v-1",
    content_sha256="0123456789ab" + "0" * 52, recurring_run_id="r-1", recurring_run_enabled=True,
    deployed_at="2024-03-05T10:00:00Z",
)

WRITTEN_BY_A_PERSON = """\
# Our migration, wave 1 (owner: data platform)
version: 1
dags:
  nightly_sync:   # moved 2024-03-01, OPS-12
    stage: kfp-scheduled
    owner: alice        # a key af2kfp does not know
  weekly_report:
    stage: shadow
    paused: true
"""


def test_a_missing_file_is_an_empty_state_and_is_created_with_its_header(tmp_path):
    state = MigrationState.load(tmp_path / "af2kfp-migration.yaml")
    assert not state.existed and state.entries() == []
    state.save()  # nothing changed: nothing written
    assert not state.path.exists()
    state.add("nightly_sync")
    state.add("paused_feed", paused=True)
    state.save()
    text = state.path.read_text()
    assert text.startswith("# af2kfp migration state (docs/deploy.md)")
    assert "  nightly_sync:\n    stage: airflow\n  paused_feed:\n    stage: airflow\n    paused: true\n" in text
    assert stat.S_IMODE(state.path.stat().st_mode) == 0o644
    again = MigrationState.load(state.path)
    assert [(e.dag_id, e.stage, e.paused, e.line) for e in again.entries()] == [
        ("nightly_sync", "airflow", None, 9), ("paused_feed", "airflow", True, 11),
    ]


def test_comments_order_and_unknown_keys_are_kept(tmp_path):
    path = tmp_path / "state.yaml"
    path.write_text(WRITTEN_BY_A_PERSON)
    state = MigrationState.load(path)
    state.record_deploy("nightly_sync", RECORD)
    state.add("new_dag")
    state.save()
    text = path.read_text()
    assert text.startswith(WRITTEN_BY_A_PERSON.split("  weekly_report:")[0].rstrip("\n"))
    assert "# moved 2024-03-01, OPS-12" in text and "owner: alice        # a key af2kfp does not know" in text
    assert text.index("nightly_sync") < text.index("weekly_report") < text.index("new_dag")
    entry = MigrationState.load(path).entry("nightly_sync")
    assert entry.deployed == RECORD and entry.stage == "kfp-scheduled"
    assert "      namespace: null\n" in text and "      recurring_run_enabled: true\n" in text


def test_an_edit_made_while_a_command_ran_is_kept(tmp_path):
    path = tmp_path / "state.yaml"
    path.write_text(WRITTEN_BY_A_PERSON)
    state = MigrationState.load(path)
    path.write_text(WRITTEN_BY_A_PERSON.replace("stage: shadow", "stage: kfp"))  # a person, meanwhile
    state.record_deploy("nightly_sync", RECORD)
    state.save()
    again = MigrationState.load(path)
    assert again.entry("weekly_report").stage == "kfp"
    assert again.entry("nightly_sync").deployed == RECORD


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "state.yaml"
    path.write_text(WRITTEN_BY_A_PERSON)
    path.chmod(0o600)
    state = MigrationState.load(path)
    state.record_deploy("nightly_sync", RECORD)

    def crash(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        state.save()
    assert path.read_text() == WRITTEN_BY_A_PERSON
    assert [p.name for p in tmp_path.iterdir()] == ["state.yaml"]  # no temporary file left behind
    monkeypatch.undo()
    state.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # permissions kept


@pytest.mark.parametrize(
    "text, message",
    [
        ("version: 1\ndags:\n  a:\n    stage: kfp_scheduled\n",
         ":3: DAG 'a': stage 'kfp_scheduled' is not one of airflow, shadow, kfp, kfp-scheduled"),
        ("version: 1\ndags:\n  a: {}\n", ":3: DAG 'a': stage None is not one of"),
        ("version: 1\ndags:\n  a:\n    stage: kfp\n    paused: maybe\n", ":3: DAG 'a': paused must be true or false"),
        ("version: 1\ndags:\n  a: kfp\n", ":3: DAG 'a': expected a mapping with a `stage`"),
        ("version: 2\ndags: {}\n", ":1: version 2 is not 1"),
        ("version: 1\ndags: [a, b]\n", ":2: `dags` must map DAG ids to entries"),
        ("- a\n- b\n", ": expected a mapping with `version` and `dags`"),
        ("version: 1\ndags:\n  a:\n    stage: kfp\n   bad: indent\n", ":5: not valid YAML"),
    ],
)
def test_a_bad_file_is_an_error_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "state.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        MigrationState.load(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


def test_a_folder_is_not_a_state_file(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        MigrationState.load(tmp_path)


def test_the_default_path_is_the_repository_root(tmp_path):
    (tmp_path / "repo" / "dags" / "team").mkdir(parents=True)
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    assert default_state_path(tmp_path / "repo" / "dags" / "team") == tmp_path / "repo" / "af2kfp-migration.yaml"
    (tmp_path / "loose").mkdir()
    if not any((folder / m).exists() for folder in tmp_path.parents for m in ("pyproject.toml", ".git", "airflow.cfg")):
        assert default_state_path(tmp_path / "loose") == tmp_path / "loose" / "af2kfp-migration.yaml"
