"""CPU per request, in process: a benchmark request (`--scenario catalog|order|cart`) sent
straight to each ASGI app (no sockets, no load generator), timed with the process's CPU
clock, which a busy shared machine disturbs far less than wall-clock throughput.
Every app answers once first and all must answer the same data (else exit status 1); then
`--rounds` rounds (>= 3) visit every app in an alternating order, `--requests` requests
each; printed per app: the median CPU per request with its range, and the median of the
per-round ratios against (a) and (b).
`--profile` prints the top frames (cProfile, CPU time) of shopgraph's compiled request.

    .venv/bin/python -m bench.profile_request [--scenario order] [--requests 300] [--profile]

Needs the benchmark database with its shopper (`make bench-catalog` creates both).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import io
import json
import os
import pstats
import tempfile
import time

import asyncpg

from bench.baselines import BENCH_USER
from bench.catalog import CART, CATALOG, DEFAULT_URL, ORDER
from bench.rounds import (
    Spread,
    add_rounds_argument,
    check_rounds,
    exit_on_different_data,
    ratio,
    require_same,
    run_rounds_async,
)
from bench.scenario_data import ORDER_KEY


def _scope(body: bytes, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                    (b"accept", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *headers],
    }  # fmt: skip


async def _request(app, body: bytes, headers: list[tuple[bytes, bytes]] = ()) -> bytes:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(_scope(body, list(headers)), receive, send)
    assert sent[0]["status"] == 200, sent
    return b"".join(m.get("body", b"") for m in sent[1:])


async def cpu_per_request(app, body: bytes, headers, requests: int) -> float:
    """CPU milliseconds per request over `requests` requests (after a short warm-up)."""
    for _ in range(10):
        await _request(app, body, headers)
    started = time.process_time()
    for _ in range(requests):
        await _request(app, body, headers)
    return (time.process_time() - started) / requests * 1000


def _apps(url: str, data_dir: str):
    from app import create_app
    from bench import baselines
    from core.settings import Settings

    os.environ["BENCH_DATABASE_URL"] = url
    common = dict(env="test", database_url=url, response_cache=False, migrate_on_start=False,
                  seed_on_start=False, data_dir=data_dir, log_level="WARNING")  # fmt: skip
    # Factories: an app's lifespan runs once, so every measurement gets a new app.
    return {
        "(a) hand-written": baselines.handwritten,
        "(b) bare graphql-core": baselines.graphql_core,
        "shopgraph compiled": lambda: create_app(Settings(**common, graphql_executor="compiled")),
        "shopgraph reference": lambda: create_app(Settings(**common, graphql_executor="reference")),
    }


async def _order_id(url: str) -> str:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        pk = await conn.fetchval("SELECT id FROM orders WHERE idempotency_key = $1", ORDER_KEY)
    finally:
        await conn.close()
    assert pk is not None, "run `make bench-catalog` first: it places the benchmark order"
    return base64.b64encode(f"Order:{pk}".encode()).decode()


async def main(args) -> None:
    from core.settings import Settings
    from services.tokens import DevIssuer

    data_dir = tempfile.mkdtemp(prefix="shopgraph-profile-")
    variables: dict = {}
    query = {"catalog": CATALOG, "order": ORDER, "cart": CART}[args.scenario]
    if args.scenario == "catalog":
        variables = {"first": 50}
    elif args.scenario == "order":
        variables = {"id": await _order_id(args.database_url)}
    body = json.dumps({"query": query, "variables": variables}).encode()
    token = DevIssuer.for_settings(Settings(env="test", data_dir=data_dir)).issue(BENCH_USER)
    signed_in = [(b"authorization", f"Bearer {token}".encode())]
    apps = _apps(args.database_url, data_dir)

    def headers_for(name: str) -> list:
        return signed_in if args.scenario != "catalog" and "shopgraph" in name else []

    profile = ""
    # One app alive at a time: shopgraph's apps share Tortoise's process-wide connections.
    answers = {}
    for name, make in apps.items():
        app = make()
        async with app.router.lifespan_context(app):
            answers[name] = json.loads(await _request(app, body, headers_for(name)))
    failed = {name: a for name, a in answers.items() if "errors" in a or not a.get("data")}
    if failed:
        raise SystemExit(f"errors instead of data: {json.dumps(failed)[:600]}")
    # `data` only: shopgraph also returns `extensions` (cost), which no baseline has.
    require_same({name: a["data"] for name, a in answers.items()}, f"{args.scenario} request")

    async def measure(name: str, _round: int) -> float:
        app = apps[name]()
        async with app.router.lifespan_context(app):
            return await cpu_per_request(app, body, headers_for(name), args.requests)

    results = await run_rounds_async(list(apps), args.rounds, measure)
    if args.profile:
        app, headers = apps["shopgraph compiled"](), headers_for("shopgraph compiled")
        async with app.router.lifespan_context(app):
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(args.requests):
                await _request(app, body, headers)
            profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        profile = out.getvalue()
    print(
        f"{args.scenario} request, CPU ms per request, in process: {args.rounds} alternating "
        f"rounds x {args.requests} requests, median (min-max); speed = baseline CPU / ours, "
        "per round"
    )
    for name, samples in results.items():
        speed_a = ratio(results["(a) hand-written"], samples).format(2)
        speed_b = ratio(results["(b) bare graphql-core"], samples).format(2)
        print(f"{name:26} {Spread.of(samples).format(3):>22}  speed vs (a) {speed_a:>16}  "
              f"vs (b) {speed_b:>16}")  # fmt: skip
    if args.profile:
        print(profile)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--scenario", choices=("catalog", "order", "cart"), default="catalog")
    parser.add_argument("--profile", action="store_true")
    add_rounds_argument(parser, default=5)
    args = parser.parse_args()
    check_rounds(parser, args)
    exit_on_different_data(lambda: asyncio.run(main(args)))
