"""Persisted documents on the wire: `documentId`, automatic persisted queries, trusted mode.

A request names a document it does not send in one of two ways:

- GraphQL over HTTP's persisted documents: `"documentId": "sha256:<hex>"` in the JSON body,
  `?documentId=sha256:<hex>` in a GET query string, or `documentId` in a websocket
  `subscribe` payload. It names a registered (trusted) document.
- Apollo's automatic persisted queries (APQ), as Apollo Client's persisted-query link and
  urql's `@urql/exchange-persisted` send them: `extensions.persistedQuery = {"version": 1,
  "sha256Hash": "<hex>"}`. With the hash only, the document runs if this process knows it
  (trusted, or registered earlier by APQ), else the answer is PERSISTED_QUERY_NOT_FOUND and
  the client sends hash and query, which registers the document once the hash checks out
  (OPERATIONS=any only; at most APQ_CACHE_SIZE per process, valid documents only).

`resolve()` turns those request fields into the text to execute. That text is the prepared
document's own string, which `schema.documents.PersistedDocumentParser` finds again so that
the request skips parsing and validation. With OPERATIONS=trusted a request carrying a
`query` is refused with the one fixed TRUSTED_DOCUMENT_REQUIRED error (the schema refuses it
again, should a transport not ask here).

`DocumentSync` keeps a process's trusted documents current: manifest files at start
(PERSISTED_DOCUMENTS_FILES), the `persisted_documents` table when the app starts, and new
rows as soon as the `documents:all` event arrives (`shop documents add` publishes it), or at
the latest every DOCUMENTS_POLL_SECONDS when an event is lost or the bus is in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.background import cancel_tasks
from core.errors import ErrorCode
from core.settings import Settings
from live import EventHub
from schema.documents import (
    TRUSTED_DOCUMENT_REQUIRED_MESSAGE,
    DocumentRegistry,
    DocumentRejected,
)
from services import events
from services.documents import (
    ManifestError,
    document_hash,
    documents_after,
    parse_document_id,
    read_manifest,
)

logger = logging.getLogger("shopgraph.documents")

PERSISTED_QUERY_NOT_FOUND = "PersistedQueryNotFound"  # Apollo's message; clients match it
PERSISTED_QUERY_NOT_SUPPORTED = "PersistedQueryNotSupported"


class PersistedRequestError(Exception):
    """A request the persisted-document rules refuse. `status` None: the status of a
    GraphQL request error (400 with application/graphql-response+json, else 200)."""

    def __init__(self, message: str, code: ErrorCode, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    @property
    def formatted(self) -> dict[str, Any]:
        return {"message": self.message, "extensions": {"code": self.code.value}}


def _bad_request(message: str) -> PersistedRequestError:
    return PersistedRequestError(message, ErrorCode.BAD_REQUEST, 400)


class PersistedDocuments:
    """The persisted-document rules of one app: how a request's fields become a document."""

    def __init__(self, settings: Settings, registry: DocumentRegistry) -> None:
        self.registry = registry
        self.trusted_only = settings.trusted_documents_only
        self.apq = not self.trusted_only and settings.apq_cache_size > 0

    def resolve(self, *, query: object, document_id: object, extensions: object) -> str | None:
        """The text to execute for a request, or None when it names no document at all (the
        GraphQL layer then reports the missing query). Raises PersistedRequestError."""
        query = query or None
        persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
        if document_id is not None and query is None:
            return self._by_document_id(document_id)
        if persisted is not None:
            return self._automatic(persisted, query)
        if query is not None and self.trusted_only:
            raise PersistedRequestError(
                TRUSTED_DOCUMENT_REQUIRED_MESSAGE, ErrorCode.TRUSTED_DOCUMENT_REQUIRED
            )
        return query if isinstance(query, str) else None

    def _by_document_id(self, document_id: object) -> str:
        digest = parse_document_id(document_id)
        if digest is None:
            raise _bad_request("documentId must be 'sha256:' followed by 64 hex digits")
        prepared = self.registry.trusted(digest)
        if prepared is None:
            raise PersistedRequestError(
                f"Unknown documentId {document_id}: register the document first",
                ErrorCode.PERSISTED_QUERY_NOT_FOUND,
            )
        return prepared.text

    def _automatic(self, persisted: object, query: str | None) -> str:
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise _bad_request("extensions.persistedQuery needs version 1 and a sha256Hash")
        # A `sha256:` prefix is accepted too: codegen's hashes carry it.
        digest = parse_document_id(persisted.get("sha256Hash"))
        if digest is None:
            raise _bad_request("persistedQuery.sha256Hash must be 64 hex digits")
        if query is None:
            registry = self.registry
            prepared = registry.trusted(digest) if self.trusted_only else registry.get(digest)
            if prepared is not None:
                return prepared.text
            if not self.trusted_only and not self.apq:
                raise PersistedRequestError(
                    PERSISTED_QUERY_NOT_SUPPORTED, ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED
                )
            raise PersistedRequestError(
                PERSISTED_QUERY_NOT_FOUND, ErrorCode.PERSISTED_QUERY_NOT_FOUND
            )
        if self.trusted_only:
            raise PersistedRequestError(
                TRUSTED_DOCUMENT_REQUIRED_MESSAGE, ErrorCode.TRUSTED_DOCUMENT_REQUIRED
            )
        if not isinstance(query, str) or document_hash(query) != digest:
            raise _bad_request("provided sha does not match query")
        prepared = self.registry.remember(query) if self.apq else None
        return prepared.text if prepared is not None else query


