"""CPU per request, in process: the catalog request sent straight to each ASGI app (no
sockets, no load generator), timed with the process's CPU clock, which a busy shared machine
disturbs far less than wall-clock throughput. `--profile` prints the top frames (cProfile)
of shopgraph's request.

    .venv/bin/python -m bench.profile_request [--requests 300] [--profile]

Needs the benchmark database (`make bench-catalog` creates it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import tempfile
import time

from bench.catalog import CATALOG, DEFAULT_URL


def _scope(body: bytes) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                    (b"accept", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip


async def _request(app, body: bytes) -> bytes:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(_scope(body), receive, send)
    assert sent[0]["status"] == 200, sent
    return b"".join(m.get("body", b"") for m in sent[1:])


async def cpu_per_request(app, body: bytes, requests: int, repeats: int = 5) -> list[float]:
    for _ in range(30):
        await _request(app, body)
    samples = []
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(requests):
            await _request(app, body)
        samples.append((time.process_time() - started) / requests * 1000)
    return samples


def _apps(url: str):
    from app import create_app
    from bench import baselines
    from core.settings import Settings

    os.environ["BENCH_DATABASE_URL"] = url
    data_dir = tempfile.mkdtemp(prefix="shopgraph-profile-")
    common = dict(env="test", database_url=url, response_cache=False, migrate_on_start=False,
                  seed_on_start=False, data_dir=data_dir, log_level="WARNING")  # fmt: skip
    return {
        "(a) hand-written": baselines.handwritten(),
        "(b) bare graphql-core": baselines.graphql_core(),
        "shopgraph compiled": create_app(Settings(**common, graphql_executor="compiled")),
        "shopgraph reference": create_app(Settings(**common, graphql_executor="reference")),
    }


async def main(args) -> None:
    body = json.dumps({"query": CATALOG, "variables": {"first": 50}}).encode()
    results = {}
    for name, app in _apps(args.database_url).items():
        async with app.router.lifespan_context(app):
            answer = json.loads(await _request(app, body))
            assert "errors" not in answer, answer
            results[name] = await cpu_per_request(app, body, args.requests)
            if args.profile and name == "shopgraph compiled":
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for _ in range(args.requests):
                    await _request(app, body)
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
                profile = out.getvalue()
    print(f"catalog request, CPU ms per request (median of 5 x {args.requests}, in process)")
    base_a = statistics.median(results["(a) hand-written"])
    base_b = statistics.median(results["(b) bare graphql-core"])
    for name, samples in results.items():
        median = statistics.median(samples)
        print(f"{name:26} {median:6.3f} ms  ({min(samples):.3f}-{max(samples):.3f})  "
              f"speed vs (a) {base_a / median:5.2f}  vs (b) {base_b / median:5.2f}")  # fmt: skip
    if args.profile:
        print(profile)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    asyncio.run(main(parser.parse_args()))
