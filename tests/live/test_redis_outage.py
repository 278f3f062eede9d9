"""Redis outages, on a private redis-server that the tests stop, restart and freeze."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import httpx
import pytest

from live import EventHub, PublishError, RedisPubSubBackend
from tests.live.support import (
    RedisServer,
    assert_no_new_tasks,
    free_port,
    live_tasks,
    metric,
    new_channel,
    wait_until,
)
from tests.support.faults import (
    OUTAGE_REQUEST_BOUND,
    OUTAGE_SECONDS,
    CheckoutProgress,
    checkout_loop,
    server_env,
    stock_carts,
    wait_until_async,
)
from tests.support.live_server import live_process
from tests.support.services import fresh_postgres_database

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PUBLISH_TIMEOUT = 0.5


def fast_backend(url: str, **options: float) -> RedisPubSubBackend:
    """Timeouts and delays short enough for a test to go through an outage in seconds."""
    settings = {
        "publish_timeout": PUBLISH_TIMEOUT,
        "connect_timeout": 0.5,
        "ping_interval": 0.5,
        "reconnect_min_delay": 0.05,
        "reconnect_max_delay": 0.5,
        "startup_wait": 2.0,
    }
    settings.update(options)
    return RedisPubSubBackend(url, **settings)


async def next_event(subscription, timeout: float = 2.0):
    async with asyncio.timeout(timeout):
        return await anext(subscription)


async def test_publish_fails_fast_in_an_outage_and_the_subscriber_recovers(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="live")
    baseline = live_tasks()
    channel = new_channel("outage")
    hub = EventHub(fast_backend(private_redis.url))
    await hub.connect()
    try:
        async with hub.subscribe(channel) as subscription:
            await hub.publish(channel, {"n": 1})
            assert (await next_event(subscription)).payload == {"n": 1}

            private_redis.stop()
            await wait_until(lambda: not hub.connected, 2, "the hub noticed the outage")

            started = time.monotonic()
            with pytest.raises(PublishError) as raised:
                await hub.backend.publish(channel, '{"n": 2}')
            assert time.monotonic() - started < PUBLISH_TIMEOUT + 0.5
            assert raised.value.channel == channel

            failures_before = metric("shopgraph_live_publish_failures_total", family="outage")
            started = time.monotonic()
            assert await hub.publish(channel, {"n": 2}) is False
            assert time.monotonic() - started < PUBLISH_TIMEOUT + 0.5
            failures = metric("shopgraph_live_publish_failures_total", family="outage")
            assert failures == failures_before + 1

            reconnects_before = metric("shopgraph_live_bus_reconnects_total")
            private_redis.start()
            await wait_until(lambda: hub.connected, 5, "the hub reconnected")
            assert metric("shopgraph_live_bus_reconnects_total") == reconnects_before + 1

            # The same subscription, never re-entered, receives again; {"n": 2} is lost.
            assert await hub.publish(channel, {"n": 3}) is True
            assert (await next_event(subscription)).payload == {"n": 3}
            assert subscription.pending == 0
    finally:
        await hub.disconnect()
    await assert_no_new_tasks(baseline)

    # next_published() never raised (the hub's listener would have logged an error), and the
    # outage is told in one line per change of state, not once per retry.
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("live")]
    assert not [message for level, message in records if level in ("ERROR", "CRITICAL")]
    lost = [message for _, message in records if "lost Redis" in message]
    back = [message for _, message in records if "reconnected" in message]
    assert len(lost) == 1 and len(back) == 1, records


async def test_a_hung_redis_cannot_hang_publish_and_its_silence_is_detected(
    private_redis: RedisServer,
) -> None:
    baseline = live_tasks()
    channel = new_channel("hung")
    hub = EventHub(fast_backend(private_redis.url))
    await hub.connect()
    try:
        async with hub.subscribe(channel) as subscription:
            private_redis.pause()  # sockets stay open, nothing answers
            started = time.monotonic()
            assert await hub.publish(channel, {"n": 1}) is False
            assert time.monotonic() - started < PUBLISH_TIMEOUT + 0.5

            # No FIN, no RST: only the unanswered PING reveals the dead connection.
            await wait_until(lambda: not hub.connected, 3, "the silent connection was dropped")

            private_redis.resume()
            await wait_until(lambda: hub.connected, 5, "the hub reconnected")
            assert await hub.publish(channel, {"n": 2}) is True
            assert (await next_event(subscription)).payload == {"n": 2}
    finally:
        await hub.disconnect()
    await assert_no_new_tasks(baseline)


async def test_subscribing_during_an_outage_takes_effect_when_redis_is_back(
    private_redis: RedisServer,
) -> None:
    baseline = live_tasks()
    private_redis.stop()
    channel = new_channel()
    hub = EventHub(fast_backend(private_redis.url, startup_wait=0.2))
    started = time.monotonic()
    await hub.connect()  # Redis is down: the hub starts anyway, not ready
    assert time.monotonic() - started < 1.0
    assert not hub.connected
    try:
        started = time.monotonic()
        async with hub.subscribe(channel) as subscription:
            assert time.monotonic() - started < 0.5  # does not wait for Redis
            private_redis.start()
            await wait_until(lambda: hub.connected, 5, "the hub connected")
            assert await hub.publish(channel, {"n": 1}) is True
            assert (await next_event(subscription)).payload == {"n": 1}
    finally:
        await hub.disconnect()
    await assert_no_new_tasks(baseline)


async def test_disconnect_during_an_outage_does_not_hang(private_redis: RedisServer) -> None:
    baseline = live_tasks()
    hub = EventHub(fast_backend(private_redis.url))
    await hub.connect()
    async with hub.subscribe(new_channel()):
        private_redis.stop()
        await wait_until(lambda: not hub.connected, 2, "the hub noticed the outage")
        async with asyncio.timeout(2):
            await hub.disconnect()
    await assert_no_new_tasks(baseline)


async def test_credentials_in_the_url_apply_to_the_subscriber_connection() -> None:
    # The subscriber connection is built outside redis-py's pool: check it still
    # authenticates, and survives a restart with the same password.
    RedisServer.require()  # regression: this one skipped even under REQUIRE_SERVICES=1
    server = RedisServer(free_port(), password="s3cret")
    server.start()
    try:
        channel = new_channel()
        async with EventHub(fast_backend(server.url)) as hub:
            assert hub.connected
            async with hub.subscribe(channel) as subscription:
                await hub.publish(channel, {"n": 1})
                assert (await next_event(subscription)).payload == {"n": 1}
                server.stop()
                await wait_until(lambda: not hub.connected, 2, "the hub noticed the outage")
                server.start()
                await wait_until(lambda: hub.connected, 5, "the hub reconnected")
                # Nothing was published during the outage, so the publisher's pooled
                # connection is stale: its one retry must reconnect, not report a failure.
                assert await hub.publish(channel, {"n": 2}) is True
                assert (await next_event(subscription)).payload == {"n": 2}
        wrong = EventHub(fast_backend(server.url.replace("s3cret", "wrong"), startup_wait=0.3))
        async with wrong:
            assert not wrong.connected  # AuthenticationError: retried, logged, not ready
    finally:
        server.stop()


async def test_checkouts_go_on_through_a_redis_outage_on_a_live_server(
    private_redis: RedisServer, tmp_path
) -> None:
    """A real server on PostgreSQL with its event bus (and rate limiter) on our private
    Redis: shoppers keep checking out while Redis is stopped for a few seconds. Orders are
    committed whatever happens to the events after the commit; /readyz says 503 while the
    bus is down and 200 once it is back; no request hangs."""
    url = await fresh_postgres_database("redisout")
    env = {**server_env(tmp_path, url), "BROADCAST_URL": private_redis.url}
    with live_process(env) as (base, _process):
        shoppers, product = await stock_carts(base, tmp_path, inventory=1000, shoppers=3)
        stop = asyncio.Event()
        progress = [CheckoutProgress() for _ in shoppers]
        loops = [
            asyncio.create_task(checkout_loop(base, token, product, stop, state))
            for token, state in zip(shoppers, progress, strict=True)
        ]
        ready: list[int] = []
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:

            async def readiness() -> int:
                status = (await http.get("/readyz")).status_code
                if not ready or ready[-1] != status:
                    ready.append(status)
                return status

            await wait_until_async(lambda: sum(len(p.ok) for p in progress) > 0, 30)
            assert await readiness() == 200
            stopped = time.monotonic()
            private_redis.stop()
            while await readiness() != 503:
                assert time.monotonic() - stopped < 15, "/readyz never noticed the outage"
                await asyncio.sleep(0.05)
            noticed = time.monotonic() - stopped
            before = sum(len(p.ok) for p in progress)
            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - noticed))
            during = sum(len(p.ok) for p in progress) - before
            private_redis.start()
            restarted = time.monotonic()
            while await readiness() != 200:
                assert time.monotonic() - restarted < 30, "/readyz never recovered"
                await asyncio.sleep(0.05)
            recovered = time.monotonic() - restarted
            after = sum(len(p.ok) for p in progress)
            await wait_until_async(lambda: sum(len(p.ok) for p in progress) > after, 30)
            stop.set()
            await asyncio.gather(*loops)
    ok = sum(len(p.ok) for p in progress)
    failed = [code for p in progress for code in p.failed]
    longest = max(d for p in progress for d in p.durations)
    assert ready == [200, 503, 200], ready
    assert longest < OUTAGE_REQUEST_BOUND, longest
    assert all(failed), failed  # every failure carries a code
    assert during > 0, "no checkout succeeded while Redis was down"
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        orders = await conn.fetchval("SELECT count(*) FROM orders")
        sold = await conn.fetchval("SELECT coalesce(sum(quantity), 0) FROM order_items")
        stock = await conn.fetchval("SELECT inventory FROM products")
    finally:
        await conn.close()
    assert orders == ok and stock + sold == 1000, (orders, ok, stock, sold)
    print(
        f"\nRedis outage of {OUTAGE_SECONDS:.0f} s during checkouts: {ok} orders "
        f"({during} while Redis was down), {len(failed)} failed {sorted(set(failed))}; "
        f"longest request {longest:.3f} s; /readyz 503 after {noticed:.2f} s, "
        f"200 again {recovered:.2f} s after Redis restarted"
    )
