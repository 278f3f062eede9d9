"""The open GraphQL websockets of this process: counted, and closed with 1001 on shutdown.

Uvicorn itself closes websockets with 1012 (service restart) once it starts shutting down;
`Shutdown` (web/shutdown.py) calls `close_all()` before handing over to uvicorn, so clients
see 1001 (going away) and can reconnect to another instance at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.types import Message, Receive, Scope, Send

from core.metrics import WEBSOCKET_CONNECTIONS

log = logging.getLogger(__name__)

GOING_AWAY = 1001


class _Connection:
    """Wraps a websocket's ASGI `send` to know its state and to close it from outside."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.accepted = False
        self.closed = False

    async def send(self, message: Message) -> None:
        if self.closed:
            # Closed from outside: the handler's late messages have nowhere to go.
            return
        if message["type"] == "websocket.accept":
            self.accepted = True
            WEBSOCKET_CONNECTIONS.inc()
        elif message["type"] == "websocket.close":
            self.closed = True
        await self._send(message)

    async def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


class WebSocketTracker:
    def __init__(self) -> None:
        self._open: set[_Connection] = set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._open)

    async def serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
    ) -> None:
        connection = _Connection(send)
        if self.closing:
            await connection.close(GOING_AWAY, "server shutting down")
            return
        self._open.add(connection)
        try:
            await app(scope, receive, connection.send)
        finally:
            self._open.discard(connection)
            if connection.accepted:
                WEBSOCKET_CONNECTIONS.dec()

    async def close_all(
        self, code: int = GOING_AWAY, reason: str = "server shutting down", wait: float = 2.0
    ) -> int:
        """Refuse new websockets and close the open ones; returns how many were closed."""
        self.closing = True
        connections = list(self._open)
        if connections:
            log.info("closing %d websocket(s) with %d", len(connections), code)
            closing = asyncio.gather(
                *(c.close(code, reason) for c in connections), return_exceptions=True
            )
            try:
                await asyncio.wait_for(closing, wait)
            except TimeoutError:
                log.warning("websockets not closed within %.1f s; uvicorn will close them", wait)
        return len(connections)
