"""``af2kfp migrate status``: every DAG's stage, deploy state (current or stale), recurring run,
last shadow comparison and blockers, as a table or JSON; from files only."""

from __future__ import annotations

import json
import shutil

from ruamel.yaml import YAML

from af2kfp.bridge.migration.output import read_output

from .conftest import af2kfp

BLOCKED = "inline_operator_blocked"


def rows(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines()[1:-1]}


def test_status_after_deploys_and_edits(capsys, samples_out, server, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(samples_out, out)
    state = tmp_path / "af2kfp-migration.yaml"
    deployed = af2kfp(capsys, "deploy", out, "--host", server.url, "--state", state,
                      "--only", "docker_sales_etl", "k8s_train_recommender", "dependency_styles", BLOCKED)
    assert deployed.code == 0, deployed.err
    yaml = YAML()
    document = yaml.load(state.read_text())
    document["dags"]["docker_sales_etl"]["stage"] = "kfp-scheduled"
    document["dags"]["k8s_train_recommender"]["stage"] = "shadow"
    document["dags"]["k8s_train_recommender"]["shadow"] = {
        "verdict": "differs", "compared_at": "2024-03-05T04:10:00Z",
        "differences": ["train_model: SUCCEEDED in Airflow, FAILED in KFP", "evaluate_model: not run in KFP"],
    }
    document["dags"]["retired_dag"] = {"stage": "kfp-scheduled"}
    with state.open("w") as stream:
        yaml.dump(document, stream)
    assert af2kfp(capsys, "deploy", out, "--host", server.url, "--state", state, "--only", "docker_sales_etl").code == 0
    package = out / "k8s_train_recommender" / "pipeline.yaml"
    package.write_text(package.read_text().replace("image: ", "image: mirror.example.com/", 1))  # converted anew since

    result = af2kfp(capsys, "migrate", "status", out, "--state", state)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["DAG", "stage", "findings", "deployed", "recurring", "run", "shadow"]
    table = rows(result.out)
    severities = {d.dag_id: d.severities for d in read_output(out).dags}
    sales = table["docker_sales_etl"].split()
    assert sales[1] == "kfp-scheduled"
    assert f"{severities['docker_sales_etl']['error']} error, {severities['docker_sales_etl']['warning']} warning" in table["docker_sales_etl"]
    assert "(current)" in table["docker_sales_etl"] and table["docker_sales_etl"].split()[-2:] == ["enabled", "-"]
    assert "shadow" in table["k8s_train_recommender"] and "(stale)" in table["k8s_train_recommender"]
    assert table["k8s_train_recommender"].endswith("differs (2 difference(s)) at 2024-03-05T04:10:00Z")
    assert "none" in table["dependency_styles"].split()  # no recurring schedule
    assert "airflow (no entry)" in table[BLOCKED] and "1 error, 0 warning (blocked)" in table[BLOCKED]
    assert "not deployed" in table[BLOCKED]
    assert "airflow (no entry)" in table["warehouse_table_loads"]
    assert "not in OUT" in table["retired_dag"] and table["retired_dag"].split()[1] == "kfp-scheduled"
    total = len(read_output(out).dags) + 1
    assert lines[-1] == f"{total} DAGs: {total - 3} airflow, 1 shadow, 0 kfp, 2 kfp-scheduled"

    as_json = af2kfp(capsys, "migrate", "status", out, "--state", state, "--format", "json")
    document = json.loads(as_json.out)
    assert document["stages"] == {"airflow": total - 3, "shadow": 1, "kfp": 0, "kfp-scheduled": 2}
    by_id = {d["dag_id"]: d for d in document["dags"]}
    assert by_id["docker_sales_etl"]["deploy"] == "current" and by_id["docker_sales_etl"]["recurring_run"] == "enabled"
    assert by_id["k8s_train_recommender"]["deploy"] == "stale"
    assert by_id[BLOCKED]["blockers"][0].startswith("1 error finding(s) (first: M201 at ")
    assert by_id["retired_dag"]["in_output"] is False
    assert by_id["docker_sales_etl"]["version"].startswith("sha256-")


def test_status_without_output_or_state(capsys, samples_out, tmp_path):
    fresh = af2kfp(capsys, "migrate", "status", samples_out, "--state", tmp_path / "none.yaml")
    assert fresh.code == 0
    assert "(none yet: every DAG is at stage airflow)" in fresh.err
    dags = len(read_output(samples_out).dags)
    assert fresh.out.splitlines()[-1] == f"{dags} DAGs: {dags} airflow, 0 shadow, 0 kfp, 0 kfp-scheduled"

    state = tmp_path / "s.yaml"
    state.write_text("version: 1\ndags:\n  nightly_sync:\n    stage: kfp\n")
    only_state = af2kfp(capsys, "migrate", "status", "--state", state)
    assert only_state.code == 0
    assert rows(only_state.out)["nightly_sync"].split()[:2] == ["nightly_sync", "kfp"]


def test_status_bad_input_exits_2(capsys, tmp_path):
    missing = af2kfp(capsys, "migrate", "status", tmp_path / "nowhere", "--state", tmp_path / "s.yaml")
    assert missing.code == 2 and "no such folder" in missing.err
    state = tmp_path / "s.yaml"
    state.write_text("version: 1\ndags:\n  a:\n    stage: done\n")
    bad = af2kfp(capsys, "migrate", "status", "--state", state)
    assert bad.code == 2 and f"{state}:3: DAG 'a': stage 'done'" in bad.err
