"""Model snapshots: the learner publishes them, every serving process ranks with the newest.

A snapshot is a row of `recommendation_model_snapshots` (version = its id, the learner's
term, the read position and exactly-once digest, the model's SHA-256) plus the VW model
bytes -- in the row by default, so any machine that reaches the database reaches the
model; or, with `SNAPSHOT_STORE_URL=file:///path`, as a file on a volume every machine
mounts (the row then names it). Bytes that do not match their SHA-256 are never handed to
VW (VW can abort the process on a corrupt model instead of raising).

Publishing is fenced: the row is inserted in the transaction that locks the learner row
and checks the publisher's term, so a learner that lost its lock (and whose successor began
a new term) can no longer publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from tortoise.transactions import in_transaction

from core.settings import Settings
from core.sql import lock_row
from models import LearnerTerm, ModelSnapshot

logger = logging.getLogger("shopgraph.recommendations.snapshots")

CHANNEL = "recommendations:snapshots"


class CorruptSnapshot(ValueError):
    """A snapshot whose bytes are missing or do not match their checksum."""


@dataclass(frozen=True)
class Position:
    """The learner's read position in the reward log, and what it learned up to there.

    Rewards are read in (txid, id) order (see `models.RecommendationReward`); `digest` is a
    hash chain over the ids of the learned ones in that order, so two learners that learned
    the same rewards once each in the same order have the same digest.
    """

    txid: int = 0
    reward_id: int = 0
    learned: int = 0
    skipped: int = 0
    digest: str = "0" * 32

    def after(self, reward_id: int, txid: int, *, learned: bool) -> Position:
        digest = self.digest
        if learned:
            digest = hashlib.blake2b(
                bytes.fromhex(digest) + reward_id.to_bytes(8, "little"), digest_size=16
            ).hexdigest()
        return Position(
            txid=txid,
            reward_id=reward_id,
            learned=self.learned + learned,
            skipped=self.skipped + (not learned),
            digest=digest,
        )


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot's metadata (the bytes are fetched with `SnapshotStore.read`)."""

    version: int
    term: int
    model_version: str
    config: dict[str, Any]
    position: Position
    sha256: str
    size: int
    location: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: ModelSnapshot) -> Snapshot:
        return cls(
            version=row.id,
            term=row.term,
            model_version=row.model_version,
            config=dict(row.config),
            position=Position(row.cursor_txid, row.cursor_id, row.learned, row.skipped, row.digest),
            sha256=row.sha256,
            size=row.size,
            location=row.location,
            created_at=row.created_at,
        )


class FileObjects:
    """Model files on a shared volume: written to a temporary name, fsynced, renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, name: str, data: bytes) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / name
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        try:
            with tmp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return name

    def get(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / name).unlink()


def _objects(url: str) -> FileObjects | None:
    if not url:
        return None
    parsed = urlparse(url)
    return FileObjects(Path(unquote(parsed.netloc + parsed.path)))


class SnapshotStore:
    def __init__(self, settings: Settings) -> None:
        self.keep = settings.snapshot_keep
        self.objects = _objects(settings.snapshot_store_url)

    @property
    def where(self) -> str:
        return "the database" if self.objects is None else str(self.objects.root)

    async def latest_version(self) -> int:
        """The newest version (0: none), one index lookup."""
        row = await ModelSnapshot.all().order_by("-id").first().values_list("id", flat=True)
        return int(row or 0)

    async def newest(self, *, older_than: int | None = None) -> Snapshot | None:
        query = ModelSnapshot.all()
        if older_than is not None:
            query = query.filter(id__lt=older_than)
        row = await query.order_by("-id").only(*_META_FIELDS).first()
        return None if row is None else Snapshot.of(row)

    async def get(self, version: int) -> Snapshot | None:
        row = await ModelSnapshot.filter(id=version).only(*_META_FIELDS).first()
        return None if row is None else Snapshot.of(row)

    async def read(self, snapshot: Snapshot) -> bytes:
        """The model bytes, checked against their SHA-256; raises `CorruptSnapshot`."""
        try:
            if snapshot.location is not None and self.objects is not None:
                data = await asyncio.to_thread(self.objects.get, snapshot.location)
            else:
                data = (
                    await ModelSnapshot.filter(id=snapshot.version).values_list("model", flat=True)
                )[0]
        except (OSError, IndexError) as error:
            raise CorruptSnapshot(f"snapshot {snapshot.version}: {error}") from error
        if data is None or hashlib.sha256(data).hexdigest() != snapshot.sha256:
            raise CorruptSnapshot(f"snapshot {snapshot.version}: checksum mismatch")
        return bytes(data)

    async def publish(
        self,
        *,
        term: int,
        model_version: str,
        config: dict[str, Any],
        position: Position,
        data: bytes,
        take_over: str | None = None,
        along: Callable[[Snapshot], Awaitable[object]] | None = None,
    ) -> Snapshot | None:
        """Store a snapshot; None (and nothing stored) when `term` is no longer current.

        `take_over` (a holder name) publishes in a new term instead, whoever holds the
        current one: the tuner's way to replace the model with one of another
        configuration. The learner of the old term can then no longer publish; it steps
        down and, standing again, resumes from this snapshot. `along` runs in the same
        transaction with the new snapshot (the tuner records why it published it)."""
        digest = hashlib.sha256(data).hexdigest()
        location = None
        if self.objects is not None:
            name = f"snapshot-{term}-{position.reward_id}-{uuid.uuid4().hex[:8]}.vw"
            location = await asyncio.to_thread(self.objects.put, name, data)
        async with in_transaction():
            await lock_row("recommendation_learner", 1)
            current = await LearnerTerm.get_or_none(id=1)
            if take_over is not None:
                term = (current.term if current else 0) + 1
                await LearnerTerm.update_or_create(
                    id=1,
                    defaults={"term": term, "holder": take_over, "elected_at": datetime.now(UTC)},
                )
            elif current is None or current.term != term:
                if location is not None and self.objects is not None:
                    self.objects.delete(location)
                return None
            row = await ModelSnapshot.create(
                term=term,
                model_version=model_version,
                config=config,
                cursor_txid=position.txid,
                cursor_id=position.reward_id,
                learned=position.learned,
                skipped=position.skipped,
                digest=position.digest,
                model=None if location else data,
                location=location,
                sha256=digest,
                size=len(data),
                created_at=datetime.now(UTC),
            )
            snapshot = Snapshot.of(row)
            if along is not None:
                try:
                    await along(snapshot)
                except BaseException:
                    # The transaction rolls back: the row goes, its object must go too.
                    if location is not None and self.objects is not None:
                        self.objects.delete(location)
                    raise
        return snapshot

    async def prune(self) -> int:
        """Delete all but the newest `keep` snapshots (and their objects)."""
        keep = (
            await ModelSnapshot.all().order_by("-id").limit(self.keep).values_list("id", flat=True)
        )
        if len(keep) < self.keep:
            return 0
        stale = await ModelSnapshot.filter(id__lt=min(keep)).values_list("id", "location")
        if not stale:
            return 0
        await ModelSnapshot.filter(id__in=[version for version, _ in stale]).delete()
        if self.objects is not None:
            for _version, location in stale:
                if location:
                    await asyncio.to_thread(self.objects.delete, location)
        return len(stale)


_META_FIELDS = (
    "id",
    "term",
    "model_version",
    "config",
    "cursor_txid",
    "cursor_id",
    "learned",
    "skipped",
    "digest",
    "location",
    "sha256",
    "size",
    "created_at",
)
