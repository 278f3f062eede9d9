"""The data the read benchmarks run on: 10,000 seeded products, and one benchmark shopper
with an order of 20 lines and a cart of 10 lines (made through the API, once; reused by
later runs)."""

from __future__ import annotations

import asyncpg
import httpx

from bench.baselines import BENCH_USER
from core.settings import Settings
from tests.support.graphql import global_id

ORDER_LINES = 20
CART_LINES = 10
ORDER_KEY = "bench-order-20-lines"


async def create_database(url: str, *, fresh: bool = False) -> None:
    """Create the PostgreSQL database `url` names if it is missing (`fresh`: drop it first,
    for a benchmark whose server migrates and seeds its own)."""
    server, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://") + "/postgres")
    try:
        if fresh:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def prepare_database(url: str, products: int) -> list[int]:
    """Seed (once) and return ids of products that can be bought (active, in stock)."""
    await create_database(url)

    from core.db import database
    from models import Product, RecommendationEvent, RecommendationReward
    from services import seed

    settings = Settings(database_url=url, env="test")
    async with database(settings):
        # `products` on sale (the demo catalog adds a few withdrawn ones: counting all rows
        # never matched, and every run seeded the catalog again).
        if await Product.filter(is_active=True).count() != products:
            await seed.reset_database(truncate=True)
            await seed.seed_demo(products=products)
        # Decisions left by earlier benchmark runs would be learned from (their reward
        # windows close) by the servers under test, which then measure that work instead.
        await RecommendationReward.all().delete()
        await RecommendationEvent.all().delete()
        sellable = Product.filter(is_active=True, inventory__gte=50).order_by("id")
        return list(await sellable.limit(ORDER_LINES + CART_LINES).values_list("id", flat=True))


async def _gql(client: httpx.AsyncClient, query: str, variables: dict | None = None) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


async def prepare_shopper(settings: Settings, base: str, sellable: list[int]) -> tuple[str, str]:
    """A token for the benchmark shopper and the global id of their 20-line order."""
    from services.tokens import DevIssuer

    token = DevIssuer.for_settings(settings).issue(BENCH_USER, ttl=24 * 3600, name="Bench")
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        orders = await _gql(
            client, "{ orders(first: 5) { edges { node { id items { quantity } } } } }"
        )
        found = [
            e["node"]["id"]
            for e in orders["orders"]["edges"]
            if len(e["node"]["items"]) == ORDER_LINES
        ]
        add = "mutation($p: ID!) { addToCart(productId: $p, quantity: 1) { userErrors { code } } }"
        if not found:
            await _gql(client, "mutation { clearCart { cart { itemCount } } }")
            for pk in sellable[:ORDER_LINES]:
                await _gql(client, add, {"p": global_id("Product", pk)})
            placed = await _gql(
                client,
                "mutation($k: String!) { checkout(input: {idempotencyKey: $k}) "
                "{ order { id } userErrors { code message } } }",
                {"k": ORDER_KEY},
            )
            found = [placed["checkout"]["order"]["id"]]
        cart = await _gql(client, "{ cart { lines { product { id } } } }")
        wanted = [global_id("Product", pk) for pk in sellable[ORDER_LINES:]]
        if [line["product"]["id"] for line in cart["cart"]["lines"]] != wanted:
            await _gql(client, "mutation { clearCart { cart { itemCount } } }")
            for product in wanted:
                await _gql(client, add, {"p": product})
    return token, found[0]
