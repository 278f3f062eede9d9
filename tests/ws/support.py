"""A small graphql-transport-ws / graphql-ws client for tests (on the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

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
