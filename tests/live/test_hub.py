"""EventHub behaviour on both transports (memory:// and a real Redis)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from live import EventHub, LiveEvent
from tests.live.support import (
    assert_no_new_tasks,
    bus_subscriptions,
    live_tasks,
    metric,
    new_channel,
    wait_until,
)


async def next_event(subscription, timeout: float = 2.0) -> LiveEvent:
    async with asyncio.timeout(timeout):
        return await anext(subscription)


async def test_round_trip_delivers_the_decoded_payload(hub: EventHub) -> None:
    channel = new_channel("order")
    async with hub.subscribe(channel) as subscription:
        assert await hub.publish(channel, {"id": 7, "status": "PAID"}) is True
        event = await next_event(subscription)
    assert event.channel == channel
    assert event.payload == {"id": 7, "status": "PAID"}


async def test_decimal_and_datetime_travel_as_exact_strings(hub: EventHub) -> None:
    channel = new_channel("order")
    paid_at = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    async with hub.subscribe(channel) as subscription:
        await hub.publish(channel, {"total": Decimal("19.90"), "paidAt": paid_at})
        event = await next_event(subscription)
    assert event.payload == {"total": "19.90", "paidAt": "2024-05-01T12:30:00+00:00"}


async def test_first_subscriber_of_a_fresh_hub_gets_the_first_event(bus_url: str) -> None:
    # broadcaster 0.3.1's Redis backend with redis-py 8 loses exactly this event.
    for _ in range(3):
        async with EventHub.from_url(bus_url) as fresh_hub:
            channel = new_channel()
            async with fresh_hub.subscribe(channel) as subscription:
                await fresh_hub.publish(channel, {"n": 1})
                assert (await next_event(subscription)).payload == {"n": 1}


async def test_subscribers_of_a_channel_share_one_bus_subscription(
    hub: EventHub, redis_url_or_none: str | None
) -> None:
    channel = new_channel()
    async with (
        hub.subscribe(channel) as first,
        hub.subscribe(channel) as second,
        hub.subscribe(channel) as third,
    ):
        assert hub.subscriber_count(channel) == 3
        assert await bus_subscriptions(hub, channel, redis_url_or_none) == 1
        await hub.publish(channel, {"n": 1})
        for subscription in (first, second, third):
            event = await next_event(subscription)
            assert event.payload == {"n": 1}
        # One decoded object for everyone, not one decode per subscriber.
        assert first.pending == second.pending == third.pending == 0

    assert hub.subscriber_count(channel) == 0
    assert channel not in hub.channels
    # Leaving the last subscription released the channel on the bus before returning; Redis
    # processes the UNSUBSCRIBE asynchronously, so give it a moment.
    for _ in range(100):
        if await bus_subscriptions(hub, channel, redis_url_or_none) == 0:
            break
        await asyncio.sleep(0.01)
    assert await bus_subscriptions(hub, channel, redis_url_or_none) == 0


async def test_one_event_object_is_shared_by_all_local_subscribers(hub: EventHub) -> None:
    channel = new_channel()
    async with hub.subscribe(channel) as first, hub.subscribe(channel) as second:
        await hub.publish(channel, {"n": 1})
        assert await next_event(first) is await next_event(second)


async def test_resubscribing_right_after_leaving_still_receives(hub: EventHub) -> None:
    # Each round's UNSUBSCRIBE is still in flight when the next round's SUBSCRIBE starts:
    # the new subscribe must not be overtaken by the old release.
    channel = new_channel()
    for n in range(20):
        async with hub.subscribe(channel) as subscription:
            await hub.publish(channel, {"n": n})
            assert (await next_event(subscription)).payload == {"n": n}


async def test_concurrent_first_subscribers_all_receive_the_next_event(
    hub: EventHub, redis_url_or_none: str | None
) -> None:
    channel = new_channel()
    entered = 0
    all_entered = asyncio.Event()

    async def subscriber() -> LiveEvent:
        nonlocal entered
        async with hub.subscribe(channel) as subscription:
            entered += 1
            if entered == 50:
                all_entered.set()
            return await next_event(subscription, timeout=5.0)

    tasks = [asyncio.create_task(subscriber()) for _ in range(50)]
    async with asyncio.timeout(5):
        await all_entered.wait()
    assert hub.subscriber_count(channel) == 50
    assert await bus_subscriptions(hub, channel, redis_url_or_none) == 1

    await hub.publish(channel, {"n": 1})
    events = await asyncio.gather(*tasks)
    assert [event.payload for event in events] == [{"n": 1}] * 50


async def test_a_stalled_subscriber_loses_its_oldest_events_and_nobody_else_does(
    hub: EventHub,
) -> None:
    channel = new_channel("slow")
    total = 10_000
    dropped_before = metric(
        "shopgraph_live_events_dropped_total", family="slow", reason="slow_subscriber"
    )

    async with hub.subscribe(channel) as stalled, hub.subscribe(channel) as fast:

        async def read_everything() -> list[int]:
            return [(await anext(fast)).payload["n"] for _ in range(total)]

        reader = asyncio.create_task(read_everything())
        for n in range(total):
            await hub.publish(channel, {"n": n})
        async with asyncio.timeout(10):
            received = await reader

        assert received == list(range(total))
        assert stalled.pending == 100  # the default bound, never more
        assert stalled.dropped == total - 100
        assert [event.payload["n"] for event in stalled._events] == list(range(total - 100, total))
        assert fast.dropped == 0

    dropped_after = metric(
        "shopgraph_live_events_dropped_total", family="slow", reason="slow_subscriber"
    )
    assert dropped_after - dropped_before == total - 100


async def test_a_small_queue_size_bounds_memory(hub: EventHub) -> None:
    channel = new_channel()
    async with hub.subscribe(channel, queue_size=3) as subscription:
        for n in range(10):
            await hub.publish(channel, {"n": n})
        await wait_until(lambda: subscription.dropped == 7, 2, "7 events were dropped")
        assert [(await anext(subscription)).payload["n"] for _ in range(3)] == [7, 8, 9]


async def test_a_cancelled_consumer_leaves_nothing_behind(
    hub: EventHub, redis_url_or_none: str | None
) -> None:
    channel = new_channel()
    baseline = live_tasks()
    got_one = asyncio.Event()

    async def consume() -> None:
        async with hub.subscribe(channel) as subscription:
            async for _ in subscription:
                got_one.set()

    consumer = asyncio.create_task(consume())
    await wait_until(lambda: hub.subscriber_count(channel) == 1, 2, "the consumer subscribed")
    await hub.publish(channel, {"n": 1})
    async with asyncio.timeout(2):
        await got_one.wait()

    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert hub.subscriber_count(channel) == 0
    assert channel not in hub.channels
    assert channel not in getattr(hub.backend, "channels", ())
    await wait_until(lambda: not hub._releases, 2, "the bus release finished")
    await assert_no_new_tasks(baseline)
    if redis_url_or_none is not None:
        await asyncio.sleep(0.05)
    assert await bus_subscriptions(hub, channel, redis_url_or_none) == 0


async def test_cancelling_while_the_bus_subscribe_runs_leaves_nothing_behind(
    hub: EventHub, redis_url_or_none: str | None
) -> None:
    channel = new_channel()
    baseline = live_tasks()

    async def subscribe_forever() -> None:
        async with hub.subscribe(channel) as subscription:
            await anext(subscription)

    task = asyncio.create_task(subscribe_forever())
    await asyncio.sleep(0)  # attached; the bus subscribe has started, not finished
    assert hub.subscriber_count(channel) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert hub.subscriber_count(channel) == 0
    assert channel not in hub.channels
    await assert_no_new_tasks(baseline)
    assert channel not in getattr(hub.backend, "channels", ())
    await asyncio.sleep(0.05)
    assert await bus_subscriptions(hub, channel, redis_url_or_none) == 0


async def test_closing_a_resolver_generator_releases_its_subscription(hub: EventHub) -> None:
    # Strawberry ends a subscription by closing the resolver's async generator.
    channel = new_channel()

    async def resolver():
        async with hub.subscribe(channel) as subscription:
            async for event in subscription:
                yield event.payload["n"]

    stream = resolver()
    first = asyncio.ensure_future(anext(stream))
    await wait_until(lambda: hub.subscriber_count(channel) == 1, 2, "the resolver subscribed")
    await hub.publish(channel, {"n": 1})
    async with asyncio.timeout(2):
        assert await first == 1
    await stream.aclose()
    assert hub.subscriber_count(channel) == 0
    assert channel not in hub.channels


async def test_subscriber_gauge_follows_attach_and_detach(hub: EventHub) -> None:
    channel = new_channel("gauge")

    def subscribers() -> float:
        return metric("shopgraph_live_subscribers", family="gauge")

    before = subscribers()
    async with hub.subscribe(channel), hub.subscribe(channel):
        assert subscribers() == before + 2
        assert metric("shopgraph_live_channels", family="gauge") >= 1
    assert subscribers() == before


async def test_publish_counts_events(hub: EventHub) -> None:
    channel = new_channel("counted")
    before = metric("shopgraph_live_events_published_total", family="counted")
    await hub.publish(channel, {})
    await hub.publish(channel, {})
    assert metric("shopgraph_live_events_published_total", family="counted") == before + 2


async def test_a_malformed_message_is_skipped_and_counted(hub: EventHub) -> None:
    channel = new_channel()
    invalid_before = metric("shopgraph_live_events_invalid_total")
    async with hub.subscribe(channel) as subscription:
        await hub.backend.publish(channel, "not json")
        await hub.backend.publish(channel, "[1, 2]")
        await hub.publish(channel, {"n": 1})
        assert (await next_event(subscription)).payload == {"n": 1}
    assert metric("shopgraph_live_events_invalid_total") == invalid_before + 2


async def test_disconnect_ends_open_subscriptions(bus_url: str) -> None:
    baseline = live_tasks()
    hub = EventHub.from_url(bus_url)
    await hub.connect()
    channel = new_channel()
    entered = asyncio.Event()

    async def consume() -> list[LiveEvent]:
        async with hub.subscribe(channel) as subscription:
            entered.set()
            return [event async for event in subscription]

    consumer = asyncio.create_task(consume())
    async with asyncio.timeout(2):
        await entered.wait()
    await hub.disconnect()
    async with asyncio.timeout(2):
        assert await consumer == []
    assert not hub.connected
    await assert_no_new_tasks(baseline)


async def test_unusable_payloads_are_the_callers_bug(hub: EventHub) -> None:
    with pytest.raises(TypeError):
        await hub.publish(new_channel(), {"at": object()})
    with pytest.raises(TypeError):
        await hub.publish(new_channel(), ["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await hub.publish(new_channel(), {"total": float("nan")})
