"""Fixtures: a scripted fake KFP server on loopback, fast retry settings, both client faces."""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator

import pytest

from af2kfp.bridge.kfp import AsyncKfpClient, KfpClient, KfpConfig, RetryPolicy
from tests.bridge_client.fake_kfp import FakeKfp

FAST_RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05, jitter=0.5)


@pytest.fixture
def fake() -> Any:
    server = FakeKfp().start()
    yield server
    server.stop()


@pytest.fixture
def make_config(fake: FakeKfp):
    def make(**options: Any) -> KfpConfig:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("timeout", 2.0)
        return KfpConfig(host=fake.url, **options)

    return make


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def make_client(face: str, make_config) -> AsyncIterator[Any]:
    """Builds a client of the parametrized face; all are closed at teardown."""
    made: list[Any] = []

    def make(**options: Any) -> Any:
        config = make_config(**options)
        client = KfpClient(config) if face == "sync" else AsyncKfpClient(config)
        made.append(client)
        return client

    yield make
    for client in made:
        if isinstance(client, KfpClient):
            client.close()
        else:
            await client.aclose()


async def call(client: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
    """Call ``method`` on either face and return its result (awaiting the async face)."""
    result = getattr(client, method)(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result
