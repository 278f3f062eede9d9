"""Checkout throughput on PostgreSQL, with an oversell audit.

    .venv/bin/python -m bench.checkout                     # both ways, 50 buyers, 3 rounds
    .venv/bin/python -m bench.checkout --via graphql       # the whole HTTP/GraphQL stack only
    .venv/bin/python -m bench.checkout --buyers 50 --seconds 10 --rounds 5 --pool 20

Runs against its own database (`shopgraph_bench_checkout` on the local server by default; created
when missing, emptied on every run), never the test database.

Two figures, both with `--buyers` concurrent shoppers over `--products` products, a few of
them "hot" with little stock so that buyers really compete for the last units:

- checkout: rounds in which every buyer's cart is filled (1 to 3 random products, written
  straight to the table, not timed) and then all buyers check out at once; checkouts/s is
  the orders placed divided by the time spent in those checkout waves.
- flow: each buyer loops through addToCart for 1 to 3 products and checkout on its own
  clock; orders/s is the orders placed divided by the run time (cart work included).

Both ways are measured in one run, in `--rounds` rounds that alternate between them, each
on a freshly prepared catalog: `services` calls the business functions in this process (the
cost of the transaction itself, the baseline), `graphql` sends the same mutations through a
real `shop`-style uvicorn server on a socket (one worker, its own process), with a dev token
per buyer. Printed: the median and spread over rounds, and per-round ratio graphql/services.

Refused checkouts (a product sold out meanwhile) empty the cart and go on; sold-out
products are not put in carts any more. The audit afterwards:
for every product, units sold must not exceed the starting stock (oversells) and the stock
left must equal starting stock minus units sold (lost updates). Both must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import httpx

from bench.rounds import Spread, add_rounds_argument, check_rounds, ratio, run_rounds_async
from core.db import apply_migrations, close_db, init_db
from core.errors import DomainError, DomainErrors
from core.settings import Settings
from models import CartItem, OrderItem, Product, User
from services import cart, seed
from services import checkout as checkouts
from services.recommendations.rewards import RewardTable
from tests.support.live_server import live_server

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shopgraph_bench_checkout"
CURRENCY = "USD"
PLENTY = 100_000  # stock of the ordinary products: they never run out during a run


class Buyer(Protocol):
    async def add(self, product_id: int, quantity: int) -> None: ...
    async def checkout(self, key: str) -> str | None:
        """None on success, else the first refusal code."""

    async def clear(self) -> None: ...


@dataclass
class ServiceBuyer:
    """Calls the service layer directly: the cost of the business transaction itself."""

    user_id: int
    rewards: RewardTable

    async def add(self, product_id: int, quantity: int) -> None:
        with contextlib.suppress(DomainError):  # sold out already: checkout will tell
            await cart.add_to_cart(
                user_id=self.user_id, product_id=product_id, quantity=quantity,
                rewards=self.rewards, currency=CURRENCY,
            )  # fmt: skip

    async def checkout(self, key: str) -> str | None:
        try:
            await checkouts.checkout(
                user_id=self.user_id, idempotency_key=key, rewards=self.rewards,
                currency=CURRENCY,
            )  # fmt: skip
        except DomainErrors as errors:
            return errors.errors[0].code.value
        except DomainError as error:
            return error.code.value
        return None

    async def clear(self) -> None:
        await cart.clear_cart(user_id=self.user_id, currency=CURRENCY)


ADD = (
    "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { userErrors { code } } }"
)
CHECKOUT = (
    "mutation($k: String!) { checkout(input: {idempotencyKey: $k}) "
    "{ order { id total { amount } } userErrors { code } } }"
)
CLEAR = "mutation { clearCart { userErrors { code } } }"


@dataclass
class GraphQLBuyer:
    """Goes through HTTP on a socket to a uvicorn server, authentication and GraphQL."""

    client: httpx.AsyncClient
    token: str

    async def _call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {self.token}"},
        )
        body = response.json()
        if "errors" in body:
            raise RuntimeError(body["errors"])
        return next(iter(body["data"].values()))

    async def add(self, product_id: int, quantity: int) -> None:
        gid = _global_id("Product", product_id)
        await self._call(ADD, {"p": gid, "q": quantity})

    async def checkout(self, key: str) -> str | None:
        payload = await self._call(CHECKOUT, {"k": key})
        return payload["userErrors"][0]["code"] if payload["userErrors"] else None

    async def clear(self) -> None:
        await self._call(CLEAR, {})


def _global_id(type_name: str, pk: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@dataclass
class Tally:
    placed: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


def basket(rng: random.Random, products: list[int], hot: list[int]) -> dict[int, int]:
    """1 to 3 products (one of them hot in 30% of baskets), 1 or 2 units each."""
    chosen = set(rng.sample(products, rng.randint(1, 3)))
    if hot and rng.random() < 0.3:
        chosen.add(rng.choice(hot))
    return {product_id: rng.randint(1, 2) for product_id in sorted(chosen)}


async def timed_checkout(buyer: Buyer, tally: Tally) -> None:
    started = time.perf_counter()
    refusal = await buyer.checkout(uuid.uuid4().hex)
    tally.latencies.append(time.perf_counter() - started)
    if refusal is None:
        tally.placed += 1
    else:
        tally.refusals[refusal] += 1
        await buyer.clear()


async def flow(
    buyer: Buyer, products: list[int], hot: list[int], deadline: float, rng: random.Random,
    tally: Tally,
) -> None:  # fmt: skip
    while time.perf_counter() < deadline:
        for product_id, quantity in basket(rng, products, hot).items():
            await buyer.add(product_id, quantity)
        await timed_checkout(buyer, tally)


async def checkout_waves(
    buyers: list[Buyer], users: list[User], products: list[int], hot: list[int],
    deadline: float, tally: Tally,
) -> float:  # fmt: skip
    """Fill every cart, then let every buyer check out at once; returns the time in waves."""
    rng = random.Random(7)
    in_waves = 0.0
    while time.perf_counter() < deadline:
        # Shoppers cannot put what is sold out in their carts (addToCart refuses it).
        in_stock = await Product.filter(id__in=hot, inventory__gt=0).values_list("id", flat=True)
        await CartItem.all().delete()
        await CartItem.bulk_create([
            CartItem(user_id=user.id, product_id=product_id, quantity=quantity)
            for user in users
            for product_id, quantity in basket(rng, products, list(in_stock)).items()
        ])  # fmt: skip
        started = time.perf_counter()
        await asyncio.gather(*(timed_checkout(b, tally) for b in buyers))
        in_waves += time.perf_counter() - started
    return in_waves


async def ensure_database(url: str) -> None:
    """Create the benchmark database on first use (connecting to the server's `postgres`)."""
    base, _, name = url.rpartition("/")
    admin = await asyncpg.connect(f"{base.replace('postgres://', 'postgresql://', 1)}/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def prepare(n_products: int, n_hot: int, hot_stock: int, n_buyers: int) -> dict[int, int]:
    """A fresh catalog and buyers; returns the starting stock per product."""
    await seed.reset_database(truncate=True)
    products = seed.generate_products(n_products, seed=42, currency=CURRENCY)
    for index, product in enumerate(products):
        product.is_active = True
        product.inventory = hot_stock if index < n_hot else PLENTY
    await Product.bulk_create(products, batch_size=1000)
    await User.bulk_create(
        [User(clerk_id=f"user_bench_{i}", email=f"bench{i}@example.com") for i in range(n_buyers)]
    )
    return dict(await Product.all().values_list("id", "inventory"))


async def audit(start: dict[int, int]) -> tuple[int, int, int]:
    """(oversold products, products whose stock does not add up, products below zero)."""
    sold: Counter[int] = Counter()
    for product_id, quantity in await OrderItem.all().values_list("product_id", "quantity"):
        sold[product_id] += quantity
    now = dict(await Product.all().values_list("id", "inventory"))
    oversold = sum(sold[p] > start[p] for p in start)
    mismatched = sum(now[p] != start[p] - sold[p] for p in start)
    negative = sum(v < 0 for v in now.values())
    return oversold, mismatched, negative


@dataclass
class Outcome:
    """One measured run of one way: orders placed, checkout latencies, the stock audit."""

    placed: int
    elapsed: float
    tally: Tally
    audit: tuple[int, int, int]

    @property
    def rate(self) -> float:
        return self.placed / self.elapsed


async def measure(args: argparse.Namespace, via: str, base: str | None, tokens) -> Outcome:
    start = await prepare(args.products, args.hot, args.hot_stock, args.buyers)
    all_ids = sorted(start)
    hot, ordinary = all_ids[: args.hot], all_ids[args.hot :]
    users = await User.filter(clerk_id__startswith="user_bench_").order_by("id")
    tally = Tally()
    limits = httpx.Limits(max_connections=args.buyers, max_keepalive_connections=args.buyers)
    async with httpx.AsyncClient(base_url=base or "http://unused", limits=limits,
                                 timeout=60) as client:  # fmt: skip
        if via == "services":
            rewards = RewardTable()
            buyers: list[Buyer] = [ServiceBuyer(u.id, rewards) for u in users]
        else:
            buyers = [GraphQLBuyer(client, tokens[u.clerk_id]) for u in users]
        began = time.perf_counter()
        deadline = began + args.seconds
        if args.mode == "checkout":
            elapsed = await checkout_waves(buyers, users, ordinary, hot, deadline, tally)
        else:
            await asyncio.gather(*(
                flow(b, ordinary, hot, deadline, random.Random(i), tally)
                for i, b in enumerate(buyers)
            ))  # fmt: skip
            elapsed = time.perf_counter() - began
    return Outcome(tally.placed, elapsed, tally, await audit(start))


async def run(args: argparse.Namespace) -> None:
    await ensure_database(args.url)
    data_dir = Path(args.data_dir).resolve()
    settings = Settings(
        env="test", database_url=args.url, database_pool_size=args.pool, seed_on_start=False,
        migrate_on_start=False, data_dir=data_dir,
    )  # fmt: skip
    await apply_migrations(settings)
    await init_db(settings)
    ways = ("services", "graphql") if args.via == "both" else (args.via,)
    env = {"DATABASE_URL": args.url, "ENV": "test", "DATA_DIR": str(data_dir),
           "DATABASE_POOL_SIZE": str(args.pool), "MIGRATE_ON_START": "false",
           "SEED_ON_START": "false", "LOG_LEVEL": "WARNING", "RATE_LIMIT_MUTATIONS": "0",
           "RESPONSE_CACHE": "false"}  # fmt: skip
    try:
        with ExitStack() as stack:
            base = None
            if "graphql" in ways:
                base = stack.enter_context(live_server(env, args=("--no-access-log",)))
            from services.tokens import DevIssuer

            issuer = DevIssuer.for_settings(settings)
            tokens = {f"user_bench_{i}": issuer.issue(f"user_bench_{i}", ttl=3600)
                      for i in range(args.buyers)}  # fmt: skip
            print(
                f"{args.mode}: {args.buyers} buyers, {args.products} products ({args.hot} hot "
                f"with {args.hot_stock} units), pool {args.pool}, {args.rounds} alternating "
                f"rounds x {args.seconds:.0f} s of {' and '.join(ways)} ...",
                flush=True,
            )
            outcomes = await run_rounds_async(
                ways, args.rounds, lambda via, _i: measure(args, via, base, tokens)
            )
    finally:
        await close_db()
    report(args.mode, outcomes)


def report(mode: str, outcomes: dict[str, list[Outcome]]) -> None:
    unit = "checkouts/s" if mode == "checkout" else "orders/s (cart work included)"
    failed = False
    for via, runs in outcomes.items():
        latencies = sorted(x for o in runs for x in o.tally.latencies)
        cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        refusals = sum((o.tally.refusals for o in runs), Counter())
        oversold, mismatched, negative = (sum(o.audit[i] for o in runs) for i in range(3))
        rates = [o.rate for o in runs]
        print(f"\nvia {via}")
        print(f"  {unit:18} {Spread.of(rates).format()} (median, min-max over rounds)")
        print(f"  orders placed      {sum(o.placed for o in runs)} in "
              f"{sum(o.elapsed for o in runs):.1f} s of checkout")  # fmt: skip
        print(f"  checkout attempts  {len(latencies)} ({dict(refusals) or 'no refusals'})")
        print(
            f"  checkout latency   p50 {cuts[49] * 1000:.1f} ms, p95 {cuts[94] * 1000:.1f} ms, "
            f"p99 {cuts[98] * 1000:.1f} ms (all rounds)"
        )
        print(f"  oversells          {oversold}")
        print(f"  stock mismatches   {mismatched} (stock left != start - sold)")
        print(f"  negative stock     {negative}")
        failed = failed or bool(oversold or mismatched or negative)
        failed = failed or not any(o.placed for o in runs)
    if len(outcomes) == 2:
        share = ratio([o.rate for o in outcomes["graphql"]], [o.rate for o in outcomes["services"]])
        print(f"\ngraphql over HTTP / services, per round: {share.format(2)}")
    if failed:
        raise SystemExit("FAILED: stock went wrong (or nothing was sold)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL database (emptied!)")
    parser.add_argument("--mode", choices=("checkout", "flow"), default="checkout")
    parser.add_argument("--via", choices=("both", "services", "graphql"), default="both")
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--hot", type=int, default=20, help="products with little stock")
    parser.add_argument("--hot-stock", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--pool", type=int, default=10, help="DATABASE_POOL_SIZE")
    parser.add_argument("--data-dir", default="data/bench", help="dev keys for --via graphql")
    add_rounds_argument(parser)
    args = parser.parse_args()
    check_rounds(parser, args)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
