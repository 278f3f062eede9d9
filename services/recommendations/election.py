"""Who learns: one process at a time holds the learner lock.

On PostgreSQL the lock is a session advisory lock held by a connection of its own (not one
of the pool's, which are shared and recycled). A candidate waits inside
`pg_advisory_lock`, so when the learner dies -- even by `kill -9`, which closes its socket
-- PostgreSQL releases the lock and the next candidate holds it at once. On SQLite, whose
database is one file on one machine anyway, it is an `flock` on a file next to it.

Winning the lock starts a new *term* (`recommendation_learner.term` + 1). Snapshots are
published only by the holder of the current term (`snapshots.SnapshotStore.publish`), so a
learner that lost its lock without noticing -- a network partition between it and the
database -- cannot overwrite its successor's model.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import asyncpg
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.settings import Settings
from models import LearnerTerm

logger = logging.getLogger("shopgraph.recommendations.election")

# The pg_advisory_lock key of the learner (one learner per database).
ADVISORY_KEY = 0x73686F706C6561
# The lock's session: TCP keepalives so that PostgreSQL notices a learner whose machine
# vanished (no FIN, no RST) within about 5 + 2 x 3 = 11 s and releases its lock. A killed
# process is noticed at once: its socket is closed by the kernel.
LOCK_SESSION = {
    "application_name": "shopgraph-learner",
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


class LearnerLock(Protocol):
    async def acquire(self) -> None:
        """Wait until this process holds the lock."""

    async def still_holds(self, term: int) -> bool:
        """Whether the lock is still held and `term` is still the current one."""

    async def release(self) -> None: ...


class PostgresLearnerLock:
    def __init__(self, url: str) -> None:
        self.url = url.replace("postgres://", "postgresql://", 1)
        self._conn: asyncpg.Connection | None = None

    async def acquire(self) -> None:
        conn = await asyncpg.connect(self.url, server_settings=LOCK_SESSION)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_KEY)
        except BaseException:
            # Cancelled while waiting: asyncpg cancels the query; drop the connection too.
            conn.terminate()
            raise
        self._conn = conn

    async def still_holds(self, term: int) -> bool:
        # On the lock's own connection: proves it alive and reads the term in one query.
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            async with asyncio.timeout(5):
                current = await self._conn.fetchval(
                    "SELECT term FROM recommendation_learner WHERE id = 1"
                )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return current == term

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            # Closing the session releases the lock; terminate() cannot hang on a dead peer.
            conn.terminate()


class FileLearnerLock:
    """The SQLite learner lock: `flock` on DATA_DIR/learner.lock, retried while busy."""

    RETRY_SECONDS = 0.2

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = None

    async def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    await asyncio.sleep(self.RETRY_SECONDS)
        except BaseException:
            handle.close()
            raise
        self._handle = handle

    async def still_holds(self, term: int) -> bool:
        # An flock cannot be lost while the process lives, but the tuner can begin a term
        # without it (`SnapshotStore.publish(take_over=...)`): the holder then steps down
        # and resumes from the tuner's snapshot. A failed read keeps the lead -- publishing
        # checks the term anyway.
        if self._handle is None:
            return False
        try:
            return await current_term() == term
        except Exception:
            return True

    async def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()


def learner_lock(settings: Settings) -> LearnerLock:
    if settings.is_postgres:
        return PostgresLearnerLock(settings.resolved_database_url)
    return FileLearnerLock(settings.data_dir / "learner.lock")


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def begin_term() -> int:
    """Start a new term (called by the new lock holder); returns its number."""
    async with in_transaction():
        row, _ = await LearnerTerm.get_or_create(id=1)
        await LearnerTerm.filter(id=1).update(
            term=F("term") + 1, holder=holder_name(), elected_at=datetime.now(UTC)
        )
        row = await LearnerTerm.get(id=1)
    return row.term


async def current_term() -> int:
    row = await LearnerTerm.get_or_none(id=1)
    return 0 if row is None else row.term


async def wait_for_lock(
    lock: LearnerLock, *, stopping: asyncio.Event, waiting: Callable[[], object], retry: float
) -> bool:
    """Wait for `lock` until `stopping` is set; True when it is held. `waiting` is called
    when the lock was not free at once (another process learns) or could not be asked for
    (the database is down: retried every `retry` seconds)."""
    while not stopping.is_set():
        acquiring = asyncio.create_task(lock.acquire())
        stop = asyncio.create_task(stopping.wait())
        try:
            done, _ = await asyncio.wait({acquiring}, timeout=0.5)
            if not done:
                waiting()
                done, _ = await asyncio.wait({acquiring, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if acquiring not in done:
            acquiring.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await acquiring
            return False
        if acquiring.exception() is None:
            if not stopping.is_set():
                return True
            await lock.release()
            return False
        logger.error("cannot stand for learner: %s", acquiring.exception())
        waiting()
        await asyncio.sleep(retry)
    return False
