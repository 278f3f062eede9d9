"""A small graphql-transport-ws / graphql-ws client for tests (on the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


class WSClient:
    def __init__(self, ws, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol

    @classmethod
    async def connect(
        cls, url: str, *, token: str | None = None, protocol: str = TRANSPORT_WS, **kwargs
    ) -> WSClient:
        ws = await websockets.connect(url, subprotocols=[protocol], **kwargs)
        client = cls(ws, protocol)
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await client.send({"type": "connection_init", "payload": payload})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message.get("type") not in ("ka", "ping", "pong"):
                return message

    async def subscribe(self, op_id: str, query: str, variables: dict | None = None) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op_id, "type": kind, "payload": payload})

    async def next_data(self, op_id: str, timeout: float = 5.0) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message.get("id") == op_id, message
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def close(self) -> None:
        await self.ws.close()


def http_base(url: str) -> str:
    """`ws://host:port/graphql` (or an http base) → `http://host:port`."""
    url = url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    return url.removesuffix("/graphql")


def gauge(metrics_text: str, name: str) -> float:
    """The sum of a metric's samples (`name` may include labels) in Prometheus text."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


async def metrics_text(url: str, *, token: str | None = None) -> str:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{http_base(url)}/metrics", headers=headers)
        response.raise_for_status()
        return response.text


async def wait_until(
    url: str, condition, what: str, timeout: float = 15.0, *, token: str | None = None
) -> str:
    """Poll the server's /metrics until `condition(text)` holds; returns the text."""
    text = ""
    try:
        async with asyncio.timeout(timeout):
            while True:
                text = await metrics_text(url, token=token)
                if condition(text):
                    return text
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"never {what}:\n{text}") from None


async def wait_for_gauges(
    url: str,
    *,
    above: str | None = None,
    timeout: float = 15.0,
    token: str | None = None,
    **increase: float,
) -> str:
    """Wait until each gauge (keyword: metric name without `shopgraph_`, `__family` for the
    `family` label) has risen by its value over the metrics text `above` (or over zero).
    A signal to wait on instead of sleeping: e.g. `live_subscribers__inventory=1` means one
    more subscription has its bus subscription up, so an event published now reaches it."""
    wanted = {
        name: value + (gauge(above, name) if above else 0.0)
        for name, value in ((_metric_name(k), v) for k, v in increase.items())
    }
    return await wait_until(
        url,
        lambda text: all(gauge(text, name) >= value for name, value in wanted.items()),
        f"reached {wanted}",
        timeout,
        token=token,
    )


async def wait_for_gone(url: str, before: str, timeout: float = 15.0) -> str:
    """Wait until subscriptions and websockets are back to where they were in `before`."""
    names = [
        "shopgraph_ws_active_subscriptions",
        "shopgraph_websocket_connections",
        'shopgraph_live_subscribers{family="inventory"}',
    ]
    return await wait_until(
        url,
        lambda text: all(gauge(text, n) <= gauge(before, n) for n in names),
        "back to where they were",
        timeout,
    )


def _metric_name(key: str) -> str:
    base, _, family = key.partition("__")
    name = f"shopgraph_{base}"
    return f'{name}{{family="{family}"}}' if family else name
