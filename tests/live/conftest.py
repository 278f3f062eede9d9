from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from live import EventHub
from tests.live.support import RedisServer, assert_no_new_tasks, free_port, live_tasks


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def bus_url(request: pytest.FixtureRequest) -> str:
    """Every hub test runs on both transports; the Redis run skips without Redis."""
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("redis_url")


@pytest.fixture
def redis_url_or_none(bus_url: str) -> str | None:
    return None if bus_url.startswith("memory") else bus_url


@pytest.fixture
async def hub(bus_url: str) -> AsyncIterator[EventHub]:
    """A fresh, connected hub (a fresh "process"); checks it leaves no task running."""
    baseline = live_tasks()
    hub = EventHub.from_url(bus_url)
    await hub.connect()
    yield hub
    await hub.disconnect()
    await assert_no_new_tasks(baseline)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of our own on a free port, which a test may stop and restart."""
    RedisServer.require()
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()
