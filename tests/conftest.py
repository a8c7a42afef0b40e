"""How pytest-xdist shares the suite among its workers (addopts: ``--dist=loadscope``, this file's units).

Most of the suite's time is real processes (Airflow's ``dag.test()`` and ``kfp.local`` children,
``airflow standalone``, a KFP server, Chromium), so two workers overlap one test's waiting with
another's work. A unit (:func:`_unit`) runs whole on one worker, in file order: a test module
(its module-scoped fixture, often one run of all the module's DAGs on both sides, is built once,
not once per worker; and a test that, run alone first in a fresh process, would find it cold
still runs after the module's others, as in one process), or a whole folder whose ``conftest.py``
builds costly session-scoped state its modules share (an ``airflow standalone``, the converted
and deployed samples). The tests of :data:`SPREAD` modules, each long and independent, are
units of their own. Each worker has its own temporary folder (``tmp_path``), and servers take
free loopback ports.

Units start longest first (:data:`LONGEST_FIRST`, measured), so that no long unit starts while
the other worker runs out of work; the rest follow in file order. Without xdist
(``-n 0``) nothing changes: the tests run in file order.
"""

from __future__ import annotations

import pytest

# Folders whose conftest.py holds costly session-scoped state their modules share. (Cheap session
# fixtures, a compiled pipeline or an in-process server, are built once per worker.)
SHARED_FOLDERS = ("tests/e2e", "tests/cutover", "tests/deploy", "tests/reports")
# Units that take longest, longest first (whole-suite --durations, 2 cores).
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
# Modules of long, independent tests (no module-scoped fixture, checked by hand): each test is a unit.
SPREAD = (
    "tests/runs/test_context_runs.py",
    "tests/runs/test_task_params_runs.py",
    "tests/convert/test_hostile_inputs.py",
    "tests/convert/test_emitted_black_stable.py",
    "tests/convert/test_convert_workers.py",
    "tests/analysis/test_run_overrides_vs_airflow.py",
)


def _where(nodeid: str) -> str:
    """The test's shared folder, else its module."""
    path = nodeid.split("::", 1)[0]
    return next((folder for folder in SHARED_FOLDERS if path.startswith(folder + "/")), path)


def _unit(nodeid: str) -> str:
    """What runs whole on one worker: the test's shared folder or module, or the test of a SPREAD module."""
    where = _where(nodeid)
    return nodeid if where in SPREAD else where


def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201 (xdist's types)
    """``--dist=loadscope`` with this file's units (xdist 3.8's ``xdist_group`` sets ``Item._nodeid``,
    which pytest 9.2 no longer reads, so its groups are ignored)."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Units(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return Units(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker, the longest units first (the controller keeps the order the workers collected)."""
    if not hasattr(config, "workerinput"):
        return
    rank = {where: index for index, where in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_where(item.nodeid), len(rank)))  # stable: file order within a rank
