"""The subscriber side of the fan-out benchmark, run in processes of its own so that the
clients (parsing thousands of websocket frames) are not the bottleneck of the server they
measure, nor compete with the process that triggers events and keeps time.

A client process opens `count` websockets, subscribes each (graphql-transport-ws), tells
the parent it is ready (and how long connecting took), then answers the parent's commands
over a pipe:
  ("expect", value, timeout)  wait until every socket has received the event whose
                              `inventory` is `value` (or the timeout passes); reply
                              ("got", [receipt times], missing)
  ("close",)                  close every socket and exit
Receipt times are `time.perf_counter()`, CLOCK_MONOTONIC on Linux: one clock for every
process on the machine, so the parent can subtract its own t0.

This module imports nothing of the app: a spawned process starts fast.
"""

from __future__ import annotations

import asyncio
import time
from multiprocessing.connection import Connection

import orjson
import websockets

SUBSCRIPTION = "subscription { inventoryChanged { productId inventory inStock } }"


class Subscriber:
    __slots__ = ("received", "ws")

    def __init__(self, ws) -> None:
        self.ws = ws
        self.received: dict[int, float] = {}

    async def listen(self, arrived: asyncio.Event) -> None:
        try:
            async for message in self.ws:
                now = time.perf_counter()
                body = orjson.loads(message)
                if body.get("type") != "next":
                    continue
                value = body["payload"]["data"]["inventoryChanged"]["inventory"]
                self.received.setdefault(value, now)
                arrived.set()
        except websockets.ConnectionClosed:
            pass


async def subscribe(url: str, index: int) -> Subscriber:
    ws = await websockets.connect(
        url, subprotocols=["graphql-transport-ws"], compression=None, max_queue=None,
        open_timeout=120, ping_interval=None,
    )  # fmt: skip
    await ws.send('{"type":"connection_init","payload":{}}')
    ack = orjson.loads(await ws.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"socket {index}: {ack}")
    payload = {"id": f"s{index}", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
    await ws.send(orjson.dumps(payload).decode())
    return Subscriber(ws)


async def _main(url: str, first: int, count: int, pipe: Connection) -> None:
    subscribers: list[Subscriber] = []
    started = time.perf_counter()
    for batch in range(first, first + count, 100):  # bounded: do not flood the accept queue
        subscribers += await asyncio.gather(
            *(subscribe(url, i) for i in range(batch, min(first + count, batch + 100)))
        )
    arrived = asyncio.Event()
    listeners = [asyncio.create_task(s.listen(arrived)) for s in subscribers]
    pipe.send(("ready", count, time.perf_counter() - started))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "close":
            break
        _, value, timeout = command
        deadline = time.perf_counter() + timeout
        while any(value not in s.received for s in subscribers):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            arrived.clear()
            try:  # woken by every arriving event: a signal, not a polling sleep
                await asyncio.wait_for(arrived.wait(), remaining)
            except TimeoutError:
                break
        times = [s.received[value] for s in subscribers if value in s.received]
        pipe.send(("got", times, len(subscribers) - len(times)))
    for s in subscribers:
        await s.ws.close()
    for task in listeners:
        task.cancel()
    pipe.send(("closed",))


def run(url: str, first: int, count: int, pipe: Connection) -> None:
    """Process entry point."""
    try:
        asyncio.run(_main(url, first, count, pipe))
    except Exception as exc:  # the parent reports it and fails the run
        pipe.send(("error", repr(exc)))
