"""Trusted (persisted) documents: manifests, their ids, and the table that keeps them.

A manifest maps document ids to GraphQL documents. Three formats are read:
- graphql-codegen's client preset (`persisted-documents.json`), the reference client's:
  `{"sha256:<hex>": "<document>", ...}`;
- the same with bare hex keys, as automatic persisted queries (APQ) hash documents:
  `{"<hex>": "<document>", ...}`;
- Apollo's persisted query manifest: `{"format": "apollo-persisted-query-manifest",
  "version": 1, "operations": [{"id": "<hex>", "body": "<document>", ...}]}`.

Every id must be the SHA-256 of its document's UTF-8 text. That makes one id space for
the GraphQL-over-HTTP `documentId` (`sha256:<hex>`) and APQ's `sha256Hash` (`<hex>`), and a
manifest cannot file a document under another document's id. Nothing here knows GraphQL:
whether a document is valid for the schema is checked by the caller (`schema.documents`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from models import PersistedDocument
from services import events

SHA256_PREFIX = "sha256:"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"
MAX_SOURCE_LENGTH = 200


class ManifestError(ValueError):
    """A manifest that cannot be read or whose ids do not match their documents."""


def document_hash(text: str) -> str:
    """The lower-case hex SHA-256 of a document's UTF-8 text: its id."""
    return hashlib.sha256(text.encode()).hexdigest()


def parse_document_id(value: object) -> str | None:
    """The hex hash in `sha256:<hex>` or `<hex>` (64 hex digits), or None if malformed."""
    if not isinstance(value, str):
        return None
    digest = value.removeprefix(SHA256_PREFIX).lower()
    return digest if _HEX64.match(digest) else None


def read_manifest(text: str) -> dict[str, str]:
    """The documents of a manifest, by hex hash. Raises ManifestError, naming the entry."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ManifestError("a manifest is a JSON object")
    if data.get("format") == APOLLO_MANIFEST_FORMAT:
        entries = _apollo_entries(data)
    else:
        entries = list(data.items())
    documents: dict[str, str] = {}
    for key, body in entries:
        if not isinstance(body, str) or not body.strip():
            raise ManifestError(f"{key!r}: the document must be a non-empty string")
        digest = parse_document_id(key)
        if digest is None:
            raise ManifestError(f"{key!r}: an id is 'sha256:' and 64 hex digits, or the digits")
        if document_hash(body) != digest:
            raise ManifestError(f"{key!r}: the id is not the SHA-256 of its document")
        documents[digest] = body
    if not documents:
        raise ManifestError("the manifest holds no documents")
    return documents


def _apollo_entries(data: dict) -> list[tuple[object, object]]:
    if data.get("version") != 1 or not isinstance(data.get("operations"), list):
        raise ManifestError("an Apollo manifest has version 1 and a list of operations")
    entries = []
    for operation in data["operations"]:
        if not isinstance(operation, dict):
            raise ManifestError("each Apollo manifest operation is an object")
        entries.append((operation.get("id"), operation.get("body")))
    return entries


@dataclass(frozen=True, slots=True)
class Added:
    added: int
    already_there: int
    announced: bool = False  # whether the event bus took the `documents:all` event


async def add_documents(documents: Mapping[str, str], *, source: str) -> Added:
    """Store documents (hash -> text, hashes already checked) that are not stored yet, then
    tell every process. Idempotent: adding a manifest twice adds nothing the second time."""
    stored = set(
        await PersistedDocument.filter(hash__in=list(documents)).values_list("hash", flat=True)
    )
    new = [
        PersistedDocument(hash=digest, body=body, source=source[:MAX_SOURCE_LENGTH])
        for digest, body in documents.items()
        if digest not in stored
    ]
    announced = False
    if new:
        # A concurrent add of the same document loses the race quietly (unique hash).
        await PersistedDocument.bulk_create(new, ignore_conflicts=True)
        announced = await events.documents_added()
    return Added(added=len(new), already_there=len(stored), announced=announced)


async def documents_after(last_id: int) -> list[PersistedDocument]:
    """Stored documents with an id above `last_id`, oldest first."""
    return await PersistedDocument.filter(id__gt=last_id).order_by("id")
