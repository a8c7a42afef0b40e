"""``af2kfp deploy`` on the converted samples, against the local KFP server over HTTP: a second
deploy creates nothing, one changed sample makes exactly one new version, a dry run changes
nothing, ``--only``, blocked DAGs skipped with their reasons, JSON output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path


from af2kfp.bridge.kfp import KfpClient
from af2kfp.bridge.migration.output import read_output, read_schedule
from af2kfp.bridge.migration.state import MigrationState

from .conftest import af2kfp, convert, everything, writes

BLOCKED = "inline_operator_blocked"


def deploy(capsys, out: Path, server, state: Path, *extra: str):
    return af2kfp(capsys, "deploy", out, "--host", server.url, "--state", state, *extra)


OUTCOMES = {"created", "updated", "unchanged", "skipped", "failed", "create", "update", "skip"}


def lines_by_dag(text: str) -> dict[str, str]:
    """The plan lines (``DAG_ID  OUTCOME  ...``), by DAG id."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) > 2 and words[1] in OUTCOMES:
            found[words[0]] = line
    return found


def expected_recurring(out: Path) -> set[str]:
    """DAGs that get a recurring run: deployable, a recurring schedule, no required parameter."""
    names = set()
    for dag in read_output(out).dags:
        schedule = read_schedule(dag.schedule)
        if dag.blockers or not (schedule and schedule.get("recurring_run")):
            continue
        from af2kfp.bridge.kfp import load_package

        parameters = load_package(dag.package).parameters
        if all("defaultValue" in p or p.get("isOptional") for p in parameters.values()):
            names.add(dag.dag_id)
    return names


def test_deploy_twice_on_the_samples_the_second_creates_nothing(capsys, samples_out, server, kfp, tmp_path):
    state = tmp_path / "af2kfp-migration.yaml"
    dags = read_output(samples_out).dags
    deployable = [d.dag_id for d in dags if not d.blockers]
    assert BLOCKED not in deployable and len(deployable) == len(dags) - 1

    first = deploy(capsys, samples_out, server, state)
    assert first.code == 0, first.err
    lines = lines_by_dag(first.out)
    assert all(" created " in lines[d] for d in deployable), first.out
    assert "experiment Default create" in first.out
    held = everything(kfp)
    assert len(held["pipelines"]) == len(deployable)
    assert all(len(versions) == 1 for versions in held["versions"].values())
    assert {name for name, _, _ in held["recurring_runs"].values()} == expected_recurring(samples_out)
    assert not any(enabled for _, enabled, _ in held["recurring_runs"].values())  # every DAG is at stage airflow
    recorded = {e.dag_id: e for e in MigrationState.load(state).entries()}
    assert sorted(recorded) == sorted(deployable)
    assert {e.stage for e in recorded.values()} == {"airflow"}
    written = state.read_bytes()

    control = server.control()
    control.reset_stats()
    second = deploy(capsys, samples_out, server, state)
    assert second.code == 0, second.err
    lines = lines_by_dag(second.out)
    assert all(" unchanged " in lines[d] and " create" not in lines[d] for d in deployable), second.out
    assert "nothing to change" in second.out and "nothing was created" in second.out
    assert writes(control) == {}, "a second deploy sent requests that change KFP"
    assert everything(kfp) == held
    assert state.read_bytes() == written, "a deploy that changed nothing rewrote the state file"


def test_one_changed_sample_reconverted_makes_exactly_one_new_version(capsys, samples_copy, server, kfp, tmp_path):
    out = convert(samples_copy / "dags", tmp_path / "out")
    state = tmp_path / "state.yaml"
    assert deploy(capsys, out, server, state).code == 0
    before = everything(kfp)
    recurring_before = {v[0]: k for k, v in before["recurring_runs"].items()}

    source = samples_copy / "dags" / "docker_sales_etl.py"
    text = source.read_text()
    assert "sales/etl:1.8.0" in text
    source.write_text(text.replace("sales/etl:1.8.0", "sales/etl:1.9.0", 1))
    convert(samples_copy / "dags", out)

    control = server.control()
    control.reset_stats()
    again = deploy(capsys, out, server, state)
    assert again.code == 0, again.err
    lines = lines_by_dag(again.out)
    changed = [dag for dag, line in lines.items() if line.split()[1] != "unchanged"]
    assert sorted(changed) == ["docker_sales_etl", BLOCKED]  # the blocked one is skipped, as before
    assert "version sha256-" in lines["docker_sales_etl"] and " create" in lines["docker_sales_etl"]
    after = everything(kfp)
    new_versions = {p: set(v) - set(before["versions"].get(p, [])) for p, v in after["versions"].items()}
    assert {p: len(v) for p, v in new_versions.items() if v} == {"docker-sales-etl": 1}
    assert writes(control).get("POST /apis/v2beta1/pipelines/upload_version") == 1
    assert "POST /apis/v2beta1/pipelines" not in writes(control)
    # its recurring run now runs the new version: replaced (KFP cannot update one), still disabled
    recurring_after = {v[0]: (k, v[2]) for k, v in after["recurring_runs"].items()}
    new_id, version = recurring_after["docker_sales_etl"]
    assert new_id != recurring_before["docker_sales_etl"] and version in new_versions["docker-sales-etl"]
    assert len(after["recurring_runs"]) == len(before["recurring_runs"])
    entry = MigrationState.load(state).entry("docker_sales_etl")
    assert entry.deployed.pipeline_version_id == version and entry.deployed.recurring_run_id == new_id


