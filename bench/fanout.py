"""Subscription fan-out benchmark: N websocket subscribers, one event, time to every client.

shopgraph runs as it does in production: PostgreSQL, the event bus on Redis
(`BROADCAST_URL`), one uvicorn worker. Its baseline, measured in the same run, is a bare
Starlette websocket endpoint that sends one pre-serialised message to the same number of
sockets on `POST /publish` (bench/baselines.py; no Redis hop, no GraphQL: the floor).

The subscribers live in `--client-processes` processes of their own (bench/fanout_clients.py),
so the client is not the bottleneck; this process only triggers events and keeps time.
For each size, `--rounds` rounds alternate between the two servers; each round connects
and subscribes N sockets, sends `--events` events and closes the sockets. Measured:
  - connect + subscribe rate (all client processes at once),
  - trigger -> receipt latency at every socket, p50 / p99 (t0 is when the trigger request
    is sent: an admin `setInventory` mutation for shopgraph, `POST /publish` for the bare
    endpoint),
  - server RSS and memory per connection (first round, on a fresh server),
and, for shopgraph, RSS growth over `--cycles` subscribe/complete cycles on one socket.
A subscriber that has not received an event within `--timeout` seconds is a failure, not a
missing sample: any failure fails the run (exit status 1).

    .venv/bin/python -m bench.fanout [--subscribers 1000,5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import websockets

from bench import fanout_clients
from bench.rounds import Spread, add_rounds_argument, check_rounds, ratio, run_rounds_async
from bench.scenario_data import create_database
from services.tokens import DevIssuer
from tests.support.live_server import ServerURL, live_server

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shopgraph_bench_fanout"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PRODUCT_ID = "UHJvZHVjdDox"  # Product:1
VALUES = itertools.count(100)
UVICORN = ("--ws-per-message-deflate", "false", "--no-access-log")
SET_INVENTORY = (
    "mutation($p: ID!, $n: Int!) { setInventory(productId: $p, inventory: $n) "
    "{ userErrors { code } } }"
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Round:
    rate: float
    latencies: list[float]
    failures: int
    rss: float
    per_conn_kb: float

    @property
    def p50(self) -> float:
        return self.percentile(0.5)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


class ClientProcesses:
    """N subscribers spread over processes; `expect` waits for one event at all of them."""

    def __init__(self, url: str, n: int, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        share = [n // processes + (i < n % processes) for i in range(processes)]
        first = 0
        for count in share:
            if not count:
                continue
            parent, child = context.Pipe()
            process = context.Process(
                target=fanout_clients.run, args=(url, first, count, child), daemon=True
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
            first += count

    def _receive(self, pipe, timeout: float):
        if not pipe.poll(timeout):
            raise RuntimeError("a client process did not answer")
        message = pipe.recv()
        if message[0] == "error":
            raise RuntimeError(f"a client process failed: {message[1]}")
        return message

    async def wait_ready(self, timeout: float) -> float:
        """Seconds the slowest process took to connect and subscribe its sockets (process
        start-up not included)."""
        slowest = 0.0
        for pipe in self.pipes:
            _, _count, seconds = await asyncio.to_thread(self._receive, pipe, timeout)
            slowest = max(slowest, seconds)
        return slowest

    def expect(self, value: int, timeout: float) -> None:
        for pipe in self.pipes:
            pipe.send(("expect", value, timeout))

    async def results(self, timeout: float) -> tuple[list[float], int]:
        times, missing = [], 0
        for pipe in self.pipes:
            _, got, lost = await asyncio.to_thread(self._receive, pipe, timeout + 30)
            times += got
            missing += lost
        return times, missing

    async def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(("close",))
        for pipe in self.pipes:
            await asyncio.to_thread(self._receive, pipe, 60)
        for process in self.processes:
            process.join(10)


async def measure(base: ServerURL, n: int, trigger, args, first_round: bool) -> Round:
    url = base.replace("http://", "ws://") + "/graphql"
    idle = rss_mb(base.pid)
    clients = ClientProcesses(url, n, args.client_processes)
    rate = n / await clients.wait_ready(timeout=300)
    connected = rss_mb(base.pid)
    latencies: list[float] = []
    failures = 0
    try:
        for _event in range(args.events):
            value = next(VALUES)  # a new stock level each event: its receipt is unambiguous
            clients.expect(value, args.timeout)
            t0 = time.perf_counter()
            await trigger(value)
            times, missing = await clients.results(args.timeout)
            latencies += [(t - t0) * 1000 for t in times]
            failures += missing
    finally:
        await clients.close()
    per_conn = (connected - idle) * 1024 / n if first_round else float("nan")
    return Round(rate, latencies, failures, connected, per_conn)


async def subscribe_cycles(base: ServerURL, cycles: int) -> tuple[float, float]:
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send('{"type":"connection_init","payload":{}}')
        await ws.recv()

        async def cycle(i: int) -> None:
            payload = {"query": fanout_clients.SUBSCRIPTION}
            await ws.send(json.dumps({"id": f"c{i}", "type": "subscribe", "payload": payload}))
            await ws.send(json.dumps({"id": f"c{i}", "type": "complete"}))

        async def settled() -> None:  # a round trip: everything sent before is processed
            await ws.send('{"type":"ping"}')
            while json.loads(await ws.recv()).get("type") != "pong":
                pass

        warm = min(1000, cycles)
        for i in range(warm):
            await cycle(i)
        await settled()
        before = rss_mb(base.pid)
        for i in range(warm, warm + cycles):
            await cycle(i)
        await settled()
        return before, rss_mb(base.pid)


async def prepare_database(url: str) -> None:
    """A fresh database of the benchmark's own (the server migrates and seeds it)."""
    await create_database(url, fresh=True)


