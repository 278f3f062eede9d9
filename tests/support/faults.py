"""Shared by the fault tests (tests/ws/test_faults.py, tests/live/test_redis_outage.py):
a live server's environment, a shop to fault, load loops and a TCP proxy to cut."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import suppress
from pathlib import Path

import httpx

from services.tokens import DevIssuer
from tests.support.auth import CLIENT_ORIGIN

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


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


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


class CheckoutProgress:
    """What one shopper's checkout loop has done so far (read while it runs)."""

    def __init__(self) -> None:
        self.ok: list[str] = []
        self.failed: list[str | None] = []
        self.durations: list[float] = []


async def stock_carts(base: str, tmp: Path, *, inventory: int, shoppers: int):
    """An admin creates a product; returns tokens of `shoppers` shoppers and its id."""
    issuer = DevIssuer(tmp / "dev-keys")
    admin = issuer.issue("user_fault_admin", azp=CLIENT_ORIGIN, admin=True)
    tokens = [issuer.issue(f"user_fault_{i}", azp=CLIENT_ORIGIN) for i in range(shoppers)]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        product = {"name": "Kettle", "price": "20.00", "category": "Home", "brand": "Acme"}
        created = await gql(http, CREATE, {"input": {**product, "inventory": inventory}}, admin)
    return tokens, created["data"]["createProduct"]["product"]["id"]


async def checkout_loop(
    base: str, token: str, product: str, stop: asyncio.Event, progress: CheckoutProgress
) -> None:
    """Add one unit and check out, again and again, until `stop`; record every request."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        n = 0
        while not stop.is_set():
            n += 1
            for query, variables in (
                (ADD, {"p": product, "q": 1}),
                (CHECKOUT, {"key": f"loop-{n}"}),
            ):
                started = time.monotonic()
                body = await gql(http, query, variables, token)
                progress.durations.append(time.monotonic() - started)
                errors = body.get("errors") or next(
                    (p["userErrors"] for p in (body.get("data") or {}).values() if p["userErrors"]),
                    [],
                )
                if errors:
                    first = errors[0]
                    progress.failed.append(
                        first.get("code") or first.get("extensions", {}).get("code")
                    )
                    break
                if query is CHECKOUT:
                    progress.ok.append(body["data"]["checkout"]["order"]["id"])


async def wait_until_async(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)
