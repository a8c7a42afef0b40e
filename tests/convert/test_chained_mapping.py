"""``b.expand(x=a.expand(...))`` (seen in real DAG repositories) compiles and runs as Airflow runs it:
each instance of ``b`` runs in ``a``'s ``dsl.ParallelFor`` iteration with that instance's result
(kfp cannot loop over collected outputs). Both sides run: Airflow's ``dag.test()`` and ``kfp.local``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.control_flow.both_sides import markers, run_both

DAGS = Path(__file__).parent / "chained_dags"


@pytest.mark.slow
@pytest.mark.airflow
@pytest.mark.timeout(900)  # both sides, each up to 600 s
def test_chained_mapping_runs_per_instance(tmp_path):
    both = run_both(DAGS, tmp_path, timeout=600)
    assert both.report["summary"]["compiled"] == 1
    assert not [f for f in both.report["findings"] if f["code"] in ("E301", "E306", "M222")]
    assert both.airflow == both.kfp == {"chained_mapping": "success"}
    expected = Counter({"ab is 2 letters": 1, "cde is 3 letters": 1})
    assert markers(both.out / "chained_mapping.airflow") == expected
    assert markers(both.out / "chained_mapping.kfp") == expected
