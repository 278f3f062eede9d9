"""Looking at the database from outside the app's connections, as another process would."""

from __future__ import annotations

import sqlite3
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
