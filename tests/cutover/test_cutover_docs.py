"""docs/migration.md names what exists: the options of its reference table, the subcommands its
shell blocks run (tests/e2e/test_e2e_migration.py runs them), and the README links it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from af2kfp.bridge.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
PAGE = (REPO / "docs" / "migration.md").read_text(encoding="utf-8")


def _sub(command: str):
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices[command]


def test_every_option_of_the_reference_exists():
    section = PAGE.split("## `af2kfp cutover` reference", 1)[1].split("What is carried over", 1)[0]
    named = set(re.findall(r"`(--[a-z-]+)", section)) | {"-o"}
    options = {o for action in _sub("cutover")._actions for o in action.option_strings}
    assert len(named) > 10 and named <= options, named - options


def test_the_commands_of_the_page_parse():
    blocks = re.findall(r"```bash\n(.*?)```", PAGE, re.S)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    af2kfp = [shlex.split(c)[1:] for c in commands if c.startswith("af2kfp ")]
    assert {a[0] for a in af2kfp} >= {"convert", "deploy", "migrate", "cutover"}
    parser = build_parser()
    for argv in af2kfp:
        parser.parse_args([a.replace('"$', "$") for a in argv if a != "&"])


def test_the_readme_links_the_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "| `af2kfp cutover OUT -o AIRFLOW_DAGS_DIR" in readme and "[migration.md](docs/migration.md)" in readme
    assert "| `af2kfp migrate stage DAG_ID... STAGE`" in readme
