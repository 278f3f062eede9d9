"""Namespaces keep deployments that share one Redis apart."""

from __future__ import annotations

import asyncio

import pytest

from live import EventHub
from tests.live.support import new_channel


@pytest.mark.parametrize("url", ["memory://", pytest.param("redis", marks=pytest.mark.redis)])
async def test_same_namespace_talks_other_namespace_does_not(url, request):
    if url == "redis":
        url = request.getfixturevalue("redis_url")
    channel = new_channel()
    async with (
        EventHub.from_url(url, namespace="shop-a") as a1,
        EventHub.from_url(url, namespace="shop-a") as a2,
        EventHub.from_url(url, namespace="shop-b") as b,
        a2.subscribe(channel) as on_a2,
        b.subscribe(channel) as on_b,
    ):
        if url.startswith("memory"):
            # memory:// is one process per hub; only publishing on the same hub reaches it.
            a1, on_a2 = a2, on_a2
        await a1.publish(channel, {"n": 1})
        async with asyncio.timeout(2):
            event = await anext(on_a2)
        assert event.channel == channel and event.payload == {"n": 1}
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await anext(on_b)
