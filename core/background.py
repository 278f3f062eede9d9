"""Background writers: a bad row is set aside, counted and logged; the rows behind it go on.

A writer that retries a whole batch after any failure stops for good on one row the
database (or the serializer) will never accept. Writers therefore tell two kinds of
failure apart: the database being unreachable or busy (`is_transient`: retry later, keep
everything) and a row that fails on its own (`set_aside`: count it in
`shopgraph_background_rows_skipped_total{writer}`, log it, go on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Iterable

import asyncpg

from core import metrics

logger = logging.getLogger("shopgraph.background")

_TRANSIENT = (
    OSError,  # connection refused / reset, broken pipe
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # the connection is closed
    asyncpg.exceptions.OperatorInterventionError,  # server shutting down, query cancelled
    asyncpg.exceptions.InsufficientResourcesError,  # disk full, too many connections
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says "try again later" rather than "this row"."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def set_aside(writer: str, what: str, error: BaseException) -> None:
    """Count and log one row `writer` could not process."""
    metrics.skipped_row(writer)
    logger.error("%s: set aside %s: %s: %s", writer, what, type(error).__name__, error)


async def cancel_tasks(tasks: Iterable[asyncio.Task | None]) -> None:
    """Cancel background tasks and wait until each has stopped (all cancelled first, so
    they wind down together)."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError):
            await task
