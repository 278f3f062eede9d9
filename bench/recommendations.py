"""Recommendation benchmark: `recommendations(first: 10)` over a 10,000-product catalog.

Measured in one run on the same PostgreSQL database and candidate sets, in `--rounds`
alternating rounds of `--seconds` each:
  raw VW      a plain `vowpalwabbit.Workspace` loop with the learner's VW arguments (no
              `BanditLearner`): per decision, encode the shared and 150 action lines with
              the service's `FeatureEncoder`, parse them once, predict the pmf slot by slot
              over the remaining actions (VW's own `predict_multi`, the fastest binding
              path), sample each slot with numpy, release the examples. The candidate sets
              come from the service's own candidate generation over the same catalog; the
              model is warmed with rewards first. The model alone, no I/O.
  shopgraph   the GraphQL endpoint over HTTP, one uvicorn worker, signed-in shopper:
              HTTP + auth + GraphQL + candidates + ranking + decision logging; latency one
              request at a time, throughput with `--concurrency` connections.
Prints the median and spread over rounds of throughput and p50/p99, and the per-round
throughput ratio shopgraph / raw VW.

    .venv/bin/python -m bench.recommendations [--seconds 5] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pylibvw
from vowpalwabbit import Workspace

from bandit.features import ContextFeatures, FeatureEncoder
from bandit.learner import LearnerConfig
from bench.catalog import DEFAULT_URL, prepare_database
from bench.loadgen import LoadResult, build_request, fetch_once, run_load
from bench.rounds import Spread, add_rounds_argument, check_rounds, ratio, run_rounds_async
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
SLATE = 10


async def candidate_sets(url: str, n: int = 200) -> list[tuple[ContextFeatures, list]]:
    """`n` (context, 150 candidates) pairs from the service's candidate generation."""
    async with database(Settings(database_url=url, env="test"), migrate_first=False):
        holder = CatalogIndexHolder()
        await holder.load()
    rng = random.Random(1)
    return [
        (
            ContextFeatures(
                user_id=rng.randrange(1000),
                timestamp=datetime.now(UTC),
                device="mobile",
                page="home",
                recent_categories=("Sneakers",),
            ),
            holder.index.candidates(limit=150, rng=rng),
        )
        for _ in range(n)
    ]


class RawVW:
    """A plain VW ranking loop: `Workspace`, the same features, nothing of ours around it."""

    def __init__(self, sets: list[tuple[ContextFeatures, list]]) -> None:
        self.workspace = Workspace(arg_list=LearnerConfig().vw_args())
        self.encoder = FeatureEncoder()
        self.sets = sets
        self.rng = np.random.default_rng(1)
        # Warm the model (weights for the crosses exist, as in a serving model).
        for context, candidates in sets[:100]:
            lines = self.lines(context, candidates)
            chosen = int(self.rng.integers(len(candidates)))
            lines[1 + chosen] = f"0:{-float(self.rng.random() < 0.1)}:0.1 {lines[1 + chosen]}"
            self.workspace.learn(lines)

    def lines(self, context, candidates) -> list[str]:
        return [
            self.encoder.shared_line(context),
            *self.encoder.action_lines(context, candidates),
        ]

    def decide(self, index: int) -> list[int]:
        context, candidates = self.sets[index % len(self.sets)]
        examples = pylibvw.vw._parse(self.workspace, "\n".join(self.lines(context, candidates)))
        try:
            remaining = list(range(len(candidates)))
            picks = []
            for _slot in range(min(SLATE, len(candidates))):
                subset = [examples[0], *(examples[1 + i] for i in remaining)]
                pylibvw.vw.predict_multi(self.workspace, subset)
                pmf = np.asarray(examples[0].get_action_scores(), dtype=float)
                picks.append(remaining.pop(int(self.rng.choice(len(pmf), p=pmf / pmf.sum()))))
            return picks
        finally:
            pylibvw.vw._finish_example_multi_ex(self.workspace, examples)

    def run(self, seconds: float) -> LoadResult:
        for i in range(20):
            self.decide(i)
        samples, started = [], time.perf_counter()
        while time.perf_counter() - started < seconds:
            t0 = time.perf_counter()
            self.decide(len(samples))
            samples.append((time.perf_counter() - t0) * 1000)
        return LoadResult(len(samples), time.perf_counter() - started, samples, 0)


async def run(args) -> None:
    url = args.database_url
    await prepare_database(url, args.products)
    raw = RawVW(await candidate_sets(url))

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
        if status != 200 or len(items) != SLATE:
            raise SystemExit(f"recommendations answered {status}: {payload[:300]!r}")

        async def measure(key: str, _round: int) -> LoadResult:
            if key == "raw":
                return raw.run(args.seconds)
            # Latency with one request at a time (no queueing), throughput with several.
            concurrency = 1 if key == "single" else args.concurrency
            return await run_load(
                f"{base}/graphql", request, concurrency=concurrency, seconds=args.seconds,
                warmup=args.warmup,
            )  # fmt: skip

        results = await run_rounds_async(("raw", "single", "concurrent"), args.rounds, measure)
    print(report(results, args))


def report(results: dict[str, list[LoadResult]], args) -> str:
    lines = [
        f"\nrecommendations(first: 10), {args.products} products, 150 candidates per slate, "
        f"{args.rounds} alternating rounds x {args.seconds:.0f} s; medians (min-max over "
        f"rounds); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)\n",
        f"{'':36} {'per s':>16} {'p50 ms':>18} {'p99 ms':>18}",
    ]
    labels = {
        "raw": "raw VW loop (Workspace, model only)",
        "single": "shopgraph over HTTP, 1 at a time",
        "concurrent": f"shopgraph over HTTP, {args.concurrency} at a time",
    }
    for key, label in labels.items():
        rs = results[key]
        errors = sum(r.errors for r in rs)
        lines.append(
            f"{label:36} {Spread.of([r.rps for r in rs]).format():>16} "
            f"{Spread.of([r.p50 for r in rs]).format(2):>18} "
            f"{Spread.of([r.percentile(0.99) for r in rs]).format(2):>18}"
            + (f"  errors={errors}" if errors else "")
        )
    share = ratio([r.rps for r in results["concurrent"]], [r.rps for r in results["raw"]])
    lines.append(
        f"\nthroughput shopgraph / raw VW, per round: {share.format(2)}  "
        "(target >= 0.25; p99 target <= 10 ms)"
    )
    if any(r.errors for rs in results.values() for r in rs):
        lines.append("FAILED: HTTP errors")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=4)
    add_rounds_argument(parser)
    args = parser.parse_args()
    check_rounds(parser, args)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
