"""Tortoise's SQLite client, with transactions that take the write lock when they begin.

Tortoise begins SQLite transactions with a plain (deferred) `BEGIN`: the write lock is only
requested by the first write. In WAL mode a transaction that has already read and then
wants to write while another connection committed in between fails at once with
SQLITE_BUSY_SNAPSHOT -- the busy timeout does not help -- and a check-then-write such as
"read the stock, then decrement it" would have decided on a stale read. `BEGIN IMMEDIATE`
takes the write lock up front (waiting up to the busy timeout, 5 s by default), so every
transaction reads what it is about to change, exactly like `SELECT ... FOR UPDATE` on
PostgreSQL. Within one process Tortoise already serialises transactions on its single
connection; this closes the gap between processes (`shop serve --workers`, `shop seed`
next to a running server). Every transaction in shopgraph writes, so all of them are
immediate.

Select it with `{"engine": "core.sqlite_client", ...}` (see `core.db.tortoise_config`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            # The connection runs in autocommit mode; this ends nothing in practice.
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        # Tortoise's version leaks its lock when BEGIN fails; `BEGIN IMMEDIATE` can fail
        # ("database is locked" after the busy timeout), and a leaked lock hangs the process.
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> Any:
        return ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
