"""Read benchmarks over real HTTP: shopgraph's executors against bare graphql-core and a
hand-written endpoint, on PostgreSQL with 10,000 products.

Servers, each one uvicorn worker (uvloop, httptools) on the same database, started once:
  (a) hand-written Starlette + asyncpg, orjson          (bench/baselines.py)
  (b) bare graphql-core `execute`, parsed once, asyncpg, orjson (bench/baselines.py)
  shopgraph GRAPHQL_EXECUTOR=compiled, response cache off
  shopgraph GRAPHQL_EXECUTOR=reference, response cache off
  shopgraph compiled with the response cache, against
  (a') the hand-written endpoint behind the same response cache (bench/baselines.py): a
       cached figure is only ever compared with a cached baseline

Scenarios (the signed-in ones use one benchmark shopper; the baselines read that user's
rows directly and verify no token, which flatters them):
  catalog          products(first: 50), 9 fields per product       (a), (b), both executors,
                                                                   cached vs (a')
  order            order(id) with 20 lines                          (a), (b), both executors
  cart             cart with 10 lines                               (a), (b), both executors
  recommendations  recommendations(first: 10)                       both executors only

Each scenario is measured in `--rounds` rounds (at least 3); each round visits every server
for `--seconds`, in an order that alternates between rounds. Printed per server: the median
req/s with its spread (min-max over rounds), and the median of the per-round ratios against
(a) and (b). Before measuring, every server's answer is compared; servers answering
different data stop the benchmark with exit status 1 (recommendations, which are sampled,
are compared by shape: the same keys and lengths).

    make bench-catalog            # or: .venv/bin/python -m bench.catalog --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field

from bench.baselines import BENCH_USER
from bench.loadgen import build_request, fetch_once, run_load
from bench.rounds import (
    DifferentData,
    Spread,
    add_rounds_argument,
    check_rounds,
    exit_on_different_data,
    order,
    ratio,
    require_same,
)
from bench.scenario_data import prepare_database, prepare_shopper
from core.settings import Settings
from tests.support.live_server import live_server

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shopgraph_bench"
CATALOG = """query Catalog($first: Int!) {
  products(first: $first) {
    edges { cursor node { id name price { amount currency } category brand imageUrl
                          inStock inventory arEnabled } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ORDER = """query Order($id: ID!) {
  order(id: $id) {
    id status total { amount currency }
    items { quantity productName unitPrice { amount currency } lineTotal { amount currency }
            product { id name } }
  }
}"""
CART = """query Cart {
  cart {
    itemCount subtotal { amount currency }
    lines { quantity unitPrice { amount currency } lineTotal { amount currency }
            product { id name brand inStock } }
  }
}"""
RECOMMENDATIONS = """query Recommendations {
  recommendations(first: 10) { items { slot product { id name price { amount currency } } } }
}"""


@dataclass
class Scenario:
    name: str
    title: str
    query: str
    servers: tuple[str, ...]
    signed_in: bool = False
    by_shape: bool = False
    variables: dict = field(default_factory=dict)


SERVERS = {
    "handwritten": ("(a) hand-written Starlette+asyncpg", "bench.baselines:handwritten", {}),
    "graphql_core": ("(b) bare graphql-core + asyncpg", "bench.baselines:graphql_core", {}),
    "compiled": ("shopgraph compiled", "app:create_app",
                 {"RESPONSE_CACHE": "false", "GRAPHQL_EXECUTOR": "compiled"}),
    "reference": ("shopgraph reference (graphql-core)", "app:create_app",
                  {"RESPONSE_CACHE": "false", "GRAPHQL_EXECUTOR": "reference"}),
    "cached": ("shopgraph compiled + response cache", "app:create_app",
               {"RESPONSE_CACHE": "true", "GRAPHQL_EXECUTOR": "compiled"}),
    "handwritten_cached": ("(a') hand-written + same cache", "bench.baselines:handwritten_cached",
                           {}),
}  # fmt: skip
BOTH = ("handwritten", "graphql_core", "compiled", "reference")
CACHED = ("cached", "handwritten_cached")


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


async def check_answers(scenario: Scenario, bases: dict[str, str], request_for) -> None:
    answers = {}
    for key in scenario.servers:
        status, payload = await fetch_once(f"{bases[key]}/graphql", request_for(key))
        body = json.loads(payload)
        if status != 200 or body.get("errors") or not body.get("data"):
            raise DifferentData(f"{scenario.name}: {key} answered {status} {payload[:300]!r}")
        answers[key] = shape(body["data"]) if scenario.by_shape else body["data"]
    require_same({SERVERS[key][0]: data for key, data in answers.items()}, scenario.name)


async def measure_scenario(scenario: Scenario, bases: dict[str, str], token: str, args) -> dict:
    body = json.dumps({"query": scenario.query, "variables": scenario.variables}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def request_for(key: str) -> bytes:
        extra = {}
        if scenario.signed_in and key not in ("handwritten", "graphql_core"):
            extra["Authorization"] = f"Bearer {token}"
        return build_request(
            "http://127.0.0.1/graphql", method="POST", body=body, headers={**headers, **extra}
        )

    await check_answers(scenario, bases, request_for)
    rounds: dict[str, list[float]] = {key: [] for key in scenario.servers}
    p50: dict[str, list[float]] = {key: [] for key in scenario.servers}
    errors: dict[str, int] = dict.fromkeys(scenario.servers, 0)
    for round_index in range(args.rounds):
        for key in order(scenario.servers, round_index):
            result = await run_load(
                f"{bases[key]}/graphql", request_for(key),
                concurrency=args.concurrency, seconds=args.seconds, warmup=args.warmup,
            )  # fmt: skip
            rounds[key].append(result.rps)
            p50[key].append(result.p50)
            errors[key] += result.errors
    return {"rounds": rounds, "p50": p50, "errors": errors}


def report(scenario: Scenario, measured: dict, args) -> list[str]:
    rounds = measured["rounds"]
    lines = [
        f"\n{scenario.title} — {args.rounds} rounds x {args.seconds:g} s, "
        f"{args.concurrency} connections",
        f"{'server':38} {'req/s':>7} {'spread':>13} {'p50 ms':>7} {'vs (a)':>13} {'vs (b)':>13}",
    ]

    def against(key: str, base: str) -> str:
        if key in CACHED:  # a cached figure has a cached baseline only: (a') in column (a)
            base = "handwritten_cached" if key == "cached" and base == "handwritten" else None
        if base is None or base not in rounds or key == base:
            return f"{'':>13}"
        return f"{ratio(rounds[key], rounds[base]).format(2):>13}"

    for key in scenario.servers:
        spread = Spread.of(rounds[key])
        median = spread.median
        spread = f"{spread.low:.0f}-{spread.high:.0f}"
        errors = f"  errors={measured['errors'][key]}" if measured["errors"][key] else ""
        lines.append(
            f"{SERVERS[key][0]:38} {median:7.0f} {spread:>13} "
            f"{statistics.median(measured['p50'][key]):7.2f} "
            f"{against(key, 'handwritten')} {against(key, 'graphql_core')}{errors}"
        )
    if "cached" in scenario.servers:
        lines.append("(the cached row's 'vs (a)' is against (a'), the hand-written endpoint "
                     "behind the same response cache)")  # fmt: skip
    return lines


def start_servers(stack: ExitStack, servers: dict) -> dict[str, str]:
    """Enter the servers' context managers at once (each start-up is mostly imports, so
    starting them side by side saves most of the waiting); every server that started is
    stopped by `stack`, also when another failed to start."""
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = {key: pool.submit(manager.__enter__) for key, manager in servers.items()}
    bases, failures = {}, []
    for key, future in futures.items():
        try:
            bases[key] = future.result()
        except Exception as exc:
            failures.append(exc)
        else:
            stack.push(servers[key].__exit__)
    if failures:
        raise failures[0]
    return bases


async def run(args) -> None:
    url = args.database_url
    sellable = await prepare_database(url, args.products)
    data_dir = tempfile.mkdtemp(prefix="shopgraph-bench-")
    common = {"BENCH_DATABASE_URL": url, "DATABASE_URL": url, "ENV": "test",
              "MIGRATE_ON_START": "false", "SEED_ON_START": "false", "LOG_LEVEL": "WARNING",
              "DATA_DIR": data_dir, "BENCH_USER": BENCH_USER}  # fmt: skip
    settings = Settings(env="test", database_url=url, data_dir=data_dir)
    wanted = [s for s in scenarios() if s.name in args.scenarios]
    keys = sorted({k for s in wanted for k in s.servers}, key=list(SERVERS).index)
    with ExitStack() as stack:
        bases = start_servers(stack, {
            key: live_server({**common, **SERVERS[key][2]}, factory=SERVERS[key][1],
                             health_path="/graphql", startup_timeout=180)
            for key in keys
        })  # fmt: skip
        token, order_id = await prepare_shopper(settings, bases["compiled"], sellable)
        lines = [
            f"shopgraph read benchmarks: {args.products} products on PostgreSQL, "
            f"one uvicorn worker per server; load average at start: {os.getloadavg()[0]:.1f}"
        ]
        for scenario in wanted:
            if scenario.name == "order":
                scenario.variables = {"id": order_id}
            measured = await measure_scenario(scenario, bases, token, args)
            block = report(scenario, measured, args)
            print("\n".join(block), flush=True)
            lines.extend(block)
        lines.append(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    print("\ntargets (catalog): compiled >= 2x (b) and >= 0.4x (a)")
    if args.output:
        with open(args.output, "w") as out:
            out.write("\n".join(lines) + "\n")


def scenarios() -> list[Scenario]:
    return [
        Scenario("catalog", "products(first: 50), 9 fields per product, uncached", CATALOG,
                 (*BOTH, *CACHED), variables={"first": 50}),
        Scenario("order", "order(id) with 20 lines", ORDER, BOTH, signed_in=True),
        Scenario("cart", "cart with 10 lines", CART, BOTH, signed_in=True),
        Scenario("recommendations", "recommendations(first: 10)", RECOMMENDATIONS,
                 ("compiled", "reference"), signed_in=True, by_shape=True),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    add_rounds_argument(parser)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--scenarios", nargs="+", default=[s.name for s in scenarios()],
        choices=[s.name for s in scenarios()],
    )  # fmt: skip
    parser.add_argument("--output", help="also write the tables to this file")
    args = parser.parse_args()
    check_rounds(parser, args)
    exit_on_different_data(lambda: asyncio.run(run(args)))


if __name__ == "__main__":
    main()