def load_manifest_file(registry: DocumentRegistry, path: Path) -> int:
    """Trust the documents of a manifest file; returns how many. A document the schema no
    longer accepts is logged and skipped (the clients sending it get NOT_FOUND)."""
    try:
        documents = read_manifest(path.read_text())
    except (OSError, ManifestError) as exc:
        raise RuntimeError(f"cannot load the persisted-documents manifest {path}: {exc}") from exc
    loaded = 0
    for text in documents.values():
        loaded += _trust(registry, text, source=path.name)
    logger.info("trusted %d documents from %s", loaded, path)
    return loaded


def _trust(registry: DocumentRegistry, text: str, *, source: str) -> int:
    try:
        registry.trust(text, source=source)
    except DocumentRejected as rejected:
        logger.error(
            "persisted document sha256:%s from %s does not fit the schema, skipped: %s",
            rejected.hash,
            source,
            rejected,
        )
        return 0
    return 1


class DocumentSync:
    """Loads the stored trusted documents, then follows additions from every process."""

    def __init__(self, settings: Settings, registry: DocumentRegistry) -> None:
        self.registry = registry
        self.poll_seconds = settings.documents_poll_seconds
        self.last_id = 0
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    async def refresh(self) -> int:
        """Trust the rows stored since the last refresh; returns how many were new."""
        async with self._lock:
            rows = await documents_after(self.last_id)
            trusted = 0
            for row in rows:
                trusted += _trust(self.registry, row.body, source=row.source)
                self.last_id = max(self.last_id, row.id)
        if rows:
            logger.info("trusted %d stored documents (up to id %d)", trusted, self.last_id)
        return trusted

    async def start(self, hub: EventHub) -> None:
        ready = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._follow(hub, ready), name="documents:follow"))
        await ready.wait()
        await self.refresh()
        self._tasks.append(asyncio.create_task(self._poll(), name="documents:poll"))

    async def stop(self) -> None:
        await cancel_tasks(self._tasks)
        self._tasks.clear()

    async def _follow(self, hub: EventHub, ready: asyncio.Event) -> None:
        async with hub.subscribe(events.DOCUMENTS) as stream:
            ready.set()
            async for _event in stream:
                await self._refresh_logged()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            await self._refresh_logged()

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except Exception:  # the database may be away for a while: try again later
            logger.warning("could not load new persisted documents", exc_info=True)
