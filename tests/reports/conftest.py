"""Fixtures of the report tests: one real conversion of ``samples/dags`` per session, a hostile DAG, Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from af2kfp.converters.config import find_pyproject, load_config
from af2kfp.converters.convert import convert_paths
from af2kfp.converters.reports import write_reports

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "dags"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "build" / "test-artifacts"

# A DAG whose ids, group and command try to inject markup and script into the HTML report.
HOSTILE_DAG = '''
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.utils.task_group import TaskGroup

with DAG("evil<script>window.__pwned=1</script>", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    first = BashOperator(task_id="<script>window.__pwned=1</script>",
                         bash_command="echo '</pre><img src=x onerror=\\"window.__pwned=2\\">'")
    with TaskGroup("<b onmouseover=alert(1)>g</b>") as group:
        second = BashOperator(task_id="x\\u2028</script><script>window.__pwned=3</script>", bash_command="echo ok")
    load = DockerOperator(
        task_id="load",
        image="registry.example.com/loader:1.0",
        private_environment={
            "WAREHOUSE_SECRET": "pw-in-plain-sight-1",
        },
        environment={"LOADER_API_KEY": "pw-in-plain-sight-2", "HOST": "db"},
    )
    first >> group >> load
'''


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """``(out_dir, report)`` of converting ``samples/dags`` with the samples' config, reports written."""
    out = tmp_path_factory.mktemp("reports-samples")
    report = convert_paths([SAMPLES], out, config=load_config(find_pyproject(SAMPLES)), jobs=1)
    write_reports(report, out)
    return out, report


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    """``(out_dir, report)`` of converting :data:`HOSTILE_DAG` (a real conversion), reports written."""
    root = tmp_path_factory.mktemp("reports-hostile")
    dag_file = root / "dags" / "evil_dag.py"
    dag_file.parent.mkdir()
    dag_file.write_text(HOSTILE_DAG, encoding="utf-8")
    report = convert_paths([dag_file], root / "out", jobs=1)
    write_reports(report, root / "out")
    return root / "out", report


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (skipped when either is missing).

    Module-scoped: while Playwright's sync API is open its event loop counts as running in this
    thread, so an asyncio test, or another ``sync_playwright()``, run by the same process
    meanwhile fails ("using Playwright Sync API inside the asyncio loop").
    """
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is not installed (Debian package 'chromium'; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
