"""A response cache for anonymous catalog reads, with ETags for browsers and CDNs.

Only requests without credentials (no `Authorization`, no `__session` cookie) whose single
operation is a query over catalog fields (`products`, `product`, `facets`) are cached. The key
is the raw request (body or query string) plus the `Accept` and `Content-Type` headers, so
the document, its variables and the operation name are all in it, and visibility is always
"anonymous". Only requests the view would parse reach the cache (web/graphql_view.py): a
cached answer never stands in for a 400, 405 or 415.
Entries are dropped when any product's catalog data or stock changes (the `catalog:all` and
`inventory:all` events, which reach every process through the event bus) and expire after
`RESPONSE_CACHE_TTL` seconds, which bounds how far engagement counters (`stats`,
`popularity`) may lag.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response

from core.background import cancel_tasks
from live import EventHub
from services import events
from web.operations import operation_shape

logger = logging.getLogger("shopgraph.cache")
CACHEABLE_ROOT_FIELDS = frozenset({"products", "product", "facets", "__typename"})
MAX_ENTRY_BYTES = 512 * 1024


def is_cacheable_document(query: str, operation_name: str | None) -> bool:
    """True when the operation to run is a query that reads only catalog root fields."""
    shape = operation_shape(query, operation_name)
    return (
        shape is not None
        and shape.type is OperationType.QUERY
        and all(name in CACHEABLE_ROOT_FIELDS for name in shape.root_fields)
    )


def is_anonymous(request: Request) -> bool:
    return "authorization" not in request.headers and "__session" not in request.cookies


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    media_type: str
    status: int
    etag: str
    stored_at: float


class ResponseCache:
    def __init__(self, *, ttl: float, max_entries: int, max_age: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()
        self._generation = 0
        self._listeners: list[asyncio.Task] = []
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key_for(request: Request, body: bytes) -> bytes:
        digest = hashlib.blake2b(digest_size=20)
        parts = (
            request.method,
            request.url.query,
            request.headers.get("accept", ""),
            request.headers.get("content-type", ""),
            body,
        )
        for part in parts:
            digest.update(part.encode() if isinstance(part, str) else part)
            digest.update(b"\0")
        return digest.digest()

    def get(self, key: bytes) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.stored_at > self.ttl:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def generation(self) -> int:
        return self._generation

    def put(self, key: bytes, response: Response, generation: int) -> None:
        """Store a response computed while the cache was at `generation` (a response computed
        across an invalidation could hold stale rows, so it is not stored)."""
        body = bytes(response.body)
        if generation != self._generation or len(body) > MAX_ENTRY_BYTES:
            return
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        self._entries[key] = Entry(
            body=body,
            media_type=response.headers.get("content-type", "application/json"),
            status=response.status_code,
            etag=etag,
            stored_at=time.monotonic(),
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        self.decorate(response, etag)

    def invalidate(self) -> None:
        self._generation += 1
        self._entries.clear()

    def decorate(self, response: Response, etag: str) -> None:
        response.headers["etag"] = etag
        response.headers["cache-control"] = f"public, max-age={self.max_age}"
        response.headers["vary"] = "Accept, Authorization, Cookie"

    def respond(self, request: Request, entry: Entry) -> Response:
        if entry.etag in request.headers.get("if-none-match", ""):
            response = Response(status_code=304)
        else:
            response = Response(entry.body, status_code=entry.status, media_type=entry.media_type)
        self.decorate(response, entry.etag)
        response.headers["x-cache"] = "hit"
        return response

    async def start(self, hub: EventHub) -> None:
        """Follow catalog and stock events, from this process and every other."""
        for channel in (events.CATALOG, events.INVENTORY):
            ready = asyncio.Event()
            task = asyncio.create_task(self._follow(hub, channel, ready), name=f"cache:{channel}")
            self._listeners.append(task)
            await ready.wait()

    async def stop(self) -> None:
        await cancel_tasks(self._listeners)
        self._listeners.clear()

    async def _follow(self, hub: EventHub, channel: str, ready: asyncio.Event) -> None:
        async with hub.subscribe(channel) as stream:
            ready.set()
            async for _event in stream:
                self.invalidate()
