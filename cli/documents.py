"""`shop documents ...`: register trusted (persisted) documents, list them.

`shop documents add FILE` reads a manifest (graphql-codegen's `persisted-documents.json`,
the same with bare hashes, or Apollo's persisted query manifest), checks every document
against this server's schema and limits, and stores them all or none. Running servers load
them without a restart: the command publishes `documents:all` on the event bus
(BROADCAST_URL), and every process also polls the table (DOCUMENTS_POLL_SECONDS).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.settings import get_settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    documents = sub.add_parser("documents", help="Trusted (persisted) documents.")
    commands = documents.add_subparsers(dest="documents_command", required=True)

    add = commands.add_parser(
        "add", help="Check a manifest's documents against the schema and store them."
    )
    add.add_argument("file", type=Path, help="A manifest (hash -> document) JSON file.")
    add.add_argument("--source", help="The name to file them under (default: the file name).")
    add.set_defaults(func=_add)

    listing = commands.add_parser("list", help="The stored documents: id, source, operations.")
    listing.set_defaults(func=_list)


def _add(args: argparse.Namespace) -> int:
    from schema import build_schema
    from schema.documents import DocumentRejected
    from services.documents import ManifestError, read_manifest

    settings = get_settings()
    try:
        documents = read_manifest(args.file.read_text())
    except (OSError, ManifestError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    source = args.source or args.file.name
    registry = build_schema(settings).documents
    rejected = []
    for text in documents.values():
        try:
            registry.prepare(text, source=source)
        except DocumentRejected as exc:
            rejected.append(exc)
    for exc in rejected:
        print(f"sha256:{exc.hash} does not fit the schema:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error.message}", file=sys.stderr)
    if rejected:
        print(f"{args.file}: nothing stored ({len(rejected)} invalid)", file=sys.stderr)
        return 1
    added = asyncio.run(_store(settings, documents, source))
    print(f"{args.file}: {added.added} documents added, {added.already_there} already registered")
    if added.added and not added.announced:
        print(
            "not announced on an event bus: running servers load them within "
            f"DOCUMENTS_POLL_SECONDS ({settings.documents_poll_seconds:g} s)"
        )
    return 0


async def _store(settings, documents: dict[str, str], source: str):
    from core.db import database
    from live import EventHub
    from services import events
    from services.documents import add_documents

    async with database(settings, migrate_first=settings.should_migrate_on_start):
        hub = EventHub.from_url(settings.broadcast_url, namespace=settings.event_namespace)
        await hub.connect()
        events.install(hub)
        try:
            return await add_documents(documents, source=source)
        finally:
            events.install(None)
            await hub.disconnect()


def _list(_args: argparse.Namespace) -> int:
    from graphql import GraphQLError, OperationDefinitionNode, parse

    from core.db import database
    from models import PersistedDocument

    async def rows() -> list[PersistedDocument]:
        async with database(get_settings(), migrate_first=False):
            return await PersistedDocument.all().order_by("id")

    for row in asyncio.run(rows()):
        try:
            definitions = parse(row.body).definitions
        except GraphQLError:
            definitions = ()
        names = [
            f"{d.operation.value} {d.name.value if d.name else '(anonymous)'}"
            for d in definitions
            if isinstance(d, OperationDefinitionNode)
        ]
        print(f"sha256:{row.hash}  {row.source}  {', '.join(names)}")
    return 0
