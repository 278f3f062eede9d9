"""Faults with real processes: a server killed with SIGKILL inside a checkout's transaction,
and PostgreSQL going away under load (through a TCP proxy this test controls: the shared
PostgreSQL itself is never restarted).

Figures (kill-to-clean time, time to recover, longest request in the outage) are printed
with `-s` and asserted only against generous bounds, never as speed claims.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest

from services.tokens import DevIssuer
from tests.support.auth import CLIENT_ORIGIN
from tests.support.live_server import live_process
from tests.support.services import fresh_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CREATE = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } userErrors { code } } }"""
ADD = """mutation($p: ID!, $q: Int!) {
  addToCart(productId: $p, quantity: $q) { userErrors { code } } }"""
CHECKOUT = """mutation($key: String!) {
  checkout(input: {idempotencyKey: $key}) { order { id } userErrors { code } } }"""
# Signed in, so no response cache answers it: every request goes to the database.
CART = "{ cart { itemCount lines { quantity product { inventory } } } }"
# No request may take longer than this while PostgreSQL is unreachable: connections are
# refused, so every database call fails at once; the bound leaves room for a loaded machine.
OUTAGE_REQUEST_BOUND = 10.0
OUTAGE_SECONDS = 3.0


def dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def gql(http: httpx.AsyncClient, query: str, variables=None, token=None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    return response.json()


def server_env(tmp: Path, database_url: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(tmp),
        "DATABASE_URL": database_url,
        "BROADCAST_URL": "memory://",
        "CLERK_AUTHORIZED_PARTIES": CLIENT_ORIGIN,
        "MIGRATE_ON_START": "true",
    }


async def stock_a_cart(base: str, tmp: Path, *, inventory: int, quantity: int) -> dict:
    """An admin creates a product; a shopper puts `quantity` of it in the cart."""
    issuer = DevIssuer(tmp / "dev-keys")
    admin = issuer.issue("user_fault_admin", azp=CLIENT_ORIGIN, admin=True)
    shopper = issuer.issue("user_fault_shopper", azp=CLIENT_ORIGIN)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        product = {"name": "Kettle", "price": "20.00", "category": "Home", "brand": "Acme"}
        created = await gql(http, CREATE, {"input": {**product, "inventory": inventory}}, admin)
        product_id = created["data"]["createProduct"]["product"]["id"]
        added = await gql(http, ADD, {"p": product_id, "q": quantity}, shopper)
        assert added["data"]["addToCart"]["userErrors"] == [], added
    return {"shopper": shopper, "product": product_id}


async def backends(conn: asyncpg.Connection, *, waiting: bool = False) -> list[str]:
    """Queries of the other backends of this database (only those blocked on a lock)."""
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = await conn.fetch(
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND ($1 = false OR wait_event_type = 'Lock')",
        waiting,
    )
    return [r["query"] for r in rows]


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


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


class TcpProxy:
    """A TCP proxy to PostgreSQL that the test can cut: every open connection is dropped
    and new ones are refused until `restore()`. It runs on an event loop of its own, in a
    thread, so it keeps serving while the test blocks (starting the server polls with
    time.sleep)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.transports: set[asyncio.WriteTransport] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _on_loop(self, coro):
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def start(self) -> None:
        await self._on_loop(self._listen())

    async def cut(self) -> None:
        await self._on_loop(self._cut())

    async def restore(self) -> None:
        await self._on_loop(self._listen())

    def close(self) -> None:
        with suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._cut(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
        for transport in list(self.transports):
            transport.abort()
        self.transports.clear()
        if self.server is not None:
            await self.server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.transports.update({writer.transport, up_writer.transport})
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.transports.discard(writer.transport)
            writer.transport.abort()


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
    assert all(code for code in results["failed"]), results["failed"]
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
