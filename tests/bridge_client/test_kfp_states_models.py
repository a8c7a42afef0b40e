"""State mapping, run models, failure messages, UI links, error pickling, and the pure core."""

from __future__ import annotations

import asyncio
import inspect
import pickle
import time

import pytest

from af2kfp.bridge.kfp import (
    AsyncKfpClient,
    KfpApiError,
    KfpClient,
    KfpConfig,
    KfpRunFailedError,
    KfpWaitTimeoutError,
    Run,
    RunSpec,
    RunState,
    StatePolicy,
    Verdict,
    describe_failure,
    experiment_url,
    run_url,
)
from af2kfp.bridge.kfp.core import KfpCore
from af2kfp.bridge.kfp.protocol import Outcome, Send, Sleep
from tests.bridge_client.conftest import FAST_RETRY


@pytest.mark.parametrize(
    ("state", "verdict"),
    [
        ("SUCCEEDED", Verdict.SUCCESS),
        ("SKIPPED", Verdict.SUCCESS),
        ("FAILED", Verdict.FAILURE),
        ("CANCELED", Verdict.FAILURE),
        ("PENDING", Verdict.WAIT),
        ("RUNNING", Verdict.WAIT),
        ("CANCELING", Verdict.WAIT),
        ("PAUSED", Verdict.WAIT),
        ("RUNTIME_STATE_UNSPECIFIED", Verdict.WAIT),
        (None, Verdict.WAIT),
        ("", Verdict.WAIT),
        ("succeeded", Verdict.SUCCESS),
    ],
)
def test_default_policy(state, verdict):
    assert StatePolicy().classify(state) is verdict


def test_unknown_state_keeps_waiting_with_a_warning(caplog):
    assert StatePolicy().classify("EXPLODED") is Verdict.WAIT
    assert "unknown KFP run state 'EXPLODED'" in caplog.text


def test_unexpected_states_are_timed_and_expected_ones_reset_the_clock():
    from af2kfp.bridge.kfp import UnexpectedStateWatch

    now = [0.0]
    watch = UnexpectedStateWatch(10.0, clock=lambda: now[0])
    policy = StatePolicy()

    def check(state: str) -> float | None:
        parsed = RunState.parse(state)
        return watch.check(parsed, policy.classify(parsed))

    assert check("EXPLODED") is None
    now[0] = 9.0
    assert check("PAUSED") is None
    now[0] = 10.0
    assert check("RUNTIME_STATE_UNSPECIFIED") == 10.0
    assert check("RUNNING") is None  # expected: the clock restarts
    now[0] = 15.0
    assert check("PAUSED") is None and check("CANCELING") is None and check("FAILED") is None
    assert UnexpectedStateWatch(None).check(RunState.PAUSED, Verdict.WAIT) is None
    # a state the user counts as success or failure is not unexpected
    paused_ok = StatePolicy.create(success=["SUCCEEDED", "PAUSED"])
    assert watch.check(RunState.PAUSED, paused_ok.classify("PAUSED")) is None


def test_configurable_policy():
    strict = StatePolicy.create(skipped_is_success=False)
    assert strict.classify("SKIPPED") is Verdict.FAILURE
    custom = StatePolicy.create(success=["succeeded", "canceled"], failure=["FAILED"])
    assert custom.classify("CANCELED") is Verdict.SUCCESS and custom.classify("SKIPPED") is Verdict.SUCCESS
    with pytest.raises(ValueError, match="never ends"):
        StatePolicy(success=frozenset({RunState.SUCCEEDED}), failure=frozenset({RunState.FAILED}))
    with pytest.raises(ValueError, match="both success and failure"):
        StatePolicy.create(success=["SUCCEEDED", "FAILED"], failure=["FAILED", "CANCELED"])
    with pytest.raises(ValueError, match="unknown KFP run state 'DONE'"):
        StatePolicy.create(success=["DONE"])


def test_run_from_camel_case_json_and_summary():
    run = Run.from_json({"runId": "r1", "displayName": "n", "experimentId": "e", "state": "RUNNING",
                         "runDetails": {"taskDetails": [{"displayName": "t", "state": "FAILED", "podName": "p"}]}})
    assert (run.run_id, run.display_name, run.state, run.tasks[0].pod_names) == ("r1", "n", RunState.RUNNING, ("p",))
    assert run.summary() == {"run_id": "r1", "display_name": "n", "experiment_id": "e", "state": "RUNNING",
                             "error": None, "created_at": None, "finished_at": None, "failed_tasks": ["t"]}