def test_a_dry_run_prints_the_plan_and_changes_nothing(capsys, samples_out, server, kfp, tmp_path):
    state = tmp_path / "state.yaml"
    control = server.control()
    control.reset_stats()
    plan = deploy(capsys, samples_out, server, state, "--dry-run")
    assert plan.code == 0, plan.err
    assert plan.out.startswith("af2kfp deploy (dry run):")
    line = lines_by_dag(plan.out)["docker_sales_etl"]
    assert "  create  " in line and "pipeline create" in line and "recurring run create (disabled: stage airflow)" in line
    assert "dry run: this is the plan; nothing was changed" in plan.out
    assert writes(control) == {} and not state.exists()
    assert everything(kfp)["pipelines"] == {}

    assert deploy(capsys, samples_out, server, state).code == 0
    text = state.read_text().replace("  docker_sales_etl:\n    stage: airflow", "  docker_sales_etl:\n    stage: kfp-scheduled")
    state.write_text(text)
    held, control_before = everything(kfp), state.read_text()
    control.reset_stats()
    plan = deploy(capsys, samples_out, server, state, "--dry-run")
    line = lines_by_dag(plan.out)["docker_sales_etl"]
    assert "  update  " in line and "recurring run update (enabled: stage kfp-scheduled" in line
    assert " unchanged " in lines_by_dag(plan.out)["k8s_train_recommender"]
    assert writes(control) == {} and everything(kfp) == held and state.read_text() == control_before


def test_only_deploys_the_dags_named(capsys, samples_out, server, kfp, tmp_path):
    result = deploy(capsys, samples_out, server, tmp_path / "s.yaml", "--only", "docker_sales_etl", "--only", "k8s_train_recommender")
    assert result.code == 0, result.err
    assert sorted(lines_by_dag(result.out)) == ["docker_sales_etl", "k8s_train_recommender"]
    assert sorted(everything(kfp)["pipelines"]) == ["docker-sales-etl", "k8s-train-recommender"]
    assert [e.dag_id for e in MigrationState.load(tmp_path / "s.yaml").entries()] == ["docker_sales_etl", "k8s_train_recommender"]

    unknown = deploy(capsys, samples_out, server, tmp_path / "s.yaml", "--only", "docker_sales_etl", "no_such_dag")
    assert unknown.code == 2
    assert "--only no_such_dag: not in" in unknown.err and "docker_sales_etl" in unknown.err


def test_blocked_dags_are_skipped_with_their_reason(capsys, samples_out, server, kfp, tmp_path):
    result = deploy(capsys, samples_out, server, tmp_path / "s.yaml", "--only", BLOCKED, "docker_sales_etl")
    assert result.code == 0, result.err  # a skip is a warning: below the default --fail-on error
    line = lines_by_dag(result.out)[BLOCKED]
    assert "skipped" in line
    assert "skipped    blocked: 1 error finding(s) (first: M201 at " in line and "inline_operator_blocked.py:40)" in line
    assert "1 unsupported task(s)" in line
    assert "inline-operator-blocked" not in everything(kfp)["pipelines"]
    assert MigrationState.load(tmp_path / "s.yaml").entry(BLOCKED) is None
    strict = deploy(capsys, samples_out, server, tmp_path / "s.yaml", "--only", BLOCKED, "--fail-on", "warning")
    assert strict.code == 1


def test_a_dag_whose_pipeline_needs_a_value_gets_no_recurring_run_and_says_why(capsys, server, kfp, tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "needs.py").write_text(
        "from datetime import datetime\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from team_settings import region  # not in the scanned folder: the run must supply it\n\n"
        'with DAG("needs_region", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):\n'
        '    BashOperator(task_id="say", bash_command=f"echo {region()}")\n', encoding="utf-8")
    out = convert(dags, tmp_path / "out")
    result = deploy(capsys, out, server, tmp_path / "s.yaml")
    assert result.code == 0
    assert "recurring run skip (no recurring run: the pipeline requires" in result.out
    assert everything(kfp)["recurring_runs"] == {}


