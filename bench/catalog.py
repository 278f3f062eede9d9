"""Catalog read benchmark: `products(first: 50)` with nested fields over 10,000 products.

Servers, each one uvicorn worker on the same PostgreSQL database, measured in one run:
  (a) hand-written Starlette + asyncpg JSON endpoint      (bench/baselines.py)
  (b) bare graphql-core execute, pre-parsed, over asyncpg (bench/baselines.py)
  shopgraph, response cache off
  shopgraph, response cache on (anonymous catalog reads)
Prints requests/s, p50 and p99 latency, and the ratios the issue's targets are stated in.

    make bench-catalog            # or: .venv/bin/python -m bench.catalog --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile

import asyncpg

from bench.loadgen import build_request, fetch_once, run_load
from core.settings import Settings
from tests.support.live_server import live_server

QUERY = """query Catalog($first: Int!) {
  products(first: $first) {
    edges { cursor node { id name price { amount currency } category brand imageUrl
                          inStock inventory arEnabled } }
    pageInfo { hasNextPage endCursor }
  }
}"""
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shopgraph_bench"


async def prepare_database(url: str, products: int) -> None:
    admin = await asyncpg.connect(
        url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    )
    name = url.rsplit("/", 1)[1]
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    from core.db import database
    from models import Product, RecommendationEvent, RecommendationReward
    from services import seed

    async with database(Settings(database_url=url, env="test")):
        if await Product.all().count() != products:
            await seed.reset_database(truncate=True)
            await seed.seed_demo(products=products)
        # Decisions left by earlier benchmark runs would be learned from (their reward
        # windows close) by the servers under test, which then measure that work instead.
        await RecommendationReward.all().delete()
        await RecommendationEvent.all().delete()


async def measure(name: str, base: str, request: bytes, args) -> dict:
    result = await run_load(
        f"{base}/graphql", request, concurrency=args.concurrency, seconds=args.seconds
    )
    return {"name": name, "rps": result.rps, "p50": result.p50, "p99": result.percentile(0.99),
            "errors": result.errors}  # fmt: skip


async def run(args) -> None:
    url = args.database_url
    await prepare_database(url, args.products)
    body = json.dumps({"query": QUERY, "variables": {"first": 50}}).encode()
    request = build_request(
        "http://127.0.0.1/graphql", method="POST", body=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    common = {"BENCH_DATABASE_URL": url, "DATABASE_URL": url, "ENV": "test",
              "MIGRATE_ON_START": "false", "SEED_ON_START": "false", "LOG_LEVEL": "WARNING",
              "DATA_DIR": tempfile.mkdtemp(prefix="shopgraph-bench-")}  # fmt: skip
    servers = [
        ("(a) hand-written Starlette+asyncpg", "bench.baselines:handwritten", {}),
        ("(b) bare graphql-core + asyncpg", "bench.baselines:graphql_core", {}),
        ("shopgraph (no response cache)", "app:create_app", {"RESPONSE_CACHE": "false"}),
        ("shopgraph (response cache)", "app:create_app", {"RESPONSE_CACHE": "true"}),
    ]
    results, reference = [], None
    for name, factory, env in servers:
        with live_server({**common, **env}, factory=factory, health_path="/graphql") as base:
            _status, payload = await fetch_once(f"{base}/graphql", request)
            data = json.loads(payload)["data"]
            if reference is None:
                reference = data
            elif data != reference:
                print(f"!! {name} returned different data than (a)")
            results.append(await measure(name, base, request, args))
    a, b = results[0]["rps"], results[1]["rps"]
    print(f"\nproducts(first: 50), 9 fields per product, {args.products} products, "
          f"{args.concurrency} connections, {args.seconds:.0f}s per server\n")  # fmt: skip
    print(f"{'server':38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs (a)':>7} {'vs (b)':>7}")
    for r in results:
        errors = f"  errors={r['errors']}" if r["errors"] else ""
        print(f"{r['name']:38} {r['rps']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
              f"{r['rps'] / a:7.2f} {r['rps'] / b:7.2f}{errors}")  # fmt: skip
    print("\ntargets: uncached >= 0.75x of (b); cached >= 1.0x of (a)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
