"""How pytest-xdist shares the suite among its workers (``-n auto --dist loadgroup``, pyproject.toml).

Most of the suite's time is real processes (Airflow's ``dag.test()`` and ``kfp.local`` children,
``airflow standalone``, a KFP server, Chromium), so two workers overlap one test's waiting with
another's work. A group (``xdist_group``) runs whole on one worker, in file order: a test module
(its module-scoped fixture, often one run of all the module's DAGs on both sides, is built once,
not once per worker; and a test that, run alone first in a fresh process, would find it cold
still runs after the module's others, as in one process), or a whole folder whose ``conftest.py``
builds costly session-scoped state its modules share (an ``airflow standalone``, the converted
and deployed samples). The tests of :data:`SPREAD` modules, each long and independent, are
units of their own. Each worker has its own temporary folder (``tmp_path``), and servers take
free loopback ports.

Groups and modules start longest first (:data:`LONGEST_FIRST`, measured), so that no long group
starts while the other worker runs out of work; the rest follow in file order. Without xdist
(``-n 0``) nothing changes: the tests run in file order.
"""

from __future__ import annotations

import pytest

# Folders whose conftest.py holds costly session-scoped state their modules share. (Cheap session
# fixtures, a compiled pipeline or an in-process server, are built once per worker.)
SHARED_FOLDERS = ("tests/e2e", "tests/cutover", "tests/deploy", "tests/reports")
# Groups and modules that take longest, longest first (whole-suite --durations, 2 cores).
LONGEST_FIRST = (
    "tests/e2e",
    "tests/runs/test_examples_both_sides.py",
    "tests/runs/test_context_runs.py",
    "tests/control_flow/test_control_flow_random.py",
    "tests/control_flow/test_control_flow_runs.py",
    "tests/runs/test_skip_both_sides.py",
    "tests/runs/test_values_both_sides.py",
    "tests/runs/test_task_params_runs.py",
    "tests/cutover",
    "tests/deploy",
    "tests/reports",
)
# Modules of long, independent tests (no module-scoped fixture): each test is a unit of its own.
SPREAD = (
    "tests/runs/test_context_runs.py",
    "tests/runs/test_task_params_runs.py",
    "tests/convert/test_hostile_inputs.py",
    "tests/convert/test_emitted_black_stable.py",
    "tests/convert/test_convert_workers.py",
    "tests/analysis/test_run_overrides_vs_airflow.py",
)
_SHARED_SCOPES = {"class", "module", "package"}


def _where(item: pytest.Item) -> str:
    """The test's shared folder, else its module."""
    path = item.path.relative_to(item.config.rootpath).as_posix()
    return next((folder for folder in SHARED_FOLDERS if path.startswith(folder + "/")), path)


def _group(item: pytest.Item) -> str | None:
    """The group the test runs in, or None for a test of a :data:`SPREAD` module sharing no fixture."""
    where = _where(item)
    if where not in SPREAD:
        return where
    fixtures = getattr(item, "_fixtureinfo", None)
    scopes = {d.scope for defs in (fixtures.name2fixturedefs.values() if fixtures else ()) for d in defs}
    return where if scopes & _SHARED_SCOPES else None


def _distributed(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("xdist") and config.getoption("dist", "no") != "no"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _distributed(config):
        return
    for item in items:
        group = _group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    rank = {where: index for index, where in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_where(item), len(rank)))  # stable: file order within a rank