def test_json_output(capsys, samples_out, server, tmp_path):
    result = deploy(capsys, samples_out, server, tmp_path / "s.yaml", "--format", "json", "--only", "docker_sales_etl", BLOCKED)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["dry_run"] is False and document["host"] == server.url
    assert document["summary"] == {
        "dags": 2, "created": 1, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 0, "changes_kfp": True,
        "problems": {"error": 0, "warning": 1},
    }
    dag = next(d for d in document["dags"] if d["dag_id"] == "docker_sales_etl")
    assert dag["stage"] == "airflow" and dag["outcome"] == "created"
    assert set(dag["steps"]) == {"pipeline", "version", "recurring run"}
    assert dag["steps"]["version"]["name"].startswith("sha256-") and dag["steps"]["version"]["id"]
    assert dag["steps"]["recurring run"]["action"] == "create" and dag["steps"]["recurring run"]["id"]
    assert document["experiment"]["action"] == "create"


def test_bad_input_exits_2_with_a_message(capsys, samples_out, server, tmp_path):
    missing = af2kfp(capsys, "deploy", tmp_path / "nowhere", "--host", server.url, "--state", tmp_path / "s.yaml")
    assert missing.code == 2 and "no such folder" in missing.err
    (tmp_path / "empty").mkdir()
    not_output = af2kfp(capsys, "deploy", tmp_path / "empty", "--host", server.url, "--state", tmp_path / "s.yaml")
    assert not_output.code == 2 and "no report.json" in not_output.err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "report.json").write_text("{not json")
    broken = af2kfp(capsys, "deploy", tmp_path / "broken", "--host", server.url, "--state", tmp_path / "s.yaml")
    assert broken.code == 2 and "report.json: not readable as JSON" in broken.err
    bad_state = tmp_path / "bad.yaml"
    bad_state.write_text("version: 1\ndags:\n  docker_sales_etl:\n    stage: kfp_scheduled\n")
    typo = af2kfp(capsys, "deploy", samples_out, "--host", server.url, "--state", bad_state)
    assert typo.code == 2
    assert f"{bad_state}:3: DAG 'docker_sales_etl': stage 'kfp_scheduled' is not one of airflow, shadow, kfp, kfp-scheduled" in typo.err
    no_token = af2kfp(capsys, "deploy", samples_out, "--host", server.url, "--token-file", tmp_path / "none")
    assert no_token.code == 2 and "--token-file" in no_token.err
    bad_host = af2kfp(capsys, "deploy", samples_out, "--host", "ftp://x", "--state", tmp_path / "s.yaml")
    assert bad_host.code == 2 and "http(s) URL" in bad_host.err
    assert "Traceback" not in missing.err + typo.err + bad_host.err


def test_unreachable_kfp_exits_1_and_an_internal_error_exits_3(capsys, samples_out, tmp_path, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from dataclasses import replace

    import af2kfp.bridge.cli.deploy as command
    from af2kfp.bridge.kfp import RetryPolicy

    configured = command.kfp_config
    monkeypatch.setattr(command, "kfp_config", lambda args: replace(configured(args), retry=RetryPolicy(max_attempts=1)))
    down = af2kfp(capsys, "deploy", samples_out, "--host", f"http://127.0.0.1:{port}", "--state", tmp_path / "s.yaml")
    assert down.code == 1 and "af2kfp: error: KFP API" in down.err
    assert not (tmp_path / "s.yaml").exists()

    from af2kfp.bridge.migration import deploy as engine

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine.Deployer, "run", broken)
    bug = af2kfp(capsys, "deploy", samples_out, "--host", f"http://127.0.0.1:{port}", "--state", tmp_path / "s.yaml")
    assert bug.code == 3 and "internal error: RuntimeError: a bug" in bug.err


def test_the_default_state_file_is_at_the_repository_root(capsys, samples_out, server, tmp_path, monkeypatch):
    repository = tmp_path / "repo"
    (repository / "dags" / "team").mkdir(parents=True)
    (repository / ".git").mkdir()
    monkeypatch.chdir(repository / "dags" / "team")
    result = af2kfp(capsys, "deploy", samples_out, "--host", server.url, "--only", "docker_sales_etl")
    assert result.code == 0, result.err
    assert (repository / "af2kfp-migration.yaml").is_file()
    assert f"af2kfp: state {repository / 'af2kfp-migration.yaml'} (new)" in result.err
    with KfpClient(host=server.url) as kfp:
        assert kfp.find_pipeline("docker-sales-etl") is not None
