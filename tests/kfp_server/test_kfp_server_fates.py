"""Fate syntax and the run timeline it implies (pure, with explicit times)."""

from __future__ import annotations

import pytest

from af2kfp.bridge.kfp_server.fates import Fate, FateError, Timeline, fate_from_inputs, parse_fate, snapshot


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("succeed", Fate(kind="succeed")),
        ("succeed:2.5", Fate(kind="succeed", after=2.5)),
        ("fail", Fate(kind="fail")),
        ("fail:train", Fate(kind="fail", task="train")),
        ("fail:train:OOMKilled: exit 137", Fate(kind="fail", task="train", message="OOMKilled: exit 137")),
        ("fail::boom", Fate(kind="fail", message="boom")),
        ("hang", Fate(kind="hang")),
        ("hang:show", Fate(kind="hang", task="show")),
        ("cancel:1", Fate(kind="cancel", after=1.0)),
        ("execute", Fate(kind="execute")),
        ("stuck:PAUSED", Fate(kind="stuck", message="PAUSED")),
        (
            {"kind": "fail", "task": "t", "message": "m", "after": 1, "pending": 0},
            Fate(kind="fail", task="t", message="m", after=1.0, pending=0.0),
        ),
    ],
)
def test_parse_fate(spec: object, expected: Fate) -> None:
    assert parse_fate(spec) == expected  # type: ignore[arg-type]
    assert parse_fate(expected.to_json()) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode", "kind 'explode' is not one of"),
        ("succeed:soon", "'soon' is not a number"),
        ("cancel:-1", "must not be negative"),
        ("execute:now", "takes no argument"),
        ("stuck", "needs the state"),
        ({"kind": "stuck"}, "needs the state"),
        ({"kind": "succeed", "after": "x"}, "after must be seconds"),
        ({"kind": "succeed", "colour": "red"}, "unknown field"),
        (7, "must be a string or an object"),
    ],
)
def test_parse_fate_rejects_with_the_spec_quoted(spec: object, message: str) -> None:
    with pytest.raises(FateError, match=message):
        parse_fate(spec)  # type: ignore[arg-type]


def test_fate_from_run_inputs() -> None:
    assert fate_from_inputs({"af2kfp.fate": "fail:train:OOMKilled"}, None) == Fate(
        kind="fail", task="train", message="OOMKilled"
    )
    assert fate_from_inputs({"af2kfp_fate": "hang"}, None) == Fate(kind="hang")
    assert fate_from_inputs({}, "nightly run\naf2kfp.fate=cancel:1") == Fate(kind="cancel", after=1.0)
    assert fate_from_inputs({"a": 1}, "plain") is None


def _timeline(fate: str, *, terminated_at: float | None = None) -> Timeline:
    # created at 100, RUNNING from 101, three tasks, 3 s of running by default
    return Timeline(
        run_id="r1234",
        created_at=100.0,
        origin=101.0,
        fate=parse_fate(fate),
        tasks=["extract", "train", "report"],
        run_seconds=3.0,
        cancel_seconds=0.5,
        terminated_at=terminated_at,
    )


def _states(fate: str, now: float, **kw: float) -> tuple[str, list[tuple[str, str]]]:
    snap = snapshot(_timeline(fate, **kw), now)
    return snap.state, [(t.name, t.state) for t in snap.tasks]


def test_success_timeline() -> None:
    assert _states("succeed", 100.5) == ("PENDING", [])
    assert _states("succeed", 101.5) == ("RUNNING", [("extract", "RUNNING")])
    assert _states("succeed", 102.5) == ("RUNNING", [("extract", "SUCCEEDED"), ("train", "RUNNING")])
    snap = snapshot(_timeline("succeed"), 200.0)
    assert (snap.state, snap.finished_at, snap.error) == ("SUCCEEDED", 104.0, None)
    assert [(t.start, t.end) for t in snap.tasks] == [(101.0, 102.0), (102.0, 103.0), (103.0, 104.0)]
    assert snap.history == [(100.0, "PENDING"), (101.0, "RUNNING"), (104.0, "SUCCEEDED")]
    assert len({t.pod_name for t in snap.tasks}) == 3


def test_failure_stops_at_the_failing_task() -> None:
    snap = snapshot(_timeline("fail:train:OOMKilled"), 200.0)
    assert snap.state == "FAILED" and snap.finished_at == 104.0
    assert [(t.name, t.state, t.error) for t in snap.tasks] == [
        ("extract", "SUCCEEDED", None),
        ("train", "FAILED", "OOMKilled"),
    ]
    assert snap.error == "task 'train' failed: OOMKilled"
    assert _states("fail", 200.0)[1][-1] == ("report", "FAILED")  # default: the last task fails


def test_hang_until_terminated() -> None:
    assert _states("hang:train", 10_000.0) == ("RUNNING", [("extract", "SUCCEEDED"), ("train", "RUNNING")])
    assert _states("hang:train", 10_000.2, terminated_at=10_000.0) == (
        "CANCELING",
        [("extract", "SUCCEEDED"), ("train", "RUNNING")],
    )
    snap = snapshot(_timeline("hang:train", terminated_at=10_000.0), 10_001.0)
    assert (snap.state, snap.finished_at, snap.error) == (
        "CANCELED",
        10_000.5,
        "run was terminated by the user",
    )
    assert [(t.name, t.state, t.end) for t in snap.tasks] == [
        ("extract", "SUCCEEDED", 102.0),
        ("train", "CANCELED", 10_000.5),
    ]
    assert [s for _, s in snap.history] == ["PENDING", "RUNNING", "CANCELING", "CANCELED"]


def test_stuck_reports_its_state_until_terminated() -> None:
    assert _states("stuck:PAUSED", 100.5)[0] == "PENDING"
    snap = snapshot(_timeline("stuck:SOMETHING_NEW"), 10_000.0)
    assert snap.state == "SOMETHING_NEW" and snap.finished_at is None
    assert snap.history == [(100.0, "PENDING"), (101.0, "RUNNING"), (101.0, "SOMETHING_NEW")]
    assert _states("stuck:PAUSED", 10_001.0, terminated_at=10_000.0)[0] == "CANCELED"


def test_terminate_while_pending_and_after_the_end() -> None:
    snap = snapshot(_timeline("succeed", terminated_at=100.2), 100.3)
    assert (snap.state, snap.tasks) == ("CANCELING", [])
    snap = snapshot(_timeline("succeed", terminated_at=100.2), 101.5)
    assert (snap.state, snap.tasks, [s for _, s in snap.history]) == (
        "CANCELED",
        [],
        ["PENDING", "CANCELING", "CANCELED"],
    )
    assert _states("succeed", 300.0, terminated_at=200.0)[0] == "SUCCEEDED"  # too late: nothing changes


def test_system_cancel() -> None:
    assert _states("cancel:2", 103.2)[0] == "CANCELING"
    snap = snapshot(_timeline("cancel:2"), 104.0)
    assert (snap.state, snap.error, snap.finished_at) == ("CANCELED", "run was canceled by the system", 103.5)
    assert [t.state for t in snap.tasks] == ["SUCCEEDED", "SUCCEEDED", "CANCELED"]
