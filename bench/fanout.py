"""Subscription fan-out benchmark: N websocket subscribers, one event, time to every client.

Measured in one run, against a bare Starlette websocket endpoint that sends the same
pre-serialised message to the same number of sockets (bench/baselines.py):
  - connect + subscribe rate,
  - publish -> receipt latency at every client, p50 / p99 over 5 events (t0 is when the
    trigger request is sent: an admin `adjustInventory` mutation for shopgraph, a
    `POST /publish` for the bare endpoint),
  - server RSS and memory per connection,
and, for shopgraph, RSS growth over 10,000 subscribe/complete cycles on one socket.

    .venv/bin/python -m bench.fanout [--subscribers 1000,5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import websockets

from services.tokens import DevIssuer
from tests.support.live_server import ServerURL, live_server

SUBSCRIPTION = "subscription { inventoryChanged { productId inventory inStock } }"
PRODUCT_ID = "UHJvZHVjdDox"  # Product:1
EVENTS = 5
UVICORN = ("--ws-per-message-deflate", "false", "--no-access-log")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    __slots__ = ("received", "ws")

    def __init__(self, ws) -> None:
        self.ws = ws
        self.received: list[float] = []

    async def listen(self) -> None:
        try:
            async for _message in self.ws:
                self.received.append(time.perf_counter())
        except websockets.ConnectionClosed:
            pass


async def connect(url: str, index: int) -> Client:
    ws = await websockets.connect(
        url, subprotocols=["graphql-transport-ws"], compression=None, max_queue=None,
        open_timeout=60, ping_interval=None,
    )  # fmt: skip
    await ws.send('{"type":"connection_init","payload":{}}')
    await ws.recv()
    payload = {"query": SUBSCRIPTION}
    await ws.send(json.dumps({"id": f"s{index}", "type": "subscribe", "payload": payload}))
    return Client(ws)


async def connect_all(url: str, n: int) -> tuple[list[Client], float]:
    started = time.perf_counter()
    clients: list[Client] = []
    for batch in range(0, n, 200):  # bounded concurrency: do not flood the accept queue
        clients += await asyncio.gather(
            *(connect(url, i) for i in range(batch, min(n, batch + 200)))
        )
    return clients, n / (time.perf_counter() - started)


async def measure(name: str, base: ServerURL, n: int, trigger) -> dict:
    url = base.replace("http://", "ws://") + "/graphql"
    idle = rss_mb(base.pid)
    clients, rate = await connect_all(url, n)
    listeners = [asyncio.create_task(c.listen()) for c in clients]
    await asyncio.sleep(1.0)
    connected = rss_mb(base.pid)
    latencies: list[float] = []
    for event in range(EVENTS):
        for c in clients:
            c.received.clear()
        t0 = time.perf_counter()
        await trigger(event)
        deadline = time.perf_counter() + 30
        while any(not c.received for c in clients) and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        latencies += [(c.received[0] - t0) * 1000 for c in clients if c.received]
        await asyncio.sleep(0.3)
    missing = n * EVENTS - len(latencies)
    for c in clients:
        await c.ws.close()
    for task in listeners:
        task.cancel()
    latencies.sort()
    return {
        "name": name, "n": n, "rate": rate,
        "p50": statistics.median(latencies), "p99": latencies[int(0.99 * len(latencies))],
        "rss": connected, "per_conn_kb": (connected - idle) * 1024 / n, "missing": missing,
    }  # fmt: skip


async def subscribe_cycles(base: ServerURL, cycles: int) -> tuple[float, float]:
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send('{"type":"connection_init","payload":{}}')
        await ws.recv()

        async def cycle(i: int) -> None:
            payload = {"query": SUBSCRIPTION}
            await ws.send(json.dumps({"id": f"c{i}", "type": "subscribe", "payload": payload}))
            await ws.send(json.dumps({"id": f"c{i}", "type": "complete"}))

        for i in range(1000):
            await cycle(i)
        await asyncio.sleep(1)
        before = rss_mb(base.pid)
        for i in range(1000, 1000 + cycles):
            await cycle(i)
        await asyncio.sleep(2)
        return before, rss_mb(base.pid)


async def run(args) -> None:
    sizes = [int(n) for n in args.subscribers.split(",")]
    data_dir = Path(tempfile.mkdtemp(prefix="shopgraph-bench-fanout-"))
    env = {"ENV": "dev", "DATA_DIR": str(data_dir), "SEED_ON_START": "true",
           "MIGRATE_ON_START": "true", "LOG_LEVEL": "WARNING",
           "WS_MAX_PENDING": "100", "RATE_LIMIT_MUTATIONS": "1000000/60"}  # fmt: skip
    results = []
    for n in sizes:
        with live_server({}, factory="bench.baselines:bare_websockets", args=UVICORN) as base:
            async with httpx.AsyncClient() as http:
                message = json.dumps({"id": "s", "type": "next", "payload": {"data": {
                    "inventoryChanged": {"productId": PRODUCT_ID, "inventory": 7,
                                         "inStock": True}}}})  # fmt: skip

                async def bare_trigger(_event: int, message: str = message) -> None:
                    await http.post(f"{base}/publish", content=message)

                results.append(await measure("bare Starlette websockets", base, n, bare_trigger))
        with live_server(env, args=UVICORN) as base:
            admin = DevIssuer(data_dir / "dev-keys").issue("user_demo_admin", admin=True)
            async with httpx.AsyncClient() as http:

                async def trigger(event: int, admin: str = admin) -> None:
                    response = await http.post(
                        f"{base}/graphql",
                        headers={"authorization": f"Bearer {admin}"},
                        json={"query": "mutation($p: ID!, $n: Int!) { setInventory(productId: $p,"
                              " inventory: $n) { userErrors { code } } }",
                              "variables": {"p": PRODUCT_ID, "n": 100 + event}},
                    )  # fmt: skip
                    assert response.status_code == 200, response.text

                results.append(await measure("shopgraph subscriptions", base, n, trigger))
                if n == sizes[-1]:
                    before, after = await subscribe_cycles(base, args.cycles)
    print(f"\n{'server':28} {'subs':>6} {'conn/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'RSS MB':>8} {'KB/conn':>8}")  # fmt: skip
    for r in results:
        missing = f"  missing={r['missing']}" if r["missing"] else ""
        print(f"{r['name']:28} {r['n']:6d} {r['rate']:8.0f} {r['p50']:8.1f} {r['p99']:8.1f} "
              f"{r['rss']:8.0f} {r['per_conn_kb']:8.1f}{missing}")  # fmt: skip
    for bare, ours in zip(results[::2], results[1::2], strict=True):
        print(f"{ours['n']} subscribers: p99 {ours['p99'] / bare['p99']:.2f}x bare "
              "(target <= 1.5), "
              f"memory/conn {ours['per_conn_kb'] / bare['per_conn_kb']:.2f}x bare (target <= 1.5), "
              f"connect+subscribe {ours['rate'] / bare['rate']:.2f}x bare")  # fmt: skip
    print(
        f"{args.cycles} subscribe/complete cycles: RSS {before:.0f} -> {after:.0f} MB "
        f"({(after - before) / before:+.1%}; target < +10%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", default="1000,5000")
    parser.add_argument("--cycles", type=int, default=10_000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