def test_describe_failure_without_task_details():
    run = Run.from_json({"run_id": "r1", "display_name": "nightly", "state": "CANCELED"})
    assert describe_failure(run) == "KFP run 'nightly' (r1) ended CANCELED"


def test_links():
    assert run_url("https://kfp.example.com/", "abc") == "https://kfp.example.com/#/runs/details/abc"
    assert run_url("https://x/_/pipeline", "abc", "team a") == "https://x/_/pipeline/?ns=team%20a#/runs/details/abc"
    assert experiment_url("https://x", "e1") == "https://x/#/experiments/details/e1"


def test_errors_survive_pickling():
    err = KfpApiError("boom", status=503, code=14, method="GET", path="/p", retriable=True, attempts=3)
    back = pickle.loads(pickle.dumps(err))
    assert (back.status, back.code, back.retriable, back.attempts, str(back)) == (503, 14, True, 3, str(err))
    run = Run.from_json({"run_id": "r", "state": "FAILED"})
    failed = pickle.loads(pickle.dumps(KfpRunFailedError(run, "msg")))
    assert failed.run.run_id == "r" and str(failed) == "msg"
    timeout = pickle.loads(pickle.dumps(KfpWaitTimeoutError("r", 5, "RUNNING")))
    assert timeout.last_state == "RUNNING" and "5s" in str(timeout)
    from af2kfp.bridge.kfp import KfpUnexpectedStateError

    odd = pickle.loads(pickle.dumps(KfpUnexpectedStateError("r", "WEIRD", 300)))
    assert odd.state == "WEIRD" and "state 'WEIRD' for 300s" in str(odd)


def test_core_is_pure_and_resends_only_what_is_safe():
    """Drive the core by hand: no HTTP, no sleeping; the actions tell the whole story."""
    core = KfpCore(KfpConfig(host="http://kfp.invalid", retry=FAST_RETRY))
    op = core.get_run("r1")
    first = next(op)
    assert isinstance(first, Send) and first.url == "http://kfp.invalid/apis/v2beta1/runs/r1"
    assert isinstance(op.send(Outcome(error="ReadTimeout", reached_server=True)), Sleep)
    again = op.send(None)
    assert isinstance(again, Send)
    with pytest.raises(StopIteration) as done:
        op.send(Outcome(status=200, body=b'{"run_id": "r1", "state": "RUNNING"}'))
    assert done.value.value.state is RunState.RUNNING
    # a create that may have been applied is not resent by the core
    create = core.create_run({"display_name": "x"})
    next(create)
    with pytest.raises(KfpApiError) as info:
        create.send(Outcome(error="RemoteProtocolError: Server disconnected", reached_server=True))
    assert info.value.maybe_applied and info.value.retriable
    # ...but one that never left is
    create = core.create_run({"display_name": "x"})
    next(create)
    assert isinstance(create.send(Outcome(error="ConnectError", reached_server=False)), Sleep)


def test_faces_expose_the_same_operations():
    sync_ops = {n for n, v in vars(KfpClient).items() if callable(v) and not n.startswith("_")}
    async_ops = {n for n, v in vars(AsyncKfpClient).items() if callable(v) and not n.startswith("_")}
    assert sync_ops - {"close"} == async_ops - {"aclose"}
    for name in sync_ops - {"close"}:
        assert inspect.signature(getattr(KfpClient, name)) == inspect.signature(getattr(AsyncKfpClient, name))
        assert inspect.iscoroutinefunction(getattr(AsyncKfpClient, name))
    assert str(inspect.signature(KfpClient.get_run)) == "(self, run_id: 'str') -> 'Run'"


async def test_async_waits_run_concurrently(fake, make_config, tmp_path):
    """Many deferred waits share one event loop without blocking each other (the triggerer's case)."""
    package = tmp_path / "p.yaml"
    package.write_text("pipelineInfo: {name: p}\nroot: {dag: {tasks: {}}}\n")
    async with AsyncKfpClient(make_config()) as client:
        runs = await asyncio.gather(*(client.submit_run(RunSpec(display_name=f"r{i}", package=package))
                                      for i in range(8)))
        for run in runs:
            fake.script_run(run.run_id, *["RUNNING"] * 4, "SUCCEEDED")
        started = time.monotonic()
        finals = await asyncio.gather(*(client.wait_for_run(r.run_id, poll_interval=0.1, timeout=10) for r in runs))
        elapsed = time.monotonic() - started
    assert all(f.state is RunState.SUCCEEDED for f in finals)
    assert elapsed < 2.0  # serial waiting would take 8 x 0.4 s
