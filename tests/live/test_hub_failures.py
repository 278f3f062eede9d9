"""EventHub when its transport misbehaves (a backend double over broadcaster's memory one)."""

from __future__ import annotations

import asyncio

import pytest
from broadcaster._backends.memory import MemoryBackend

from live import EventHub, create_backend
from tests.live.support import assert_no_new_tasks, live_tasks, metric, new_channel


class FailingSubscribeBackend(MemoryBackend):
    """Memory transport whose next `failures` subscribes fail after a short delay."""

    def __init__(self, failures: int) -> None:
        super().__init__("memory://")
        self.failures = failures
        self.subscribe_calls = 0

    async def subscribe(self, channel: str) -> None:
        self.subscribe_calls += 1
        await asyncio.sleep(0.01)  # let other first subscribers pile up meanwhile
        if self.failures:
            self.failures -= 1
            raise ConnectionError("bus refused the subscription")
        await super().subscribe(channel)


async def test_a_failed_bus_subscribe_reaches_every_waiter_and_the_next_one_retries() -> None:
    backend = FailingSubscribeBackend(failures=1)
    baseline = live_tasks()
    channel = new_channel("flaky")
    subscribers_before = metric("shopgraph_live_subscribers", family="flaky")
    async with EventHub(backend) as hub:

        async def subscribe_once() -> None:
            async with hub.subscribe(channel):
                pass

        results = await asyncio.gather(
            *(subscribe_once() for _ in range(10)), return_exceptions=True
        )
        # Everybody gets the bus's error, nobody a KeyError from the cleanup.
        assert all(isinstance(result, ConnectionError) for result in results), results
        assert backend.subscribe_calls == 1  # one shared attempt, not ten
        assert hub.channels == frozenset()
        assert metric("shopgraph_live_subscribers", family="flaky") == subscribers_before

        async with hub.subscribe(channel) as subscription:
            await hub.publish(channel, {"n": 1})
            async with asyncio.timeout(2):
                assert (await anext(subscription)).payload == {"n": 1}
        assert backend.subscribe_calls == 2
    await assert_no_new_tasks(baseline)


async def test_the_hub_must_be_connected() -> None:
    hub = EventHub.from_url("memory://")
    with pytest.raises(RuntimeError):
        async with hub.subscribe(new_channel()):
            pass
    with pytest.raises(RuntimeError):
        await hub.publish(new_channel(), {})
    assert not hub.connected


async def test_iterating_without_entering_is_refused() -> None:
    async with EventHub.from_url("memory://") as hub:
        with pytest.raises(RuntimeError, match="async with"):
            async for _ in hub.subscribe(new_channel()):
                pass


def test_bus_urls() -> None:
    assert isinstance(create_backend("memory://"), MemoryBackend)
    with pytest.raises(ValueError, match="unsupported"):
        create_backend("kafka://localhost:9092")
    with pytest.raises(ValueError):
        EventHub.from_url("memory://", queue_size=0)
