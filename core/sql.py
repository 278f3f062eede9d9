"""Hand-written SQL for the two dialects we run on: bound parameters and small differences.

Used where Tortoise's query builder cannot express a query (keyset comparisons, full-text
ranking, date bucketing). Only fixed identifiers are ever spliced into SQL text; every value
goes through `param`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections


def on_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


# The tables `lock_row` may lock: identifiers are spliced into SQL, so only known ones.
LOCKABLE_TABLES = frozenset({"users", "products", "orders", "recommendation_learner"})


async def lock_row(table: str, row_id: int) -> bool:
    """Hold one row `FOR NO KEY UPDATE` until the current transaction ends (PostgreSQL);
    returns whether the row exists.

    Written by hand because Tortoise drops the lock clause from `values()`/`values_list()`
    queries: a `select_for_update()` chained with `values_list("id")` sends a plain `SELECT`,
    which locks nothing (tests/services/test_row_locks.py checks what is sent). `NO KEY`
    does not block the foreign-key checks of rows that reference this one. On SQLite
    the transaction already holds the database's write lock (`core.sqlite_client`).
    """
    if table not in LOCKABLE_TABLES:
        raise ValueError(f"lock_row does not lock {table!r}")
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        sql = f'SELECT 1 FROM "{table}" WHERE id = $1 FOR NO KEY UPDATE'  # noqa: S608
    else:
        sql = f'SELECT 1 FROM "{table}" WHERE id = ?'  # noqa: S608
    return bool(await conn.execute_query_dict(sql, [row_id]))


@dataclass
class SqlBuilder:
    """Collects bound parameters and hands out the dialect's placeholders."""

    postgres: bool = field(default_factory=on_postgres)
    params: list[Any] = field(default_factory=list)

    def param(self, value: Any, cast: str = "") -> str:
        if not self.postgres and isinstance(value, datetime):
            value = value.isoformat(sep=" ")  # SQLite compares timestamps as text
        self.params.append(value)
        return f"${len(self.params)}{cast}" if self.postgres else "?"

    def day(self, column: str) -> str:
        """The calendar day (UTC) of a timestamp column."""
        return f"date_trunc('day', {column})::date" if self.postgres else f"date({column})"

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        return await connections.get("default").execute_query_dict(sql, self.params)
