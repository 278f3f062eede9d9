"""Looking at the database from outside the app's connections, as another process would."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from core.settings import Settings


async def committed_value(settings: Settings, sql: str) -> Any:
    """The first column of the first row of `sql`, read on a fresh connection: only
    committed data is visible there."""
    if settings.is_postgres:
        url = settings.resolved_database_url.replace("postgres://", "postgresql://", 1)
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()
    path = settings.resolved_database_url.removeprefix("sqlite://")
    with sqlite3.connect(path, timeout=0) as conn:
        return conn.execute(sql).fetchone()[0]


def postgres_only(settings: Settings) -> None:
    """Skip on the SQLite run of a test that exercises PostgreSQL row locks."""
    if not settings.is_postgres:
        pytest.skip("exercises PostgreSQL row locks")


class RowLock:
    """A row held `FOR UPDATE` by an outside connection (PostgreSQL), so that concurrent
    transactions demonstrably pile up behind it before it is released."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.most_waiting = 0

    async def waiting(self) -> int:
        """Backends of this database currently blocked on a lock."""
        # Statistics views are snapshotted once per transaction unless the snapshot is dropped.
        await self.conn.execute("SELECT pg_stat_clear_snapshot()")
        return await self.conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )

    async def wait_for_waiters(self, count: int, *, timeout: float = 15.0) -> int:
        """Wait until `count` backends are blocked; fails with the most seen on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while (waiting := await self.waiting()) < count:
                    self.most_waiting = max(self.most_waiting, waiting)
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(
                f"only {self.most_waiting} of {count} transactions queued behind the lock"
            ) from None
        self.most_waiting = max(self.most_waiting, waiting)
        return waiting


@asynccontextmanager
async def row_lock(settings: Settings, table: str, row_id: int) -> AsyncIterator[RowLock]:
    """Lock one row until the block ends (then the locking transaction rolls back)."""
    url = settings.resolved_database_url.replace("postgres://", "postgresql://", 1)
    conn = await asyncpg.connect(url)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(f'SELECT 1 FROM "{table}" WHERE id = $1 FOR UPDATE', row_id)
        yield RowLock(conn)
    finally:
        await transaction.rollback()
        await conn.close()
