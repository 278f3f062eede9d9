"""Recommendation benchmark: `recommendations(first: 10)` over a 10,000-product catalog.

Measured in one run on the same PostgreSQL database and candidate sets:
  raw VW      `BanditLearner.rank(k=10)` in a loop over 150-candidate sets built by the
              service's own candidate generation (the model alone, no I/O)
  shopgraph   the GraphQL endpoint over HTTP, one uvicorn worker, signed-in shopper:
              HTTP + auth + GraphQL + candidates + ranking + decision logging
Prints server-side p50/p99 latency and throughput, and throughput as a ratio of raw VW's.

    .venv/bin/python -m bench.recommendations [--seconds 10] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bandit.features import ContextFeatures
from bandit.learner import BanditLearner
from bench.catalog import DEFAULT_URL, prepare_database
from bench.loadgen import build_request, fetch_once, run_load
from core.db import database
from core.settings import Settings
from services.recommendations.candidates import CatalogIndexHolder
from services.tokens import DevIssuer
from tests.support.live_server import live_server

QUERY = """query Recs($context: RecommendationContextInput) {
  recommendations(first: 10, context: $context) {
    eventId items { probability score product { id name price { amount currency } } }
  }
}"""


async def raw_vw(url: str, seconds: float) -> tuple[float, float, float]:
    """Decisions/s, p50 and p99 ms of the model alone on the service's candidate sets."""
    async with database(Settings(database_url=url, env="test"), migrate_first=False):
        holder = CatalogIndexHolder()
        await holder.load()
    index = holder.index
    rng = random.Random(1)
    learner = BanditLearner()
    sets = []
    for _ in range(200):
        candidates = index.candidates(limit=150, rng=rng)
        context = ContextFeatures(
            user_id=rng.randrange(1000), timestamp=datetime.now(UTC), device="mobile",
            page="home", recent_categories=("Sneakers",),
        )  # fmt: skip
        sets.append((context, candidates))
    for context, candidates in sets[:50]:
        learner.rank(context, candidates, 10, seed=1)
    samples, started = [], time.perf_counter()
    while time.perf_counter() - started < seconds:
        context, candidates = sets[len(samples) % len(sets)]
        t0 = time.perf_counter()
        learner.rank(context, candidates, 10, seed=len(samples))
        samples.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    samples.sort()
    return len(samples) / elapsed, statistics.median(samples), samples[int(0.99 * len(samples))]


async def run(args) -> None:
    url = args.database_url
    await prepare_database(url, args.products)
    raw_rps, raw_p50, raw_p99 = await raw_vw(url, args.seconds)

    data_dir = Path(tempfile.mkdtemp(prefix="shopgraph-bench-recs-"))
    token = DevIssuer(data_dir / "dev-keys").issue("user_demo_shopper", ttl=3600)
    env = {"DATABASE_URL": url, "ENV": "dev", "DATA_DIR": str(data_dir),
           "MIGRATE_ON_START": "false", "SEED_ON_START": "false", "LOG_LEVEL": "WARNING",
           "RATE_LIMIT_MUTATIONS": "0"}  # fmt: skip
    body = json.dumps(
        {"query": QUERY, "variables": {"context": {"page": "home", "device": "mobile"}}}
    ).encode()
    request = build_request(
        "http://127.0.0.1/graphql", method="POST", body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )  # fmt: skip
    with live_server(env, args=("--no-access-log",)) as base:
        status, payload = await fetch_once(f"{base}/graphql", request)
        items = json.loads(payload)["data"]["recommendations"]["items"]
        assert status == 200 and len(items) == 10, payload[:300]
        # Latency with one request at a time (no queueing), throughput with several.
        single = await run_load(f"{base}/graphql", request, concurrency=1, seconds=args.seconds)
        result = await run_load(
            f"{base}/graphql", request, concurrency=args.concurrency, seconds=args.seconds
        )
    print(f"\nrecommendations(first: 10), {args.products} products, 150 candidates per slate, "
          f"{args.concurrency} connections, {args.seconds:.0f} s\n")  # fmt: skip
    print(f"{'':34} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'raw VW rank (model only)':34} {raw_rps:8.0f} {raw_p50:8.2f} {raw_p99:8.2f}")
    for label, r in (
        ("shopgraph over HTTP, 1 at a time", single),
        (f"shopgraph over HTTP, {args.concurrency} at a time", result),
    ):
        errors = f"  errors={r.errors}" if r.errors else ""
        print(f"{label:34} {r.rps:8.0f} {r.p50:8.2f} {r.percentile(0.99):8.2f}{errors}")
    print(
        f"\nthroughput ratio shopgraph / raw VW: {result.rps / raw_rps:.2f}  "
        "(target >= 0.25; p99 target <= 10 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
