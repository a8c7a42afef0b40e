"""docs/deploy.md says what the commands do: its options exist, its state file example is one
the commands read, and the README's command table links to it."""

from __future__ import annotations

import re
from pathlib import Path

from af2kfp.bridge.cli import build_parser
from af2kfp.bridge.migration.state import STAGES, MigrationState

REPO = Path(__file__).resolve().parents[2]
PAGE = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def _options(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {option for action in sub._actions for option in action.option_strings}


def test_every_option_the_page_names_exists():
    section = PAGE.split("### Options", 1)[1].split("###", 1)[0]
    named = set(re.findall(r"`(--[a-z-]+)", section))
    assert named and named <= _options("deploy"), named - _options("deploy")


def test_the_state_file_example_is_read_as_it_says(tmp_path):
    example = PAGE.split("## The migration state file", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "af2kfp-migration.yaml"
    path.write_text(example)
    entries = {e.dag_id: e for e in MigrationState.load(path).entries()}
    assert entries["docker_sales_etl"].stage == "kfp-scheduled"
    assert entries["docker_sales_etl"].deployed.recurring_run_enabled is True
    assert entries["weekly_report"].paused is True and entries["weekly_report"].shadow["verdict"] == "differs"
    assert " | ".join(STAGES) in PAGE or all(f"`{stage}`" in PAGE for stage in STAGES)


def test_the_readme_links_the_commands_to_the_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "| `af2kfp deploy OUT --host URL" in readme and "[deploy.md](docs/deploy.md)" in readme
    assert "| `af2kfp migrate status [OUT]`" in readme
