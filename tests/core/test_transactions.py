"""`atomic()`: after-commit callbacks, nesting, and SQLite's immediate write lock."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from tortoise import connections
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction

from core.transactions import atomic
from models import User
from tests.support.db import committed_value

COUNT_USERS = "SELECT COUNT(*) FROM users"


async def test_callbacks_run_after_the_commit_and_see_committed_rows(db, settings):
    seen: list[int] = []

    async def record(label: str) -> None:
        seen.append(await committed_value(settings, COUNT_USERS))

    async with atomic() as tx:
        await User.create(clerk_id="user_tx_1")
        tx.after_commit(record, "first")
        tx.after_commit(record, label="second")
        assert seen == []
    assert seen == [1, 1]


async def test_a_rollback_drops_the_callbacks_and_the_writes(db, settings):
    calls: list[str] = []

    async def record() -> None:
        calls.append("called")

    with pytest.raises(LookupError):
        async with atomic() as tx:
            await User.create(clerk_id="user_tx_2")
            tx.after_commit(record)
            raise LookupError("abort")
    assert calls == []
    assert await committed_value(settings, COUNT_USERS) == 0


async def test_nested_blocks_defer_to_the_outer_commit_and_roll_back_alone(db):
    calls: list[str] = []

    async def record(label: str) -> None:
        calls.append(label)

    async with atomic() as outer:
        outer.after_commit(record, "outer")
        async with atomic() as inner:
            await User.create(clerk_id="user_tx_kept")
            inner.after_commit(record, "inner kept")
        assert calls == []  # the savepoint is released, the transaction is not committed
        with pytest.raises(LookupError):
            async with atomic() as failed:
                await User.create(clerk_id="user_tx_dropped")
                failed.after_commit(record, "inner dropped")
                raise LookupError("abort the savepoint")
    assert calls == ["outer", "inner kept"]
    kept = await User.filter(clerk_id__startswith="user_tx_").values_list("clerk_id", flat=True)
    assert kept == ["user_tx_kept"]


async def test_a_failing_callback_is_logged_and_the_rest_still_run(db, caplog):
    calls: list[str] = []

    async def broken() -> None:
        raise RuntimeError("bus down")

    async def record() -> None:
        calls.append("after")

    with caplog.at_level(logging.ERROR, logger="shopgraph.transactions"):
        async with atomic() as tx:
            tx.after_commit(broken)
            tx.after_commit(record)
    assert calls == ["after"]
    assert "broken" in caplog.text


async def test_atomic_refuses_to_nest_in_a_bare_transaction(db):
    async with in_transaction():
        with pytest.raises(RuntimeError, match="nested"):
            async with atomic():
                pass


async def test_sqlite_transactions_hold_the_write_lock_from_the_start(db, settings):
    """With Tortoise's deferred BEGIN another connection could still take the write lock
    here, and this transaction would later fail to write (or decide on stale reads)."""
    if settings.is_postgres:
        pytest.skip("SQLite's transaction mode")
    path = settings.resolved_database_url.removeprefix("sqlite://")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        async with atomic():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once committed
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_begin_that_times_out_releases_the_connection(db, settings):
    """`BEGIN IMMEDIATE` can fail ("database is locked"); Tortoise's own transaction context
    would keep its connection lock then, and every later query would hang."""
    if settings.is_postgres:
        pytest.skip("SQLite's transaction mode")
    path = settings.resolved_database_url.removeprefix("sqlite://")
    conn = connections.get("default")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    await conn.execute_script("PRAGMA busy_timeout = 50")
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(TransactionManagementError, match="locked"):
            async with atomic():
                pass
        other.execute("ROLLBACK")
        async with asyncio.timeout(2), atomic():
            await User.create(clerk_id="user_after_timeout")
        assert await User.filter(clerk_id="user_after_timeout").exists()
    finally:
        other.close()
        await conn.execute_script("PRAGMA busy_timeout = 5000")