async def run(args) -> int:
    sizes = [int(n) for n in args.subscribers.split(",")]
    data_dir = Path(tempfile.mkdtemp(prefix="shopgraph-bench-fanout-"))
    await prepare_database(args.database_url)
    env = {"ENV": "dev", "DATA_DIR": str(data_dir), "DATABASE_URL": args.database_url,
           "BROADCAST_URL": args.redis_url, "SEED_ON_START": "true",
           # Pub/sub channels are global to a Redis server: keep this run's apart.
           "EVENT_NAMESPACE": f"bench-fanout-{os.getpid()}",
           "MIGRATE_ON_START": "true", "LOG_LEVEL": "WARNING", "WS_MAX_PENDING": "100",
           "RATE_LIMIT_MUTATIONS": "0",
           "WS_MAX_ANONYMOUS_CONNECTIONS_PER_IP": str(max(sizes) * 2)}  # fmt: skip
    admin = DevIssuer(data_dir / "dev-keys").issue("user_demo_admin", admin=True)
    results: dict[int, dict[str, list[Round]]] = {}
    cycles = (float("nan"), float("nan"))
    async with httpx.AsyncClient(timeout=60) as http:
        for n in sizes:
            with (
                live_server({"DATA_DIR": str(data_dir)}, factory="bench.baselines:bare_websockets",
                            args=UVICORN) as bare,
                live_server(env, args=UVICORN, startup_timeout=180) as ours,
            ):  # fmt: skip

                async def bare_trigger(value: int) -> None:
                    message = {"id": "s", "type": "next", "payload": {"data": {
                        "inventoryChanged": {"productId": PRODUCT_ID, "inventory": value,
                                             "inStock": True}}}}  # fmt: skip
                    response = await http.post(f"{bare}/publish", content=json.dumps(message))
                    response.raise_for_status()

                async def our_trigger(value: int) -> None:
                    response = await http.post(
                        f"{ours}/graphql", headers={"authorization": f"Bearer {admin}"},
                        json={"query": SET_INVENTORY, "variables": {"p": PRODUCT_ID, "n": value}},
                    )  # fmt: skip
                    body = response.json()
                    if (
                        response.status_code != 200
                        or body.get("errors")
                        or (body["data"]["setInventory"]["userErrors"])
                    ):
                        raise RuntimeError(f"setInventory: {response.text[:300]}")

                servers = {"bare": (bare, bare_trigger), "shopgraph": (ours, our_trigger)}

                async def one(key: str, index: int, n: int = n, servers=servers) -> Round:
                    base, trigger = servers[key]
                    return await measure(base, n, trigger, args, first_round=index == 0)

                results[n] = await run_rounds_async(("bare", "shopgraph"), args.rounds, one)
                if n == sizes[-1] and args.cycles:
                    cycles = await subscribe_cycles(ours, args.cycles)
    return report(results, cycles, args)


def report(results: dict[int, dict[str, list[Round]]], cycles, args) -> int:
    print(f"\nfan-out over {args.client_processes} client processes, {args.rounds} alternating "
          f"rounds x {args.events} events; shopgraph on PostgreSQL + Redis; medians "
          f"(min-max over rounds); load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores, shared with other work\n")  # fmt: skip
    print(f"{'server':10} {'subs':>6} {'conn/s':>16} {'p50 ms':>18} {'p99 ms':>20} "
          f"{'RSS MB':>7} {'KB/conn':>8} {'failed':>7}")  # fmt: skip
    failures = 0
    for n, by_server in results.items():
        for key, rounds in by_server.items():
            failed = sum(r.failures for r in rounds)
            failures += failed
            print(f"{key:10} {n:6d} {Spread.of([r.rate for r in rounds]).format():>16} "
                  f"{Spread.of([r.p50 for r in rounds]).format(1):>18} "
                  f"{Spread.of([r.p99 for r in rounds]).format(1):>20} "
                  f"{rounds[0].rss:7.0f} {rounds[0].per_conn_kb:8.1f} {failed:7d}")  # fmt: skip
    for n, by_server in results.items():
        bare, ours = by_server["bare"], by_server["shopgraph"]
        p99 = ratio([r.p99 for r in ours], [r.p99 for r in bare]).format(2)
        print(f"{n} subscribers: p99 {p99}x bare (target <= 1.5), memory/conn "
              f"{ours[0].per_conn_kb / bare[0].per_conn_kb:.2f}x bare (target <= 1.5), "
              f"connect+subscribe {ratio([r.rate for r in ours], [r.rate for r in bare]).format(2)}"
              "x bare")  # fmt: skip
    before, after = cycles
    if args.cycles:
        print(f"{args.cycles} subscribe/complete cycles: RSS {before:.0f} -> {after:.0f} MB "
              f"({(after - before) / before:+.1%}; target < +10%)")  # fmt: skip
    if failures:
        print(f"FAILED: {failures} subscriber-events never arrived within {args.timeout:.0f} s",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", default="1000,5000")
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0, help="per event, seconds")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_FANOUT_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    add_rounds_argument(parser)
    args = parser.parse_args()
    check_rounds(parser, args)
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
