"""The supervised Redis backend on the shared test Redis."""

from __future__ import annotations

import asyncio

import pytest
from broadcaster import Broadcast
from redis.asyncio.connection import SSLConnection

from live import EventHub, RedisPubSubBackend
from tests.live.support import assert_no_new_tasks, live_tasks, metric, new_channel, wait_until

pytestmark = pytest.mark.redis


async def test_two_hubs_on_one_redis_see_each_others_events(redis_url: str) -> None:
    baseline = live_tasks()
    channel = new_channel()
    async with (
        EventHub.from_url(redis_url) as web_1,
        EventHub.from_url(redis_url) as web_2,
        web_1.subscribe(channel) as on_1,
        web_2.subscribe(channel) as on_2,
    ):
        await web_1.publish(channel, {"from": 1})
        await web_2.publish(channel, {"from": 2})
        async with asyncio.timeout(2):
            for subscription in (on_1, on_2):
                assert (await anext(subscription)).payload == {"from": 1}
                assert (await anext(subscription)).payload == {"from": 2}
    await assert_no_new_tasks(baseline)


async def test_the_backend_keeps_broadcasters_interface(redis_url: str) -> None:
    # Stock broadcaster.Broadcast on our backend: the first subscriber is not lost.
    channel = new_channel()
    async with (
        Broadcast(backend=RedisPubSubBackend(redis_url)) as broadcast,
        broadcast.subscribe(channel) as subscriber,
    ):
        await broadcast.publish(channel, "hello")
        async with asyncio.timeout(2):
            event = await subscriber.get()
    assert (event.channel, event.message) == (channel, "hello")


async def test_connected_reflects_the_subscriber_connection(redis_url: str) -> None:
    backend = RedisPubSubBackend(redis_url)
    assert not backend.connected
    await backend.connect()
    try:
        assert backend.connected
    finally:
        await backend.disconnect()
    assert not backend.connected


async def test_a_backlog_the_hub_cannot_read_keeps_only_the_newest_events(
    redis_url: str,
) -> None:
    channel = new_channel("backlog")

    def dropped() -> float:
        return metric("shopgraph_live_events_dropped_total", family="backlog", reason="backlog")

    dropped_before = dropped()
    backend = RedisPubSubBackend(redis_url, backlog_size=5)
    await backend.connect()
    try:
        await backend.subscribe(channel)
        for n in range(20):
            await backend.publish(channel, str(n))
        # Nobody calls next_published() meanwhile; wait until all 20 have been read.
        await wait_until(
            lambda: dropped() == dropped_before + 15, 2, "15 events were dropped from the backlog"
        )
        newest = [(await backend.next_published()).message for _ in range(5)]
        assert newest == ["15", "16", "17", "18", "19"]
    finally:
        await backend.disconnect()


def test_rediss_urls_use_tls() -> None:
    backend = RedisPubSubBackend("rediss://:secret@cache.example:6380/2")
    assert backend._connection_class is SSLConnection
    assert backend._connection_options["db"] == 2
    assert "secret" not in backend._location  # logged as host:port only
