"""Execute-once fan-out for GraphQL subscriptions.

Stock Strawberry runs every subscriber's operation on its own: a subscription seen by 5,000
clients executes its selection and serialises the result 5,000 times per event. Here
subscribers whose operations would produce identical results — same document, operation
name and variables, and the same *visibility* (who is asking, as far as the field can tell)
— share one execution: the result is executed and JSON-encoded once, and only the
`{"id": ..., "type": "next", "payload": ...}` envelope is built per subscriber.

Delivery to each websocket goes through that connection's `ConnectionWriter`: a bounded queue
drained by one task per connection, so a slow client only ever delays itself. When its queue
is full the oldest undelivered message is dropped (and counted): subscriptions carry the
latest state (stock, order status, a fresh slate), so the newest message is the one to keep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult, PreExecutionError

from core import metrics

logger = logging.getLogger("shopgraph.subscriptions")

ShareKey = tuple[Hashable, ...]
StreamFactory = Callable[[], Awaitable[Any]]


def encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class ConnectionWriter:
    """The outbound queue of one websocket: bounded, drained in order by one task."""

    __slots__ = ("_closed", "_queue", "_send", "_task", "_wakeup", "dropped")

    def __init__(self, send: Callable[[str], Awaitable[None]], *, max_pending: int) -> None:
        self._send = send
        self._queue: deque[str] = deque(maxlen=max_pending)
        self._wakeup = asyncio.Event()
        self._closed = False
        self.dropped = 0
        self._task = asyncio.create_task(self._drain(), name="ws-writer")

    def push(self, message: str) -> None:
        if self._closed:
            return
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
            metrics.WS_MESSAGES_DROPPED.inc()
        self._queue.append(message)
        self._wakeup.set()

    async def _drain(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue:
                    await self._send(self._queue.popleft())
        except asyncio.CancelledError:
            raise
        except Exception:
            self._closed = True

    async def close(self) -> None:
        self._closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Member:
    """One subscriber (a websocket operation id) attached to a shared stream."""

    __slots__ = ("done", "operation_id", "prefix", "writer")

    def __init__(self, writer: ConnectionWriter, operation_id: str) -> None:
        self.writer = writer
        self.operation_id = operation_id
        self.prefix = '{"id":' + encode(operation_id) + ',"type":"next","payload":'
        self.done: asyncio.Future[tuple[str, str | None]] = (
            asyncio.get_running_loop().create_future()
        )

    def finish(self, kind: str, payload: str | None = None) -> None:
        if not self.done.done():
            self.done.set_result((kind, payload))


class SharedStream:
    """One execution of a subscription operation, feeding every member."""

    def __init__(self, key: ShareKey, registry: SharedSubscriptions, start: StreamFactory) -> None:
        self.key = key
        self.registry = registry
        self.members: dict[int, Member] = {}
        self._task = asyncio.create_task(self._run(start), name="shared-subscription")

    async def _run(self, start: StreamFactory) -> None:
        final: tuple[str, str | None] = ("complete", None)
        try:
            source = await start()
            first = True
            async for result in source:
                if first and isinstance(result, PreExecutionError):
                    final = ("error", encode([e.formatted for e in result.errors or []]))
                    break
                first = False
                if not isinstance(result, ExecutionResult):
                    error = GraphQLError("Incremental delivery is not supported here")
                    final = ("error", encode([error.formatted]))
                    break
                self._broadcast(_payload(result))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("shared subscription failed")
            error = GraphQLError(
                "Internal server error", extensions={"code": "INTERNAL_SERVER_ERROR"}
            )
            final = ("error", encode([error.formatted]))
        finally:
            self.registry._forget(self)
            for member in list(self.members.values()):
                member.finish(*final)

    def _broadcast(self, payload: str) -> None:
        for member in self.members.values():
            member.writer.push(member.prefix + payload + "}")
        metrics.WS_MESSAGES_SENT.inc(len(self.members))

    def attach(self, member: Member) -> None:
        self.members[id(member)] = member

    async def detach(self, member: Member) -> None:
        self.members.pop(id(member), None)
        if not self.members:
            self.registry._forget(self)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def _payload(result: ExecutionResult) -> str:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return encode(body)


class SharedSubscriptions:
    """The process-wide registry of shared streams, keyed by `ShareKey`."""

    def __init__(self) -> None:
        self._streams: dict[ShareKey, SharedStream] = {}

    def __len__(self) -> int:
        return len(self._streams)

    async def run(
        self, key: ShareKey, start: StreamFactory, member: Member
    ) -> tuple[str, str | None]:
        """Attach `member` to the stream for `key` (starting it if needed) until the stream
        ends or the caller is cancelled; returns how it ended ("complete" or "error", payload)."""
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = SharedStream(key, self, start)
        stream.attach(member)
        metrics.WS_ACTIVE_SUBSCRIPTIONS.inc()
        try:
            return await member.done
        finally:
            metrics.WS_ACTIVE_SUBSCRIPTIONS.dec()
            await stream.detach(member)

    def _forget(self, stream: SharedStream) -> None:
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]
