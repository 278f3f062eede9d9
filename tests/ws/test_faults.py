"""Faults with real processes: a server killed with SIGKILL inside a checkout's transaction,
and PostgreSQL going away under load (through a TCP proxy this test controls: the shared
PostgreSQL itself is never restarted).

Figures (kill-to-clean time, time to recover, longest request in the outage) are printed
with `-s` and asserted only against generous bounds, never as speed claims.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest

from tests.support.faults import (
    CART,
    CHECKOUT,
    OUTAGE_REQUEST_BOUND,
    OUTAGE_SECONDS,
    TcpProxy,
    dsn,
    gql,
    server_env,
    stock_a_cart,
    wait_for,
)
from tests.support.live_server import live_process
from tests.support.services import fresh_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def backends(conn: asyncpg.Connection, *, waiting: bool = False) -> list[str]:
    """Queries of the other backends of this database (only those blocked on a lock)."""
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = await conn.fetch(
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND ($1 = false OR wait_event_type = 'Lock')",
        waiting,
    )
    return [r["query"] for r in rows]


async def test_a_worker_killed_inside_a_checkout_leaves_nothing_half_written(tmp_path):
    url = await fresh_postgres_database("kill9")
    env = server_env(tmp_path, url)
    with live_process(env) as (base, process):
        shop = await stock_a_cart(base, tmp_path, inventory=5, quantity=3)
        outside = await asyncpg.connect(dsn(url))
        user_id = await outside.fetchval(
            "SELECT id FROM users WHERE clerk_id = 'user_fault_shopper'"
        )
        # Our own uncommitted order with the key the checkout will use: its INSERT into
        # orders waits on the unique (user, key) index -- after it has locked the cart and
        # the product and taken the stock, deep inside its transaction.
        blocker = outside.transaction()
        await blocker.start()
        await outside.execute(
            "INSERT INTO orders (user_id, status, total, currency, idempotency_key, "
            "cart_fingerprint, created_at, updated_at) "
            "VALUES ($1, 'pending', 0, 'USD', 'crash-key', '', now(), now())",
            user_id,
        )
        watcher = await asyncpg.connect(dsn(url))
        http = httpx.AsyncClient(base_url=base, timeout=60)
        request = asyncio.create_task(gql(http, CHECKOUT, {"key": "crash-key"}, shop["shopper"]))
        blocked = await wait_for(
            lambda: backends(watcher, waiting=True), 30, "the checkout to block on the order insert"
        )
        assert any('INSERT INTO "orders"' in q for q in blocked), blocked
        # The stock is already taken inside the open transaction (invisible outside it).
        assert await watcher.fetchval("SELECT inventory FROM products") == 5

        process.kill()  # SIGKILL: no shutdown, no rollback sent by the server
        killed = time.monotonic()
        process.wait(timeout=10)
        with pytest.raises(httpx.HTTPError):
            await request
        await http.aclose()
        await blocker.rollback()
        await outside.close()
        # PostgreSQL ends the dead client's backend and rolls its transaction back.
        await wait_for(
            lambda: _none(backends(watcher)), 30, "the killed server's backends to go away"
        )
        cleaned = time.monotonic() - killed
        state = await watcher.fetchrow(
            "SELECT (SELECT inventory FROM products) AS stock, "
            "(SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_items) AS lines, "
            "(SELECT coalesce(sum(quantity), 0) FROM cart_items) AS in_cart, "
            "(SELECT count(*) FROM user_interactions WHERE action = 'purchase') AS purchases"
        )
        await watcher.close()
    assert dict(state) == {"stock": 5, "orders": 0, "lines": 0, "in_cart": 3, "purchases": 0}
    print(f"\nSIGKILL inside a checkout: backends gone and rolled back {cleaned:.2f} s after kill")

    # A new server on the same database checks the intact cart out, exactly once.
    with live_process(env) as (base, _process):
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            done = await gql(http, CHECKOUT, {"key": "crash-key"}, shop["shopper"])
            assert done["data"]["checkout"]["userErrors"] == [], done
        conn = await asyncpg.connect(dsn(url))
        try:
            assert await conn.fetchval("SELECT inventory FROM products") == 2
            assert await conn.fetchval("SELECT count(*) FROM orders") == 1
        finally:
            await conn.close()


async def _none(coro) -> bool:
    return not await coro


async def test_postgres_outage_under_load_fails_fast_and_the_pool_recovers(tmp_path):
    url = await fresh_postgres_database("outage")
    real = urlparse(url)
    proxy = TcpProxy(real.hostname, real.port)
    await proxy.start()
    proxied = real._replace(netloc=f"{real.username}@127.0.0.1:{proxy.port}").geturl()
    env = {**server_env(tmp_path, proxied), "DATABASE_POOL_SIZE": "5"}
    try:
        with live_process(env) as (base, _process):
            shop = await stock_a_cart(base, tmp_path, inventory=1000, quantity=1)
            results = await _outage_under_load(base, proxy, shop["shopper"])
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                done = await gql(http, CHECKOUT, {"key": "after-outage"}, shop["shopper"])
            assert done["data"]["checkout"]["userErrors"] == [], done
    finally:
        proxy.close()

    ready = results["ready"]
    assert ready[0] == 200 and 503 in ready and ready[-1] == 200, ready
    assert results["longest"] < OUTAGE_REQUEST_BOUND, results["longest"]
    assert results["failed"], "no request failed during the outage"
    # Coded for a retry, not masked as a bug (was INTERNAL_SERVER_ERROR).
    assert set(results["failed"]) == {"SERVICE_UNAVAILABLE"}, results["failed"]
    assert results["ok_after"] > 0
    print(
        f"\nPostgreSQL outage of {OUTAGE_SECONDS:.0f} s under load: "
        f"{results['requests']} requests, {len(results['failed'])} failed with codes "
        f"{sorted(set(results['failed']))}; longest request {results['longest']:.3f} s; "
        f"/readyz 503 after {results['noticed']:.2f} s, 200 again {results['recovered']:.2f} s "
        f"after the proxy came back; first good query {results['first_ok']:.2f} s after"
    )


async def _outage_under_load(base: str, proxy: TcpProxy, token: str) -> dict:
    """Four clients query in a loop while the proxy is cut for OUTAGE_SECONDS."""
    stop = asyncio.Event()
    durations: list[float] = []
    failed: list[str | None] = []
    ok_after = 0
    restored_at: float | None = None
    first_ok: float | None = None

    async def client() -> None:
        nonlocal ok_after, first_ok
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while not stop.is_set():
                started = time.monotonic()
                response = await http.post(
                    "/graphql",
                    json={"query": CART},
                    headers={"Authorization": f"Bearer {token}"},
                )
                durations.append(time.monotonic() - started)
                body = response.json()
                if response.status_code == 200 and "errors" not in body:
                    if restored_at is not None:
                        ok_after += 1
                        first_ok = first_ok or time.monotonic() - restored_at
                    continue
                errors = body.get("errors") or [{}]
                failed.append(errors[0].get("extensions", {}).get("code"))

    ready: list[int] = []

    async def readiness(http: httpx.AsyncClient) -> int:
        status = (await http.get("/readyz")).status_code
        if not ready or ready[-1] != status:
            ready.append(status)
        return status

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        workers = [asyncio.create_task(client()) for _ in range(4)]
        await asyncio.sleep(0.5)  # load running before the cut
        assert await readiness(http) == 200
        cut_at = time.monotonic()
        await proxy.cut()
        await wait_for(lambda: _is(readiness(http), 503), 15, "/readyz to report the outage")
        noticed = time.monotonic() - cut_at
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - noticed))
        await proxy.restore()
        restored_at = time.monotonic()
        await wait_for(lambda: _is(readiness(http), 200), 30, "/readyz to recover")
        recovered = time.monotonic() - restored_at
        await wait_for(lambda: _truthy(ok_after), 30, "a query to succeed again")
        stop.set()
        await asyncio.gather(*workers)
    return {
        "ready": ready,
        "longest": max(durations),
        "failed": failed,
        "ok_after": ok_after,
        "requests": len(durations),
        "noticed": noticed,
        "recovered": recovered,
        "first_ok": first_ok or 0.0,
    }


async def _is(coro, expected) -> bool:
    return await coro == expected


async def _truthy(value) -> bool:
    return bool(value)
